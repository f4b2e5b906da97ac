import { getEventListeners } from "node:events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import type { Loader, LoadResult } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { CacheError, Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** A loader that counts calls and answers `value-of-KEY@N`, or fails while `failing` is set. */
class CountingLoader implements Loader {
  calls = 0;
  failing = false;
  pending: Array<() => void> = [];
  /** When true, loads wait until `release()`. */
  hold = false;
  async load(_namespace: string, key: string): Promise<LoadResult> {
    this.calls++;
    const n = this.calls;
    if (this.hold) await new Promise<void>((resolve) => this.pending.push(resolve));
    if (this.failing) throw new Error("origin down");
    if (key.startsWith("absent")) return { found: false };
    return { found: true, value: bytes(`value-of-${key}@${n}`) };
  }
  release(): void {
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

function settings(change: (s: NamespaceSettings) => void = () => {}): NamespaceSettings {
  const s = defaultSettings();
  s.l1.jitter = 0;
  s.l2.jitter = 0;
  change(s);
  return s;
}

function setup(change?: (s: NamespaceSettings) => void, options: { maxNamespaces?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const loader = new CountingLoader();
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 * 1024 * 1024, maxEntries: 100_000, clock }),
    policies: new PolicyStore(settings(change)),
    loaderFor: (ns) => (ns === "noloader" ? undefined : loader),
    clock,
    random: () => 0.5,
    ...options,
  });
  return { clock, loader, manager };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("CacheManager read path", () => {
  it("a BulkGet watches the caller's signal once, not once per key", async () => {
    const { manager, loader } = setup();
    loader.hold = true;
    const caller = new AbortController();
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const answers = manager.getMany("p", keys, { signal: caller.signal });
    await flush();
    expect(getEventListeners(caller.signal, "abort").length).toBeLessThanOrEqual(1);
    loader.release();
    expect((await answers).size).toBe(50);
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
  });

  it("loads a miss once, then answers from L1", async () => {
    const { manager, loader } = setup();
    const first = await manager.get("products", "1");
    expect(first).toMatchObject({ found: true, source: "loader", stale: false });
    expect(text(first.value)).toBe("value-of-1@1");
    const second = await manager.get("products", "1");
    expect(second.source).toBe("l1");
    expect(text(second.value)).toBe("value-of-1@1");
    expect(loader.calls).toBe(1);
    const stats = manager.stats("products");
    expect(stats?.l1Hits).toBe(1);
    expect(stats?.l1Misses).toBe(1);
    expect(stats?.loadSuccesses).toBe(1);
  });

  it("collapses 10,000 concurrent gets of one missing key into one loader call", async () => {
    const { manager, loader } = setup();
    loader.hold = true;
    const all = Array.from({ length: 10_000 }, () => manager.get("products", "hot"));
    await flush();
    loader.release();
    const results = await Promise.all(all);
    expect(loader.calls).toBe(1);
    expect(new Set(results.map((r) => text(r.value)))).toEqual(new Set(["value-of-hot@1"]));
    expect(manager.stats("products")?.loadsCollapsed).toBe(9_999);
    expect(manager.inFlightCount).toBe(0);
  });

  it("answers not found when there is no loader, and caches negative answers of a loader", async () => {
    const { manager, loader } = setup();
    expect(await manager.get("noloader", "x")).toMatchObject({ found: false, source: "none" });
    expect(await manager.get("products", "absent-1")).toMatchObject({ found: false });
    expect(await manager.get("products", "absent-1")).toMatchObject({ found: false });
    expect(loader.calls).toBe(1);
  });

  it("refreshes in the background past freshFor and serves the cached value meanwhile", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 10_000;
      s.l1.freshForMs = 2_000;
    });
    await manager.get("p", "k");
    clock.advance(3_000);
    const answer = await manager.get("p", "k");
    // Past freshFor the value is stale, though still served while the refresh runs.
    expect(answer).toMatchObject({ source: "l1", stale: true });
    expect(text(answer.value)).toBe("value-of-k@1");
    await flush();
    expect(loader.calls).toBe(2);
    expect(manager.stats("p")?.backgroundRefreshes).toBe(1);
    expect(text((await manager.get("p", "k")).value)).toBe("value-of-k@2");
  });

  it("serves stale within stale-while-revalidate, marked stale", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 1_000;
      s.l1.freshForMs = 1_000;
      s.l1.staleWhileRevalidateMs = 5_000;
    });
    await manager.get("p", "k");
    clock.advance(2_000);
    const answer = await manager.get("p", "k");
    expect(answer).toMatchObject({ source: "l1", stale: true });
    await flush();
    expect(loader.calls).toBe(2);
    expect(manager.stats("p")?.staleServed).toBe(1);
  });

  it("does not serve stale when the caller forbids it", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 1_000;
      s.l1.freshForMs = 1_000;
      s.l1.staleWhileRevalidateMs = 5_000;
    });
    await manager.get("p", "k");
    clock.advance(2_000);
    const answer = await manager.get("p", "k", { allowStale: false });
    expect(answer).toMatchObject({ source: "loader", stale: false });
    expect(loader.calls).toBe(2);
  });

  it("fail-safe: serves the expired value when the loader fails, until maxStale", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 1_000;
      s.l1.freshForMs = 1_000;
      s.failSafe.maxStaleMs = 10_000;
    });
    await manager.get("p", "k");
    loader.failing = true;
    clock.advance(5_000);
    const answer = await manager.get("p", "k");
    expect(answer).toMatchObject({ found: true, stale: true });
    expect(text(answer.value)).toBe("value-of-k@1");
    clock.advance(10_000);
    const error = await manager.get("p", "k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe(Status.UNAVAILABLE);
    expect((error as CacheError).message).toContain("origin down");
  });

  it("answers the fallback value when the loader fails and nothing stale exists", async () => {
    const { manager, loader } = setup((s) => {
      s.fallbackValue = bytes("default");
    });
    loader.failing = true;
    const answer = await manager.get("p", "new");
    expect(answer).toMatchObject({ found: true, source: "fallback" });
    expect(text(answer.value)).toBe("default");
    expect(manager.stats("p")?.fallbackServed).toBe(1);
  });

  it("lets a caller whose signal aborts leave while the shared load goes on", async () => {
    const { manager, loader } = setup();
    loader.hold = true;
    const abort = new AbortController();
    const leaving = manager.get("p", "k", { signal: abort.signal });
    const staying = manager.get("p", "k");
    await flush();
    abort.abort();
    await expect(leaving).rejects.toMatchObject({ code: Status.CANCELLED });
    loader.release();
    expect(text((await staying).value)).toBe("value-of-k@1");
    expect(loader.calls).toBe(1);
  });

  it("rejects values older than maxAge and loads instead", async () => {
    const { manager, loader, clock } = setup();
    await manager.get("p", "k");
    clock.advance(5_000);
    expect((await manager.get("p", "k", { maxAgeMs: 1_000 })).source).toBe("loader");
    expect(loader.calls).toBe(2);
  });

  it("forceRefresh loads even when fresh; skipLoader never loads", async () => {
    const { manager, loader } = setup();
    await manager.get("p", "k");
    expect((await manager.get("p", "k", { forceRefresh: true })).source).toBe("loader");
    expect((await manager.get("p", "other", { skipLoader: true })).found).toBe(false);
    expect(loader.calls).toBe(2);
  });
});

describe("CacheManager writes and invalidation", () => {
  it("writes a value with tags and a version, and refuses an older version", async () => {
    const { manager } = setup();
    const written = await manager.set("p", "k", bytes("v10"), { version: 10n, tags: ["t"] });
    expect(written).toMatchObject({ version: 10n, applied: true });
    const older = await manager.set("p", "k", bytes("v5"), { version: 5n });
    expect(older).toMatchObject({ version: 10n, applied: false });
    const read = await manager.get("p", "k");
    expect(text(read.value)).toBe("v10");
    expect(read.tags).toEqual(["t"]);
    const assigned = await manager.set("p", "k", bytes("v11"));
    expect(assigned.version).toBeGreaterThan(10n);
  });

  it("refuses values larger than the namespace allows", async () => {
    const { manager } = setup((s) => {
      s.maxValueBytes = 10;
    });
    await expect(manager.set("p", "k", new Uint8Array(11))).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it("invalidates by key, by tag and by prefix without touching the rest", async () => {
    const { manager } = setup();
    await manager.set("p", "a", bytes("a"), { tags: ["red"] });
    await manager.set("p", "b", bytes("b"), { tags: ["blue"] });
    await manager.set("p", "category:42:product:1", bytes("c1"));
    await manager.set("p", "category:43:product:1", bytes("c2"));
    await manager.set("p", "plain", bytes("plain"));

    expect((await manager.invalidate("p", { keys: ["plain"] })).keysRemoved).toBe(1);
    await manager.invalidate("p", { tags: ["red"] });
    await manager.invalidate("p", { prefix: "category:42:" });

    const found = async (key: string) => (await manager.get("p", key, { skipLoader: true })).found;
    expect(await found("plain")).toBe(false);
    expect(await found("a")).toBe(false);
    expect(await found("b")).toBe(true);
    expect(await found("category:42:product:1")).toBe(false);
    expect(await found("category:43:product:1")).toBe(true);

    // Written after the invalidation: visible again.
    await manager.set("p", "a", bytes("a2"), { tags: ["red"] });
    expect(await found("a")).toBe(true);
  });

  it("an empty prefix drops the whole namespace, and only that namespace", async () => {
    const { manager } = setup();
    await manager.set("p", "a", bytes("a"));
    await manager.set("q", "a", bytes("a"));
    await manager.invalidate("p", { prefix: "" });
    expect((await manager.get("p", "a", { skipLoader: true })).found).toBe(false);
    expect((await manager.get("q", "a", { skipLoader: true })).found).toBe(true);
  });
});

describe("CacheManager namespaces", () => {
  it("rejects invalid names and caps the number of namespaces", async () => {
    const { manager } = setup(undefined, { maxNamespaces: 2 });
    await expect(manager.get("Bad Name", "k")).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await manager.get("one", "k");
    await manager.get("two", "k");
    await expect(manager.get("three", "k")).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
  });

  it("sees a policy change on the next request", async () => {
    const { manager, clock } = setup();
    await manager.set("p", "k", bytes("v"));
    manager.policies.set(
      "p",
      settings((s) => {
        s.l1.ttlMs = 1_000;
        s.l1.freshForMs = 1_000;
      }),
    );
    await manager.set("p", "k2", bytes("v"));
    const read = await manager.get("p", "k2");
    expect(read.ttlRemainingMs).toBeLessThanOrEqual(1_000);
    clock.advance(1);
    expect((await manager.get("p", "k")).ttlRemainingMs).toBeGreaterThan(1_000);
  });
});

describe("single-flight (property)", () => {
  it("calls the loader once per distinct key of a concurrent burst, and each caller gets its own key", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "b", "c", "d", "e"), { minLength: 1, maxLength: 60 }),
        async (keys) => {
          const { manager, loader } = setup();
          loader.hold = true;
          const all = keys.map((key) => manager.get("p", key));
          await flush();
          loader.release();
          const results = await Promise.all(all);
          expect(loader.calls).toBe(new Set(keys).size);
          results.forEach((result, i) => {
            expect(text(result.value)?.startsWith(`value-of-${keys[i]}@`)).toBe(true);
          });
          expect(manager.inFlightCount).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });
});
