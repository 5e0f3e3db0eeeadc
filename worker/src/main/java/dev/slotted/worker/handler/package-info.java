/**
 * The built-in handlers (shell, http, java class, noop, sleep) and the {@link
 * dev.slotted.worker.handler.HandlerRegistry} that binds each queue to its handler from {@code
 * slotted.queues.<name>.handler} or from code.
 */
package dev.slotted.worker.handler;
