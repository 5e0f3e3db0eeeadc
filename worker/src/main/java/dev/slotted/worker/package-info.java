/**
 * The handler SPI: what a queue runs (DESIGN §5).
 *
 * <p>A {@link dev.slotted.worker.JobHandler} runs one attempt, blocking, on the workers' blocking
 * dispatcher; an {@link dev.slotted.worker.AsyncJobHandler} starts it and completes a stage instead
 * (no thread held while it waits). Each attempt gets a {@link dev.slotted.worker.JobContext}: the
 * claimed job, payload, attempt number, lease token, idempotency key, its own log file, its
 * deadline and its {@link dev.slotted.worker.Cancellation}. It ends with a {@link
 * dev.slotted.worker.JobResult}, or an exception ({@link dev.slotted.worker.NonRetryableException}
 * for failures another attempt cannot fix).
 */
package dev.slotted.worker;
