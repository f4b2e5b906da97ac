// The one clock of a history: every time in it (operations, origin events, faults) is read
// here, in the checker process, so times from different sources compare.

import { performance } from "node:perf_hooks";

/** Milliseconds on a monotonic clock anchored at the process's start (comparable to wall time). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolves after `ms` milliseconds; an aborted `signal` resolves it early. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Polls `condition` every `intervalMs` until it holds (true) or `timeoutMs` passed (false). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
