import { CacheError, Status } from "../errors.js";
import type { Scheduler } from "./clock.js";

/** The promise's value, or `fallback()` if `ms` pass first on the scheduler (the promise goes on). */
export function raceTimer<T>(scheduler: Scheduler, promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = scheduler.schedule(ms, () => resolve(fallback()));
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

/** Waits for a shared promise, but lets this caller leave when its signal aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function abortReason(signal: AbortSignal): CacheError {
  const reason: unknown = signal.reason;
  if (reason instanceof CacheError) return reason;
  return new CacheError(Status.CANCELLED, "the caller stopped waiting before the value was loaded");
}
