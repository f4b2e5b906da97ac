import { CacheError, Status } from "../errors.js";
import type { Scheduler } from "./clock.js";

/** A load running now: its signal's controller, and how to make its waiters give up. */
interface RunningLoad {
  controller: AbortController;
  abandon: (reason: unknown) => void;
}

/**
 * Bounds every origin call in time: past its namespace's hard timeout, or when the engine
 * closes, a load is abandoned (its waiters get the error) and its signal aborted (origin calls
 * listen to it), whether or not the loader gives up.
 */
export class LoadDeadlines {
  private readonly running = new Set<RunningLoad>();
  /** Why the engine was closed; loads started after that are abandoned at once. */
  private closedWith: unknown;

  constructor(private readonly scheduler: Scheduler) {}

  /** Runs a load of `namespace` under its hard timeout (`hardMs`, 0 for none). */
  async run<T>(namespace: string, hardMs: number, load: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (this.closedWith !== undefined) controller.abort(this.closedWith);
    let abandon: (reason: unknown) => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    const running = { controller, abandon };
    this.running.add(running);
    const cancel =
      hardMs > 0
        ? this.scheduler.schedule(hardMs, () => {
            const error = new CacheError(
              Status.DEADLINE_EXCEEDED,
              `the loader of namespace ${namespace} did not answer within its hard timeout of ${hardMs} ms`,
            );
            controller.abort(error);
            abandon(error);
          })
        : undefined;
    try {
      return await Promise.race([load(controller.signal), abandoned]);
    } finally {
      cancel?.();
      this.running.delete(running);
    }
  }

  /** Abandons every load running now and every later one, with `reason`. */
  close(reason: unknown = new CacheError(Status.UNAVAILABLE, "the cache is shutting down")): void {
    this.closedWith = reason;
    for (const { controller, abandon } of this.running) {
      controller.abort(reason);
      abandon(reason);
    }
  }
}
