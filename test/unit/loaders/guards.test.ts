import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/engine/clock.js";
import { TokenBucket } from "../../../src/engine/token-bucket.js";
import { CacheError, Status } from "../../../src/errors.js";
import { withAttemptTimeout } from "../../../src/loaders/attempt-timeout.js";
import { Semaphore } from "../../../src/loaders/concurrency.js";
import { isOriginFailure, isRetryable, RejectedBy, rejection } from "../../../src/loaders/failures.js";
import { fullJitterBackoff, retry } from "../../../src/loaders/retry.js";

const never = () => new AbortController().signal;

describe("TokenBucket", () => {
  it("allows a burst, then refills at the rate", () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ perSecond: 10, burst: 3, clock });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    expect(bucket.msUntilNext()).toBe(100);
    clock.advance(99);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
    clock.advance(10_000);
    expect(bucket.available()).toBe(3);
  });

  it("grants at most burst + rate × time over a period", () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket({ perSecond: 5, burst: 2, clock });
    let granted = 0;
    for (let t = 0; t < 2000; t++) {
      if (bucket.tryTake()) granted++;
      clock.advance(1);
    }
    expect(granted).toBeLessThanOrEqual(2 + 5 * 2);
    expect(granted).toBeGreaterThanOrEqual(10);
  });
});

describe("Semaphore", () => {
  it("caps concurrency, queues FIFO, refuses past the queue bound", async () => {
    const semaphore = new Semaphore({ maxConcurrent: 2, maxQueue: 1, name: "origin for namespace t" });
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const order: string[] = [];
    const c = semaphore.acquire().then((release) => {
      order.push("c");
      return release;
    });
    const refused = await semaphore.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CacheError);
    expect((refused as CacheError).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect((refused as CacheError).details.rejectedBy).toBe(RejectedBy.CONCURRENCY);
    expect(semaphore.waiting).toBe(1);
    a();
    a(); // a second release is ignored
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect(semaphore.active).toBe(2);
    b();
    releaseC();
    expect(semaphore.active).toBe(0);
  });

  it("lets an aborted waiter leave the queue", async () => {
    const semaphore = new Semaphore({ maxConcurrent: 1 });
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new CacheError(Status.CANCELLED, "gone"));
    await expect(waiting).rejects.toMatchObject({ code: Status.CANCELLED });
    expect(semaphore.waiting).toBe(0);
    release();
    expect(semaphore.active).toBe(0);
  });
});

describe("failure classification", () => {
  it("retries origin trouble, never caller errors or local refusals", () => {
    expect(isRetryable(new CacheError(Status.UNAVAILABLE, "down"))).toBe(true);
    expect(isRetryable(new CacheError(Status.DEADLINE_EXCEEDED, "slow"))).toBe(true);
    expect(isRetryable(new Error("ECONNRESET"))).toBe(true);
    expect(isRetryable(new CacheError(Status.NOT_FOUND, "no"))).toBe(false);
    expect(isRetryable(new CacheError(Status.INVALID_ARGUMENT, "bad"))).toBe(false);
    expect(isRetryable(rejection(Status.UNAVAILABLE, RejectedBy.BREAKER, "open"))).toBe(false);
    expect(isOriginFailure(new CacheError(Status.NOT_FOUND, "no"))).toBe(false);
    expect(isOriginFailure(new CacheError(Status.INTERNAL, "boom"))).toBe(true);
    expect(isOriginFailure(rejection(Status.RESOURCE_EXHAUSTED, RejectedBy.RATE_LIMIT, "slow down"))).toBe(false);
  });
});

describe("retry", () => {
  it("full jitter: each wait is uniform below min(max, initial·2ⁿ⁻¹)", () => {
    const options = { maxAttempts: 10, initialBackoffMs: 50, maxBackoffMs: 1000 };
    expect(fullJitterBackoff(1, options, () => 0.999)).toBe(49);
    expect(fullJitterBackoff(3, options, () => 0.999)).toBe(199);
    expect(fullJitterBackoff(8, options, () => 0.999)).toBe(999);
    expect(fullJitterBackoff(8, options, () => 0)).toBe(0);
  });

  it("retries retryable failures up to maxAttempts, with the last error", async () => {
    let calls = 0;
    const backoffs: number[] = [];
    const failing = retry(
      async () => {
        calls++;
        throw new CacheError(Status.UNAVAILABLE, `down #${calls}`);
      },
      {
        maxAttempts: 3,
        initialBackoffMs: 4,
        maxBackoffMs: 8,
        random: () => 0.5,
        onRetry: (_, __, ms) => backoffs.push(ms),
      },
      never(),
    );
    await expect(failing).rejects.toThrow("down #3");
    expect(calls).toBe(3);
    expect(backoffs).toEqual([2, 4]);
  });

  it("does not retry NOT_FOUND or INVALID_ARGUMENT", async () => {
    for (const code of [Status.NOT_FOUND, Status.INVALID_ARGUMENT]) {
      let calls = 0;
      await expect(
        retry(
          async () => {
            calls++;
            throw new CacheError(code, "no");
          },
          { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 1 },
          never(),
        ),
      ).rejects.toMatchObject({ code });
      expect(calls).toBe(1);
    }
  });

  it("stops when mayRetry says no (no rate-limit token)", async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new CacheError(Status.UNAVAILABLE, "down");
        },
        { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 1, mayRetry: () => calls < 2 },
        never(),
      ),
    ).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(calls).toBe(2);
  });

  it("succeeds on a later attempt", async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        if (++calls < 3) throw new CacheError(Status.UNAVAILABLE, "flap");
        return "ok";
      },
      { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
      never(),
    );
    expect(value).toBe("ok");
    expect(calls).toBe(3);
  });
});

describe("withAttemptTimeout", () => {
  it("abandons a hanging attempt with DEADLINE_EXCEEDED and aborts its signal", async () => {
    let seen: AbortSignal | undefined;
    const attempt = withAttemptTimeout(
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      20,
      never(),
      "origin for namespace t",
    );
    await expect(attempt).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(seen?.aborted).toBe(true);
  });

  it("passes the parent's abort reason through", async () => {
    const parent = new AbortController();
    const attempt = withAttemptTimeout(() => new Promise<never>(() => {}), 0, parent.signal, "o");
    parent.abort(new CacheError(Status.DEADLINE_EXCEEDED, "engine hard timeout"));
    await expect(attempt).rejects.toThrow("engine hard timeout");
  });
});
