import { abortError, isRetryable } from "./failures.js";

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in total, the first included (1: no retry). */
  maxAttempts: number;
  /** Upper bound of the first backoff, in ms; doubles with every attempt. */
  initialBackoffMs: number;
  /** No backoff bound grows beyond this, in ms. */
  maxBackoffMs: number;
  /** Uniform random numbers in [0, 1), injectable for deterministic tests. */
  random?: () => number;
  /** Asked before every retry (not the first attempt); false stops retrying (e.g. no rate-limit token left). */
  mayRetry?: () => boolean;
  /** Told of every retry before its backoff. */
  onRetry?: (attempt: number, error: unknown, backoffMs: number) => void;
}

/**
 * "Full jitter" backoff (AWS Architecture Blog, Exponential Backoff and Jitter, 2015): the
 * wait before retry n is uniform in [0, min(max, initial·2ⁿ⁻¹)). Spreading retries over the
 * whole interval, rather than around its end, keeps a crowd of clients from retrying in step.
 */
export function fullJitterBackoff(retryNumber: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** (retryNumber - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Calls `attempt` until it succeeds, fails with a non-retryable error (see `isRetryable`),
 * `maxAttempts` is reached, `mayRetry` says no, or `signal` aborts. Rejects with the last
 * attempt's error.
 *
 *   await retry((n) => callOrigin(), { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 1000 }, signal);
 */
export async function retry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
  signal: AbortSignal,
): Promise<T> {
  const random = options.random ?? Math.random;
  const attempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= attempts || signal.aborted || !isRetryable(error)) throw error;
      if (options.mayRetry && !options.mayRetry()) throw error;
      const backoffMs = fullJitterBackoff(n, options, random);
      options.onRetry?.(n + 1, error, backoffMs);
      await sleep(backoffMs, signal);
    }
  }
}

/** Waits `ms`, or rejects when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
