import { afterEach, describe, expect, it } from "vitest";
import type { Loader, LoadResult } from "../../../src/engine/loader.js";
import { CacheError, Status } from "../../../src/errors.js";
import { RejectedBy } from "../../../src/loaders/failures.js";
import { ResilientLoader } from "../../../src/loaders/resilient-loader.js";

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
const bytes = (s: string) => new TextEncoder().encode(s);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An in-process origin whose failures the test switches. */
class SwitchableOrigin implements Loader {
  calls = 0;
  failWith: CacheError | undefined;
  async load(_ns: string, key: string): Promise<LoadResult> {
    this.calls++;
    if (this.failWith) throw this.failWith;
    if (key.startsWith("absent")) return { found: false };
    return { found: true, value: bytes(key) };
  }
}

const open: ResilientLoader[] = [];
function guarded(origin: Loader, options: Partial<ConstructorParameters<typeof ResilientLoader>[1]> = {}) {
  const loader = new ResilientLoader(origin, {
    name: "origin for namespace t",
    breaker: { errorThresholdPercent: 50, volumeThreshold: 4, resetTimeoutMs: 80, rollingWindowMs: 10_000 },
    ...options,
  });
  open.push(loader);
  return loader;
}
afterEach(() => {
  for (const loader of open.splice(0)) loader.close();
});

describe("ResilientLoader", () => {
  it("opens the breaker after the configured failures, fails fast with UNAVAILABLE and breakerState", async () => {
    const origin = new SwitchableOrigin();
    const loader = guarded(origin);
    const states: string[] = [];
    loader.onBreakerStateChange((state) => states.push(state));
    origin.failWith = new CacheError(Status.UNAVAILABLE, "origin down");
    for (let i = 0; i < 4; i++) await expect(loader.load("t", "k", ctx())).rejects.toThrow("origin down");
    expect(loader.breakerState()).toBe("open");
    const callsWhenOpened = origin.calls;
    const refused = await failure(loader.load("t", "k", ctx()));
    expect(refused.code).toBe(Status.UNAVAILABLE);
    expect(refused.message).toMatch(/^origin for namespace t is unavailable: circuit breaker open/);
    expect(refused.details).toMatchObject({ breakerState: "open", rejectedBy: RejectedBy.BREAKER });
    expect(origin.calls).toBe(callsWhenOpened);
    expect(loader.counters()).toMatchObject({ calls: 5, failures: 4, rejectedByBreaker: 1 });

    // After the reset timeout: half-open, one trial; success closes.
    await sleep(120);
    expect(loader.breakerState()).toBe("half-open");
    origin.failWith = undefined;
    await expect(loader.load("t", "k", ctx())).resolves.toMatchObject({ found: true });
    expect(loader.breakerState()).toBe("closed");
    expect(states).toEqual(["open", "half-open", "closed"]);
  });

  it("a failed half-open trial opens the breaker again", async () => {
    const origin = new SwitchableOrigin();
    const loader = guarded(origin);
    origin.failWith = new CacheError(Status.UNAVAILABLE, "down");
    for (let i = 0; i < 4; i++) await loader.load("t", "k", ctx()).catch(() => {});
    await sleep(120);
    expect(loader.breakerState()).toBe("half-open");
    await expect(loader.load("t", "k", ctx())).rejects.toThrow("down");
    expect(loader.breakerState()).toBe("open");
  });

  it("does not count not-found answers or NOT_FOUND errors as breaker failures", async () => {
    const origin = new SwitchableOrigin();
    const loader = guarded(origin);
    for (let i = 0; i < 10; i++)
      await expect(loader.load("t", `absent-${i}`, ctx())).resolves.toEqual({ found: false });
    origin.failWith = new CacheError(Status.NOT_FOUND, "gone");
    for (let i = 0; i < 10; i++) await loader.load("t", "k", ctx()).catch(() => {});
    expect(loader.breakerState()).toBe("closed");
    expect(loader.counters().failures).toBe(0);
  });

  it("fails fast with RESOURCE_EXHAUSTED past the rate limit, and retries take tokens too", async () => {
    const origin = new SwitchableOrigin();
    const loader = guarded(origin, {
      rateLimit: { perSecond: 0.001, burst: 4 },
      retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 1 },
    });
    origin.failWith = new CacheError(Status.UNAVAILABLE, "down");
    // 4 tokens: the first call takes one and retries with two more, the second gets the last.
    await loader.load("t", "a", ctx()).catch(() => {});
    await loader.load("t", "b", ctx()).catch(() => {});
    const refused = await failure(loader.load("t", "c", ctx()));
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(refused.details.rejectedBy).toBe(RejectedBy.RATE_LIMIT);
    expect(origin.calls).toBe(4);
    expect(loader.counters()).toMatchObject({ rejectedByRateLimit: 1, retries: 2, retriesDenied: 1 });
  });

  it("refuses past the concurrency queue with RESOURCE_EXHAUSTED", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Loader = {
      load: async () => {
        await gate;
        return { found: true, value: bytes("v") };
      },
    };
    const loader = guarded(slow, { maxConcurrency: 1, maxQueue: 1 });
    const first = loader.load("t", "a", ctx());
    const second = loader.load("t", "b", ctx());
    await expect(loader.load("t", "c", ctx())).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    release();
    await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    expect(loader.counters().rejectedByConcurrency).toBe(1);
  });

  it("times out each attempt and retries it", async () => {
    let calls = 0;
    const hangsOnce: Loader = {
      load: async () => {
        if (++calls === 1) return new Promise<never>(() => {});
        return { found: true, value: bytes("late") };
      },
    };
    const loader = guarded(hangsOnce, {
      attemptTimeoutMs: 20,
      retry: { maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 1 },
    });
    await expect(loader.load("t", "k", ctx())).resolves.toMatchObject({ found: true });
    expect(calls).toBe(2);
  });

  it("guards loadMany as one call and keeps per-key errors", async () => {
    let bulkCalls = 0;
    const bulk: Loader = {
      load: async () => ({ found: false }),
      loadMany: async (_ns, keys) => {
        bulkCalls++;
        return new Map<string, LoadResult | Error>(
          keys.map((k) => [k, k === "bad" ? new CacheError(Status.INTERNAL, "bad key") : { found: true }]),
        );
      },
    };
    const loader = guarded(bulk);
    const out = await loader.loadMany?.("t", ["a", "bad"], ctx());
    expect(out?.get("a")).toEqual({ found: true });
    expect(out?.get("bad")).toBeInstanceOf(CacheError);
    expect(bulkCalls).toBe(1);
    expect(guarded({ load: bulk.load }).loadMany).toBeUndefined();
  });
});
