/** Records and sealed interfaces shared by the orchestrator and the workers. */
package dev.slotted.protocol;
