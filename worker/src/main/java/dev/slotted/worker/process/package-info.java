/**
 * Child processes: terminating a whole process tree (SIGTERM, then SIGKILL), recording the pids a
 * runner started, and killing the orphans a crashed runner left behind.
 */
package dev.slotted.worker.process;
