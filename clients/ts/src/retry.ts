import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";

/** How UNAVAILABLE calls are retried: exponential backoff with full jitter. */
export interface RetryPolicy {
  /** Attempts in total, the first included (1: no retry). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Codes worth another attempt: the server was not reached or is restarting. */
const RETRYABLE = new Set([Code.Unavailable]);

/**
 * Runs `attempt` until it succeeds, fails with a code that is not retryable, or the attempts
 * run out; waits `random(0, min(max, initial * 2^n))` between attempts (full jitter).
 */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const code = ConnectError.from(error).code;
      if (n >= policy.maxAttempts || !RETRYABLE.has(code) || signal?.aborted) throw error;
      const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (n - 1));
      await sleep(Math.random() * ceiling, undefined, signal ? { signal } : {});
    }
  }
}
