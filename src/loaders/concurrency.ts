import { Status } from "../errors.js";
import { abortError, RejectedBy, rejection } from "./failures.js";

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions {
  /** Calls running at once. */
  maxConcurrent: number;
  /** Calls waiting for a slot; one more is refused. Default: `4 × maxConcurrent`. */
  maxQueue?: number;
  /** Names the origin in error messages. */
  name?: string;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A concurrency cap with a bounded FIFO wait queue. `acquire` resolves to a release function
 * once a slot is free; with the queue full it fails fast with RESOURCE_EXHAUSTED, and a
 * waiter whose signal aborts leaves the queue.
 *
 *   const release = await semaphore.acquire(signal);
 *   try { return await call(); } finally { release(); }
 */
export class Semaphore {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  private readonly name: string;
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(options: SemaphoreOptions) {
    if (!(options.maxConcurrent >= 1)) throw new RangeError("maxConcurrent must be at least 1");
    this.maxConcurrent = Math.floor(options.maxConcurrent);
    this.maxQueue = Math.max(0, Math.floor(options.maxQueue ?? 4 * this.maxConcurrent));
    this.name = options.name ?? "origin";
  }

  /** Calls holding a slot now. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Waits for a slot; resolves to the function that gives it back (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        rejection(
          Status.RESOURCE_EXHAUSTED,
          RejectedBy.CONCURRENCY,
          `${this.name} has ${this.running} calls running and ${this.queue.length} waiting (max_concurrency ${this.maxConcurrent}); retry later or raise max_concurrency`,
        ),
      );
    }
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          reject(abortError(signal as AbortSignal));
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (!next) {
        this.running--;
        return;
      }
      // The slot passes straight to the next waiter; `running` stays the same.
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.releaser());
    };
  }
}
