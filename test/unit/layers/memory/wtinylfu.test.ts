import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../../src/engine/clock.js";
import type { RemovalCause } from "../../../../src/engine/layer.js";
import type { WindowTuning, WTinyLfuOptions } from "../../../../src/layers/memory/index.js";
import { WTinyLfuCache } from "../../../../src/layers/memory/index.js";

type Removal = [key: string, value: unknown, cause: RemovalCause];

function cache<V = string>(options: Partial<WTinyLfuOptions<V>> = {}) {
  const removals: Removal[] = [];
  const clock = new ManualClock(1_000_000);
  const instance = new WTinyLfuCache<V>({
    maxEntries: 100,
    entryOverhead: 0,
    clock,
    onEvict: (key, value, cause) => removals.push([key, value, cause]),
    ...options,
  });
  return { cache: instance, clock, removals };
}

describe("WTinyLfuCache basics", () => {
  it("counts hits and misses", () => {
    const { cache: c } = cache();
    expect(c.get("a")).toBeUndefined();
    expect(c.set("a", "A", { weight: 1 })).toBe(true);
    expect(c.get("a")).toBe("A");
    expect(c.get("b")).toBeUndefined();
    const stats = c.stats();
    expect(stats.hits).toBe(1);
    expect(stats.misses).toBe(2);
    expect(stats.puts).toBe(1);
    expect(stats.entries).toBe(1);
    expect(stats.bytes).toBe(1 + 2); // value + key length × 2
  });

  it("replaces a value and reports the old one as replaced", () => {
    const { cache: c, removals } = cache();
    c.set("a", "A1", { weight: 10 });
    c.set("a", "A2", { weight: 20 });
    expect(c.get("a")).toBe("A2");
    expect(c.size).toBe(1);
    expect(c.weightedSize).toBe(22);
    expect(removals).toEqual([["a", "A1", "replaced"]]);
    expect(c.stats().evictions.replaced).toBe(1);
  });

  it("deletes explicitly", () => {
    const { cache: c, removals } = cache();
    c.set("a", "A", { weight: 1 });
    expect(c.delete("a")).toBe(true);
    expect(c.delete("a")).toBe(false);
    expect(c.get("a")).toBeUndefined();
    expect(c.has("a")).toBe(false);
    expect(c.size).toBe(0);
    expect(c.weightedSize).toBe(0);
    expect(removals).toEqual([["a", "A", "explicit"]]);
  });

  it("peek and has do not count or promote", () => {
    const { cache: c } = cache();
    c.set("a", "A", { weight: 1 });
    const before = c.frequency("a");
    expect(c.peek("a")).toBe("A");
    expect(c.has("a")).toBe(true);
    expect(c.frequency("a")).toBe(before);
    expect(c.stats().hits).toBe(0);
  });

  it("clear removes everything with explicit cause", () => {
    const { cache: c, removals } = cache();
    for (let i = 0; i < 10; i++) c.set(`k${i}`, "v", { weight: 1 });
    c.clear();
    expect(c.size).toBe(0);
    expect(c.weightedSize).toBe(0);
    expect([...c.keys()]).toEqual([]);
    expect(removals.filter((r) => r[2] === "explicit")).toHaveLength(10);
    c.set("again", "v", { weight: 1 });
    expect(c.get("again")).toBe("v");
  });

  it("rejects entries heavier than maxEntryBytes or maxBytes, dropping the old value", () => {
    const { cache: c, removals } = cache({ maxBytes: 1000, maxEntryBytes: 100 });
    expect(c.set("a", "small", { weight: 10 })).toBe(true);
    expect(c.set("a", "huge", { weight: 500 })).toBe(false);
    expect(c.get("a")).toBeUndefined();
    expect(removals).toEqual([["a", "small", "replaced"]]);
    expect(c.stats().rejectedSets).toBe(1);
    const { cache: d } = cache({ maxBytes: 50, windowPercent: 100 });
    expect(d.set("b", "x", { weight: 51 })).toBe(false);
  });

  it("by default rejects entries larger than the initial window", () => {
    const { cache: c } = cache({ maxBytes: 10_000 }); // 1% window = 100 bytes
    expect(c.maxEntryBytes).toBe(100);
    expect(c.set("a", "x", { weight: 98 })).toBe(true);
    expect(c.set("b", "x", { weight: 99 })).toBe(false);
  });

  it("iterates keys and reports frequency and top keys", () => {
    const { cache: c } = cache();
    for (let i = 0; i < 20; i++) c.set(`k${i}`, "v", { weight: 1 });
    for (let n = 0; n < 8; n++) c.get("k3");
    for (let n = 0; n < 5; n++) c.get("k7");
    for (let n = 0; n < 2; n++) c.get("k11");
    expect(new Set(c.keys())).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `k${i}`)));
    expect(c.frequency("k3")).toBeGreaterThan(c.frequency("k7"));
    expect(c.frequency("k7")).toBeGreaterThan(c.frequency("k11"));
    const top = c.topKeys(3);
    expect(top.map((t) => t.key)).toEqual(["k3", "k7", "k11"]);
    expect(top[0]!.frequency).toBe(c.frequency("k3"));
    expect(c.topKeys(0)).toEqual([]);
    expect(c.topKeys(100)).toHaveLength(20);
  });
});

describe("WTinyLfuCache bounds", () => {
  it("evicts by entry count with cause size", () => {
    const { cache: c, removals } = cache({ maxEntries: 10 });
    for (let i = 0; i < 50; i++) c.set(`k${i}`, "v", { weight: 1 });
    expect(c.size).toBe(10);
    expect(c.stats().evictions.size).toBe(40);
    expect(removals.every((r) => r[2] === "size")).toBe(true);
  });

  it("evicts by bytes", () => {
    const { cache: c } = cache({ maxEntries: 1000, maxBytes: 1000, windowPercent: 10 });
    for (let i = 0; i < 200; i++) c.set(`k${i % 1000}`.padEnd(4, "_"), "v", { weight: 42 });
    expect(c.weightedSize).toBeLessThanOrEqual(1000);
    expect(c.size).toBe(Math.floor(1000 / 50));
  });

  it("holds both bounds and the last-set value under random operations", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("set" as const),
        key: fc.integer({ min: 0, max: 60 }),
        weight: fc.integer({ min: 0, max: 120 }),
      }),
      fc.record({ kind: fc.constant("get" as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant("delete" as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({
        kind: fc.constant("ttl" as const),
        key: fc.integer({ min: 0, max: 60 }),
        ms: fc.integer({ min: -5, max: 3000 }),
      }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2000 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 50, max: 2000 }),
        fc.boolean(),
        fc.constantFrom<WindowTuning>("simulation", "climbing", "fixed"),
        (ops, maxEntries, maxBytes, admission, windowTuning) => {
          const { cache: c, clock } = cache<number>({
            maxEntries,
            maxBytes,
            admission,
            windowTuning,
            maxEntryBytes: maxBytes,
          });
          const last = new Map<string, number>();
          let version = 0;
          for (const o of ops) {
            if (o.kind === "tick") {
              clock.advance(o.ms);
              continue;
            }
            const key = `k${o.key}`;
            if (o.kind === "set") {
              const value = ++version;
              last.set(key, value);
              c.set(key, value, { weight: o.weight, expiresAt: o.key % 3 === 0 ? clock.now() + 1000 : undefined });
            } else if (o.kind === "get") {
              const got = c.get(key);
              if (got !== undefined) expect(got).toBe(last.get(key));
            } else if (o.kind === "delete") {
              c.delete(key);
              last.delete(key);
            } else {
              c.setExpiresAt(key, clock.now() + o.ms);
            }
            expect(c.size).toBeLessThanOrEqual(maxEntries);
            expect(c.weightedSize).toBeLessThanOrEqual(maxBytes);
            const stats = c.stats();
            expect(stats.entries).toBe(c.size);
          }
          // Internal totals agree with the entries.
          let total = 0;
          for (const key of c.keys()) {
            expect(c.peek(key)).toBe(last.get(key));
            total++;
          }
          expect(total).toBeLessThanOrEqual(c.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("WTinyLfuCache expiry", () => {
  it("never returns an entry at or after expiresAt, and counts it as expired", () => {
    const { cache: c, clock, removals } = cache();
    c.set("a", "A", { weight: 1, expiresAt: clock.now() + 500 });
    clock.advance(499);
    expect(c.get("a")).toBe("A");
    clock.advance(1);
    expect(c.peek("a")).toBeUndefined();
    expect(c.has("a")).toBe(false);
    expect(c.get("a")).toBeUndefined();
    expect(removals).toEqual([["a", "A", "expired"]]);
    expect(c.stats().evictions.expired).toBe(1);
    expect(c.size).toBe(0);
  });

  it("cleanUp removes every expired entry, across wheel levels", () => {
    const { cache: c, clock } = cache({ maxEntries: 1000 });
    const ttls = [10, 900, 1500, 70_000, 3_600_000, 90_000_000, 10 * 86_400_000];
    for (const [i, ttl] of ttls.entries()) c.set(`k${i}`, "v", { weight: 1, expiresAt: clock.now() + ttl });
    c.set("forever", "v", { weight: 1 });
    for (const [i, ttl] of ttls.entries()) {
      clock.set(1_000_000 + ttl - 1);
      c.cleanUp();
      expect(c.size).toBe(ttls.length - i + 1);
      clock.set(1_000_000 + ttl);
      c.cleanUp();
      expect(c.size).toBe(ttls.length - i);
    }
    expect([...c.keys()]).toEqual(["forever"]);
  });

  it("expires lazily during writes", () => {
    const { cache: c, clock } = cache({ maxEntries: 1000 });
    for (let i = 0; i < 100; i++) c.set(`k${i}`, "v", { weight: 1, expiresAt: clock.now() + 1000 });
    clock.advance(5000);
    c.set("other", "v", { weight: 1 });
    expect(c.size).toBe(1);
    expect(c.stats().evictions.expired).toBe(100);
  });

  it("setExpiresAt moves the deadline both ways", () => {
    const { cache: c, clock } = cache();
    c.set("a", "A", { weight: 1, expiresAt: clock.now() + 100 });
    expect(c.setExpiresAt("a", clock.now() + 10_000)).toBe(true);
    clock.advance(5000);
    expect(c.get("a")).toBe("A");
    expect(c.setExpiresAt("a", clock.now() + 10)).toBe(true);
    clock.advance(10);
    c.cleanUp();
    expect(c.size).toBe(0);
    expect(c.setExpiresAt("a", clock.now() + 10)).toBe(false);
    c.set("b", "B", { weight: 1 });
    expect(c.setExpiresAt("b", clock.now())).toBe(false);
    expect(c.get("b")).toBeUndefined();
  });

  it("refuses an entry that is already expired", () => {
    const { cache: c, clock } = cache();
    expect(c.set("a", "A", { weight: 1, expiresAt: clock.now() })).toBe(false);
    expect(c.get("a")).toBeUndefined();
  });
});

describe("WTinyLfuCache policy", () => {
  it("resists a scan: a hot set survives a long one-off scan", () => {
    const { cache: c } = cache({ maxEntries: 100, windowTuning: "fixed" });
    const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
    for (let round = 0; round < 5; round++) {
      for (const key of hot) if (c.get(key) === undefined) c.set(key, "v", { weight: 1 });
    }
    for (let i = 0; i < 10_000; i++) {
      const key = `scan${i}`;
      if (c.get(key) === undefined) c.set(key, "v", { weight: 1 });
    }
    const survivors = hot.filter((key) => c.has(key)).length;
    expect(survivors).toBeGreaterThanOrEqual(48);
    // Almost every scan key lost its duel against a main-space victim.
    expect(c.stats().admissionRejections).toBeGreaterThan(8_500);
  });

  it("without admission, scan keys displace the probation segment (plain segmented LRU)", () => {
    const { cache: c } = cache({ maxEntries: 100, windowTuning: "fixed", admission: false });
    const once = Array.from({ length: 50 }, (_, i) => `once${i}`);
    for (const key of once) c.set(key, "v", { weight: 1 });
    for (let i = 0; i < 10_000; i++) c.set(`scan${i}`, "v", { weight: 1 });
    expect(once.filter((key) => c.has(key)).length).toBe(0);
    expect(c.has("scan9999")).toBe(true);
    expect(c.has("scan9900")).toBe(true);
    expect(c.stats().admissionRejections).toBe(0);
  });

  it("with admission, entries seen once are not displaced by a scan of colder keys", () => {
    const { cache: c } = cache({ maxEntries: 100, windowTuning: "fixed" });
    const warm = Array.from({ length: 50 }, (_, i) => `warm${i}`);
    for (const key of warm) c.set(key, "v", { weight: 1 });
    for (const key of warm) c.get(key);
    for (let i = 0; i < 10_000; i++) c.set(`scan${i}`, "v", { weight: 1 });
    expect(warm.filter((key) => c.has(key)).length).toBeGreaterThanOrEqual(48);
  });

  it("keeps frequent keys over recent one-hit keys under Zipf-like load", () => {
    const { cache: c } = cache({ maxEntries: 50 });
    for (let i = 0; i < 20_000; i++) {
      // Keys 0..9 are requested 50% of the time, the rest spread over 5000 keys.
      const key = i % 2 === 0 ? `hot${i % 20}` : `cold${(i * 7919) % 5000}`;
      if (c.get(key) === undefined) c.set(key, "v", { weight: 1 });
    }
    const hotResident = Array.from({ length: 10 }, (_, i) => `hot${i * 2}`).filter((k) => c.has(k)).length;
    expect(hotResident).toBe(10);
  });
});

describe("WTinyLfuCache hill climber (windowTuning: climbing)", () => {
  const request = (c: WTinyLfuCache<string>, key: string) => {
    if (c.get(key) === undefined) c.set(key, "v", { weight: 1 });
  };

  it("waits for a full sample (at least 6000 requests) before moving the window of a small cache", () => {
    const { cache: c } = cache({ maxEntries: 100, windowTuning: "climbing" });
    for (let i = 0; i < 100; i++) request(c, `fill${i}`); // full: sampling starts
    for (let i = 0; i < 5_990; i++) request(c, `k${i % 150}`);
    expect(c.stats().windowPercent).toBe(1);
    for (let i = 0; i < 20; i++) request(c, `k${i % 150}`);
    expect(c.stats().windowPercent).toBeGreaterThan(1); // the first move grows the window
  });

  it("keeps the window within 99% of the capacity under a recency-friendly load", () => {
    const { cache: c } = cache({ maxEntries: 100, windowTuning: "climbing" });
    let largest = 0;
    let fullest = 0;
    for (let i = 0; i < 300_000; i++) {
      const sweep = Math.floor(i / 130);
      const position = i % 130;
      request(c, `k${sweep % 2 === 0 ? position : 129 - position}`);
      largest = Math.max(largest, c.stats().windowPercent);
      fullest = Math.max(fullest, c.size);
    }
    expect(fullest).toBe(100);
    expect(largest).toBeGreaterThan(10); // it grew towards recency
    expect(largest).toBeLessThanOrEqual(99);
  });
});
