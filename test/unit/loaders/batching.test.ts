import { describe, expect, it } from "vitest";
import type { LoadContext, Loader, LoadResult } from "../../../src/engine/loader.js";
import { CacheError, Status } from "../../../src/errors.js";
import { BatchingLoader } from "../../../src/loaders/batching.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const ctx = (signal = new AbortController().signal): LoadContext => ({ signal });

class BulkOrigin implements Loader {
  batches: string[][] = [];
  signals: AbortSignal[] = [];
  failWhole: Error | undefined;
  gate: Promise<void> | undefined;
  async load(): Promise<LoadResult> {
    throw new Error("single loads are not expected");
  }
  async loadMany(_ns: string, keys: readonly string[], context: LoadContext) {
    this.batches.push([...keys]);
    this.signals.push(context.signal);
    if (this.gate) await this.gate;
    if (this.failWhole) throw this.failWhole;
    const out = new Map<string, LoadResult | Error>();
    for (const key of keys) {
      if (key.startsWith("bad")) out.set(key, new CacheError(Status.INTERNAL, `cannot load ${key}`));
      else if (!key.startsWith("absent")) out.set(key, { found: true, value: bytes(`v-${key}`) });
    }
    return out;
  }
}

describe("BatchingLoader", () => {
  it("gathers concurrent loads into one loadMany; each caller gets its own key's outcome", async () => {
    const origin = new BulkOrigin();
    const loader = new BatchingLoader(origin, { windowMs: 5, maxBatchSize: 100 });
    const outcomes = await Promise.allSettled([
      loader.load("ns", "a", ctx()),
      loader.load("ns", "b", ctx()),
      loader.load("ns", "a", ctx()),
      loader.load("ns", "absent-1", ctx()),
      loader.load("ns", "bad-1", ctx()),
    ]);
    expect(origin.batches).toEqual([["a", "b", "absent-1", "bad-1"]]);
    const [a, b, a2, absent, bad] = outcomes;
    expect(a).toMatchObject({ status: "fulfilled", value: { found: true, value: bytes("v-a") } });
    expect(b).toMatchObject({ status: "fulfilled", value: { found: true, value: bytes("v-b") } });
    expect(a2).toMatchObject({ status: "fulfilled", value: { found: true, value: bytes("v-a") } });
    expect(absent).toEqual({ status: "fulfilled", value: { found: false } });
    expect(bad.status === "rejected" && (bad.reason as CacheError).code).toBe(Status.INTERNAL);
    expect(loader.counters()).toEqual({ loads: 5, batches: 1, keysBatched: 4, duplicates: 1 });
  });

  it("sends a batch as soon as it reaches maxBatchSize", async () => {
    const origin = new BulkOrigin();
    const loader = new BatchingLoader(origin, { windowMs: 50, maxBatchSize: 3 });
    const loads = ["a", "b", "c", "d"].map((key) => loader.load("ns", key, ctx()));
    await Promise.all(loads.slice(0, 3));
    // The full batch went out at once; "d" still waits for its window.
    expect(origin.batches).toEqual([["a", "b", "c"]]);
    await loads[3];
    expect(origin.batches).toEqual([["a", "b", "c"], ["d"]]);
  });

  it("joins a key whose batch is already under way", async () => {
    const origin = new BulkOrigin();
    let open: () => void = () => {};
    origin.gate = new Promise((resolve) => {
      open = resolve;
    });
    const loader = new BatchingLoader(origin, { windowMs: 1 });
    const first = loader.load("ns", "a", ctx());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(origin.batches).toEqual([["a"]]);
    const joined = loader.load("ns", "a", ctx());
    const other = loader.load("ns", "b", ctx());
    open();
    await expect(Promise.all([first, joined, other])).resolves.toHaveLength(3);
    expect(origin.batches).toEqual([["a"], ["b"]]);
    // Once answered, the key is asked again.
    await loader.load("ns", "a", ctx());
    expect(origin.batches).toEqual([["a"], ["b"], ["a"]]);
  });

  it("keeps namespaces apart", async () => {
    const origin = new BulkOrigin();
    const loader = new BatchingLoader(origin, { windowMs: 2 });
    await Promise.all([loader.load("one", "a", ctx()), loader.load("two", "a", ctx())]);
    expect(origin.batches).toEqual([["a"], ["a"]]);
  });

  it("gives every caller the error when the whole call fails", async () => {
    const origin = new BulkOrigin();
    origin.failWhole = new CacheError(Status.UNAVAILABLE, "origin down");
    const loader = new BatchingLoader(origin);
    const outcomes = await Promise.allSettled([loader.load("ns", "a", ctx()), loader.load("ns", "b", ctx())]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(origin.batches).toHaveLength(1);
  });

  it("lets an aborted caller leave; cancels the call when nobody waits", async () => {
    const origin = new BulkOrigin();
    let open: () => void = () => {};
    origin.gate = new Promise((resolve) => {
      open = resolve;
    });
    const loader = new BatchingLoader(origin, { windowMs: 1 });
    const first = new AbortController();
    const second = new AbortController();
    const a = loader.load("ns", "a", ctx(first.signal));
    const b = loader.load("ns", "b", ctx(second.signal));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(origin.batches).toHaveLength(1);
    first.abort(new CacheError(Status.CANCELLED, "first left"));
    await expect(a).rejects.toThrow("first left");
    expect(origin.signals[0]?.aborted).toBe(false);
    second.abort(new CacheError(Status.CANCELLED, "second left"));
    await expect(b).rejects.toThrow("second left");
    expect(origin.signals[0]?.aborted).toBe(true);
    open();
  });

  it("an abandoned open batch does not swallow later loads", async () => {
    const origin = new BulkOrigin();
    const loader = new BatchingLoader(origin, { windowMs: 20 });
    const gone = new AbortController();
    const a = loader.load("ns", "a", ctx(gone.signal));
    gone.abort();
    await expect(a).rejects.toBeDefined();
    await expect(loader.load("ns", "b", ctx())).resolves.toMatchObject({ found: true });
    expect(origin.batches).toEqual([["b"]]);
  });

  it("passes through when the inner loader has no loadMany", async () => {
    let calls = 0;
    const loader = new BatchingLoader({
      load: async () => {
        calls++;
        return { found: false };
      },
    });
    await Promise.all([loader.load("ns", "a", ctx()), loader.load("ns", "a", ctx())]);
    expect(calls).toBe(2);
    expect(loader.loadMany).toBeUndefined();
  });

  it("splits a direct loadMany into chunks of maxBatchSize", async () => {
    const origin = new BulkOrigin();
    const loader = new BatchingLoader(origin, { maxBatchSize: 2 });
    const out = await loader.loadMany?.("ns", ["a", "b", "c", "a"], ctx());
    expect(origin.batches).toEqual([["a", "b"], ["c"]]);
    expect([...(out?.keys() ?? [])].sort()).toEqual(["a", "b", "c"]);
  });
});
