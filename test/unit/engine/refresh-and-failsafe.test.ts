import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import type { Loader, LoadResult } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A loader whose calls are recorded and whose answers the test scripts. */
class ScriptedLoader implements Loader {
  loads: string[] = [];
  bulkLoads: string[][] = [];
  failing = false;
  /** Milliseconds each load takes on the manual clock's scheduler (for soft/hard timeouts). */
  delayMs = 0;
  /** Simulated load duration on the injected clock (XFetch's delta). */
  advanceClockBy = 0;
  constructor(private readonly clock: ManualClock) {}

  async load(_ns: string, key: string): Promise<LoadResult> {
    this.loads.push(key);
    return this.answer(key, this.loads.length);
  }

  async loadMany(_ns: string, keys: readonly string[]): Promise<Map<string, LoadResult | Error>> {
    this.bulkLoads.push([...keys]);
    const out = new Map<string, LoadResult | Error>();
    for (const key of keys) {
      if (key.startsWith("broken")) out.set(key, new Error(`cannot load ${key}`));
      else if (!key.startsWith("absent")) out.set(key, { found: true, value: bytes(`bulk-${key}`) });
    }
    return out;
  }

  private async answer(key: string, n: number): Promise<LoadResult> {
    if (this.delayMs > 0) await new Promise<void>((resolve) => this.clock.schedule(this.delayMs, resolve));
    this.clock.advance(this.advanceClockBy);
    if (this.failing) throw new Error("origin down");
    return { found: true, value: bytes(`${key}#${n}`) };
  }
}

function setup(change: (s: NamespaceSettings) => void = () => {}, random: () => number = () => 0.5) {
  const clock = new ManualClock(1_000_000);
  const loader = new ScriptedLoader(clock);
  const s = defaultSettings();
  s.l1.jitter = 0;
  s.l2.jitter = 0;
  change(s);
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 16 * 1024 * 1024, maxEntries: 10_000, clock }),
    policies: new PolicyStore(s),
    loaderFor: () => loader,
    clock,
    scheduler: clock,
    random,
  });
  return { clock, loader, manager };
}

describe("probabilistic early refresh (XFetch)", () => {
  it("refreshes a fresh entry early when now − Δ·β·ln(U) reaches freshUntil", async () => {
    // U close to 0 makes −ln(U) large: the refresh fires well before freshUntil.
    const { manager, loader, clock } = setup(
      (s) => {
        s.earlyRefresh = { enabled: true, beta: 1 };
        s.l1.ttlMs = 60_000;
        s.l1.freshForMs = 60_000;
      },
      () => 0.999_999,
    );
    loader.advanceClockBy = 1_000; // the load took 1 s: Δ = 1000
    await manager.get("p", "k");
    clock.advance(50_000); // 10 s before freshUntil; −Δ·ln(1e-6) ≈ 13.8 s ≥ 10 s
    const answer = await manager.get("p", "k");
    expect(answer).toMatchObject({ source: "l1", stale: false });
    await flush();
    expect(loader.loads).toEqual(["k", "k"]);
    expect(manager.stats("p")?.earlyRefreshes).toBe(1);
  });

  it("does not refresh early when the expression stays below freshUntil", async () => {
    // U = 1 gives ln(U) = 0: never early.
    const { manager, loader, clock } = setup(
      (s) => {
        s.earlyRefresh = { enabled: true, beta: 1 };
        s.l1.ttlMs = 60_000;
        s.l1.freshForMs = 60_000;
      },
      () => 0,
    );
    loader.advanceClockBy = 1_000;
    await manager.get("p", "k");
    clock.advance(58_000);
    await manager.get("p", "k");
    await flush();
    expect(loader.loads).toEqual(["k"]);
    expect(manager.stats("p")?.earlyRefreshes).toBe(0);
  });
});

describe("fail-safe throttle and timeouts", () => {
  it("does not ask a failing origin again within the throttle, and serves stale meanwhile", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 1_000;
      s.l1.freshForMs = 1_000;
      s.failSafe = { enabled: true, maxStaleMs: 60_000, throttleMs: 5_000 };
    });
    await manager.get("p", "k");
    loader.failing = true;
    clock.advance(2_000);
    expect(await manager.get("p", "k")).toMatchObject({ stale: true, found: true });
    expect(loader.loads.length).toBe(2);
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) expect(await manager.get("p", "k")).toMatchObject({ stale: true });
    expect(loader.loads.length).toBe(2); // throttled
    clock.advance(5_000);
    loader.failing = false;
    expect(await manager.get("p", "k")).toMatchObject({ stale: false, source: "loader" });
    expect(loader.loads.length).toBe(3);
  });

  it("soft timeout: answers stale and lets the slow load fill the cache", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.l1.ttlMs = 1_000;
      s.l1.freshForMs = 1_000;
      s.loadTimeouts = { softMs: 20, hardMs: 10_000 };
    });
    await manager.get("p", "k");
    clock.advance(2_000);
    loader.delayMs = 200;
    const pending = manager.get("p", "k");
    await flush();
    clock.advance(20); // the soft timeout, on the injected scheduler
    const answer = await pending;
    expect(answer).toMatchObject({ stale: true, source: "l1" });
    expect(text(answer.value)).toBe("k#1");
    clock.advance(180); // the slow load ends and fills the cache
    await flush();
    expect(text((await manager.get("p", "k")).value)).toBe("k#2");
  });

  it("hard timeout: gives up with DEADLINE_EXCEEDED when nothing stale exists", async () => {
    const { manager, loader, clock } = setup((s) => {
      s.loadTimeouts = { softMs: 0, hardMs: 30 };
    });
    loader.delayMs = 500;
    const slow = manager.get("p", "slow");
    await flush();
    clock.advance(30); // the hard timeout, on the injected scheduler
    await expect(slow).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect(manager.stats("p")?.loadFailures).toBe(1);
  });
});

describe("bulk reads", () => {
  it("asks the loader once for all misses and reports per-key outcomes", async () => {
    const { manager, loader } = setup();
    await manager.get("p", "cached");
    const results = await manager.getMany("p", ["cached", "a", "b", "absent-1", "broken-1", "a"]);
    expect([...results.keys()]).toEqual(["cached", "a", "b", "absent-1", "broken-1"]);
    expect(loader.bulkLoads).toEqual([["a", "b", "absent-1", "broken-1"]]);
    expect(results.get("cached")).toMatchObject({ source: "l1", found: true });
    expect(text((results.get("a") as { value: Uint8Array }).value)).toBe("bulk-a");
    expect(results.get("absent-1")).toMatchObject({ found: false });
    expect(results.get("broken-1")).toMatchObject({ code: Status.UNAVAILABLE });
    // Loaded keys are cached now.
    expect((await manager.get("p", "b")).source).toBe("l1");
  });

  it("refresh() reloads hot keys in one bulk call", async () => {
    const { manager, loader } = setup();
    await manager.getMany("p", ["x", "y", "z"]);
    expect(await manager.refresh("p", ["x", "y", "z"])).toBe(3);
    expect(loader.bulkLoads).toHaveLength(2);
    expect(manager.stats("p")?.backgroundRefreshes).toBe(3);
  });
});

describe("adaptive TTL", () => {
  it("gives popular keys longer TTLs than cold ones, within bounds", async () => {
    const { manager } = setup((s) => {
      s.adaptiveTtl = { enabled: true, minTtlMs: 1_000, maxTtlMs: 100_000 };
      s.l1.ttlMs = 40_000;
      s.l1.freshForMs = 40_000;
    });
    for (let i = 0; i < 30; i++) await manager.get("p", "hot", { forceRefresh: true });
    const hot = await manager.get("p", "hot", { forceRefresh: true });
    const cold = await manager.get("p", "cold");
    expect(hot.ttlRemainingMs).toBeGreaterThan(cold.ttlRemainingMs);
    expect(cold.ttlRemainingMs).toBeGreaterThanOrEqual(1_000);
    expect(hot.ttlRemainingMs).toBeLessThanOrEqual(100_000);
  });
});
