/**
 * The {@link dev.slotted.worker.supervise.WorkerSupervisor} and its worker children.
 *
 * <p>Wiring at start, before any actor runs a job:
 *
 * <pre>{@code
 * WorkerSettings ws = WorkerSettings.fromConfig(config);
 * PidRegistry pids = PidRegistry.open(ws.pidDir());
 * OrphanReaper.reap(pids, Duration.ofSeconds(10));          // kill what a crashed life left behind
 * HandlerRegistry handlers = HandlerRegistry.fromConfig(config, pids, handlersFromCode);
 * ActorRef<WorkerProtocol.Command> workers =
 *     ctx.spawn(WorkerSupervisor.create(ws, handlers, Clock.systemUTC(), metrics), "workers");
 * }</pre>
 */
package dev.slotted.worker.supervise;
