import { describe, expect, it, vi } from "vitest";
import { ManualClock } from "../../../src/engine/clock.js";
import type { Loader, LoadResult } from "../../../src/engine/loader.js";
import { CacheError, Status } from "../../../src/errors.js";
import { DeadLetterLoader, DeadLetterLog } from "../../../src/loaders/dead-letters.js";
import { RejectedBy, rejection } from "../../../src/loaders/failures.js";
import { RefreshThrottlingLoader } from "../../../src/loaders/refresh-throttle.js";

const ctx = () => ({ signal: new AbortController().signal });

/** The error a promise rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    return error as CacheError;
  }
  throw new Error("expected the call to fail");
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

class CountingOrigin implements Loader {
  loads: string[] = [];
  failing: Error | undefined;
  async load(_ns: string, key: string): Promise<LoadResult> {
    this.loads.push(key);
    if (this.failing) throw this.failing;
    return { found: true };
  }
  async loadMany(_ns: string, keys: readonly string[]) {
    this.loads.push(...keys);
    return new Map<string, LoadResult | Error>(keys.map((k) => [k, { found: true }]));
  }
}

describe("RefreshThrottlingLoader", () => {
  it("loads a key at most once per interval; the refusal says throttled", async () => {
    const clock = new ManualClock(0);
    const origin = new CountingOrigin();
    const loader = new RefreshThrottlingLoader(origin, { intervalMs: 1000, clock });
    await loader.load("ns", "hot", ctx());
    clock.advance(400);
    const refused = await failure(loader.load("ns", "hot", ctx()));
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(refused.message).toMatch(/refreshed less than 1000 ms ago/);
    expect(refused.details).toMatchObject({ throttled: "true", rejectedBy: RejectedBy.REFRESH_THROTTLE });
    await loader.load("ns", "other", ctx());
    clock.advance(600);
    await loader.load("ns", "hot", ctx());
    expect(origin.loads).toEqual(["hot", "other", "hot"]);
    expect(loader.throttled).toBe(1);
  });

  it("throttles per key inside loadMany", async () => {
    const clock = new ManualClock(0);
    const origin = new CountingOrigin();
    const loader = new RefreshThrottlingLoader(origin, { intervalMs: 1000, clock });
    await loader.load("ns", "a", ctx());
    const out = await loader.loadMany?.("ns", ["a", "b"], ctx());
    expect(out?.get("a")).toBeInstanceOf(CacheError);
    expect(out?.get("b")).toEqual({ found: true });
    expect(origin.loads).toEqual(["a", "b"]);
  });

  it("lets a load through when the context says nothing stale exists", async () => {
    const loader = new RefreshThrottlingLoader(new CountingOrigin(), { intervalMs: 1000, clock: new ManualClock(0) });
    await loader.load("ns", "a", ctx());
    await expect(loader.load("ns", "a", { ...ctx(), hasStale: false })).resolves.toEqual({ found: true });
  });

  it("keeps memory bounded", async () => {
    const clock = new ManualClock(0);
    const loader = new RefreshThrottlingLoader(new CountingOrigin(), { intervalMs: 1_000_000, maxKeys: 50, clock });
    for (let i = 0; i < 1000; i++) await loader.load("ns", `k${i}`, ctx());
    expect(loader.size).toBe(50);
    clock.advance(2_000_000);
    await loader.load("ns", "fresh", ctx());
    expect(loader.size).toBe(1);
  });
});

describe("DeadLetterLog", () => {
  it("records a key after N failures within the window, publishes once, updates the record", async () => {
    const clock = new ManualClock(1_000);
    const publish = vi.fn();
    const log = new DeadLetterLog({ maxFailures: 3, windowMs: 10_000, clock, publish });
    log.recordFailure("ns", "k", new CacheError(Status.UNAVAILABLE, "first"));
    clock.advance(100);
    log.recordFailure("ns", "k", new CacheError(Status.UNAVAILABLE, "second"));
    expect(log.list()).toEqual([]);
    clock.advance(100);
    log.recordFailure("ns", "k", new CacheError(Status.DEADLINE_EXCEEDED, "third"));
    const expected = {
      namespace: "ns",
      key: "k",
      lastError: "third",
      lastErrorCode: Status.DEADLINE_EXCEEDED,
      failures: 3,
      firstFailure: 1_000,
      lastFailure: 1_200,
    };
    expect(log.list()).toEqual([expected]);
    log.recordFailure("ns", "k", new Error("fourth"));
    await flush();
    expect(publish).toHaveBeenCalledTimes(1);
    expect(publish).toHaveBeenCalledWith(expected);
    expect(log.list()[0]).toMatchObject({ failures: 4, lastError: "fourth", lastErrorCode: Status.UNKNOWN });
  });

  it("starts over after a success or when the window has passed", () => {
    const clock = new ManualClock(0);
    const log = new DeadLetterLog({ maxFailures: 2, windowMs: 1000, clock });
    log.recordFailure("ns", "a", new Error("x"));
    log.recordSuccess("ns", "a");
    log.recordFailure("ns", "a", new Error("x"));
    clock.advance(1001);
    log.recordFailure("ns", "a", new Error("x"));
    expect(log.list()).toEqual([]);
    log.recordFailure("ns", "a", new Error("x"));
    expect(log.list()).toHaveLength(1);
  });

  it("keeps a bounded ring and bounded tracking", () => {
    const log = new DeadLetterLog({ maxFailures: 1, capacity: 10, maxTrackedKeys: 20, clock: new ManualClock(0) });
    for (let i = 0; i < 100; i++) log.recordFailure("ns", `k${i}`, new Error("x"));
    const keys = log.list().map((r) => r.key);
    expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `k${90 + i}`));
    expect(log.trackedKeys).toBe(20);
    expect(log.list("other")).toEqual([]);
  });

  it("never lets the publish hook block or fail a load", async () => {
    const errors: unknown[] = [];
    const throwing = new DeadLetterLog({
      maxFailures: 1,
      publish: () => {
        throw new Error("kafka down");
      },
      onPublishError: (error) => errors.push(error),
    });
    const rejecting = new DeadLetterLog({
      maxFailures: 1,
      publish: () => Promise.reject(new Error("kafka slow")),
      onPublishError: (error) => errors.push(error),
    });
    const hanging = new DeadLetterLog({ maxFailures: 1, publish: () => new Promise<void>(() => {}) });
    for (const log of [throwing, rejecting, hanging]) {
      const origin = new CountingOrigin();
      origin.failing = new CacheError(Status.UNAVAILABLE, "down");
      await expect(new DeadLetterLoader(origin, log).load("ns", "k", ctx())).rejects.toThrow("down");
    }
    await flush();
    expect(errors.map((e) => (e as Error).message)).toEqual(["kafka down", "kafka slow"]);
    expect(throwing.publishCounts()).toEqual({ published: 1, failed: 1 });
  });
});

describe("DeadLetterLoader", () => {
  it("counts origin failures, not local refusals; a success resets", async () => {
    const origin = new CountingOrigin();
    const log = new DeadLetterLog({ maxFailures: 2 });
    const loader = new DeadLetterLoader(origin, log);
    origin.failing = rejection(Status.UNAVAILABLE, RejectedBy.BREAKER, "open");
    for (let i = 0; i < 5; i++) await loader.load("ns", "k", ctx()).catch(() => {});
    expect(log.list()).toEqual([]);
    origin.failing = new CacheError(Status.UNAVAILABLE, "down");
    await loader.load("ns", "k", ctx()).catch(() => {});
    origin.failing = undefined;
    await loader.load("ns", "k", ctx());
    origin.failing = new CacheError(Status.UNAVAILABLE, "down");
    await loader.load("ns", "k", ctx()).catch(() => {});
    expect(log.list()).toEqual([]);
    await loader.load("ns", "k", ctx()).catch(() => {});
    expect(log.list()).toMatchObject([{ key: "k", failures: 2, lastError: "down" }]);
  });
});
