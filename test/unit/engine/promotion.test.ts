// Promotion rules (always, never, after N L2 hits within a window, TinyLFU admission) and what
// Inspect says about why a key is or is not in L1.
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { loaderFunction } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { HitWindows, L1History } from "../../../src/engine/promotion.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);

/** A writer instance and a reader instance over one shared L2; the reader's promotion is `change`d. */
function pair(change: (s: NamespaceSettings) => void, l1Entries = 1000) {
  const clock = new ManualClock(1_000_000);
  const store = new SharedMemoryStore(clock);
  const make = (edit: (s: NamespaceSettings) => void) => {
    const s = defaultSettings();
    s.l1.jitter = 0;
    s.l2.jitter = 0;
    edit(s);
    return new CacheManager({
      l1: new MemoryLayer({ maxBytes: 1 << 24, maxEntries: l1Entries, clock }),
      l2: new SharedMemoryLayer(store),
      policies: new PolicyStore(s),
      clock,
      scheduler: clock,
      random: () => 0.5,
      loaderFor: () => loaderFunction(async (_ns, key) => ({ found: true, value: bytes(key) })),
    });
  };
  return { writer: make(() => {}), reader: make(change), clock };
}

/** Reads until the key is in the reader's L1 (at most `max` reads); answers how many L2 reads it took. */
async function readsUntilPromoted(reader: CacheManager, key: string, max = 20): Promise<number> {
  let reads = 0;
  while (reader.peekL1("n", key) === undefined && reads < max) {
    expect((await reader.get("n", key)).source).toBe("l2");
    reads++;
  }
  return reads;
}

describe("promotion rules", () => {
  it("always: the first L2 hit is promoted, even with a min_frequency set", async () => {
    const { writer, reader } = pair((s) => (s.promotion = { mode: "always", minFrequency: 9, windowMs: 60_000 }));
    await writer.get("n", "k");
    expect(await readsUntilPromoted(reader, "k")).toBe(1);
    expect((await reader.inspectKey("n", "k")).l1Reason).toBe("present");
  });

  it("never: L2 hits are never promoted and Inspect says so", async () => {
    const { writer, reader } = pair((s) => (s.promotion = { mode: "never", minFrequency: 0, windowMs: 60_000 }));
    await writer.get("n", "k");
    expect(await readsUntilPromoted(reader, "k", 20)).toBe(20);
    expect((await reader.inspectKey("n", "k")).l1Reason).toBe("rule-never");
    expect(reader.stats("n")?.promotionsRefused).toBe(20);
  });

  it("after N hits within a window: promoted at the Nth hit; hits spread wider than the window never add up", async () => {
    const { writer, reader, clock } = pair(
      (s) => (s.promotion = { mode: "after-hits", minFrequency: 3, windowMs: 10_000 }),
    );
    await writer.get("n", "k");
    await writer.get("n", "slow");
    expect(await readsUntilPromoted(reader, "k")).toBe(3);
    for (let i = 0; i < 5; i++) {
      await reader.get("n", "slow");
      expect((await reader.inspectKey("n", "slow")).l1Reason).toBe("below-hits");
      clock.advance(6_000); // two hits per window at most
    }
    expect(reader.peekL1("n", "slow")).toBeUndefined();
  });

  it("admission: a cold key is refused while L1 is full of hotter keys; a hot one is promoted", async () => {
    const { writer, reader } = pair(
      (s) => (s.promotion = { mode: "admission", minFrequency: 0, windowMs: 60_000 }),
      50,
    );
    // Fill the reader's L1 with keys read many times (loaded there, so they are resident).
    for (let i = 0; i < 60; i++) for (let r = 0; r < 6; r++) await reader.get("n", `hot${i}`);
    await writer.get("n", "cold");
    await reader.get("n", "cold");
    expect(reader.peekL1("n", "cold")).toBeUndefined();
    expect((await reader.inspectKey("n", "cold")).l1Reason).toBe("rejected-by-admission");
    // Read often enough, its estimate beats the coldest resident's and it is promoted.
    expect(await readsUntilPromoted(reader, "cold", 40)).toBeLessThan(40);
  });

  it("the default (frequency) keeps using the sketch's min_frequency", async () => {
    const { writer, reader } = pair((s) => (s.promotion.minFrequency = 3));
    await writer.get("n", "k");
    expect(await readsUntilPromoted(reader, "k")).toBeGreaterThan(1);
  });
});

describe("l1_reason", () => {
  it("says removed after an invalidation, expired once its time ran out, unknown for a key never seen", async () => {
    const { reader, clock } = pair(() => {});
    await reader.get("n", "k");
    await reader.invalidate("n", { keys: ["k"] });
    expect((await reader.inspectKey("n", "k")).l1Reason).toBe("removed");
    await reader.get("n", "e");
    clock.advance(defaultSettings().failSafe.maxStaleMs + defaultSettings().l1.ttlMs + 1);
    expect((await reader.inspectKey("n", "e")).l1Reason).toBe("expired");
    expect((await reader.inspectKey("n", "never-seen")).l1Reason).toBe("unknown");
  });

  it("says evicted for a key pushed out of a full L1", async () => {
    const { reader } = pair(() => {}, 20);
    await reader.get("n", "first");
    for (let i = 0; i < 200; i++) for (let r = 0; r < 3; r++) await reader.get("n", `k${i}`);
    const inspected = await reader.inspectKey("n", "first");
    expect(inspected.layers[0]?.present).toBe(false);
    expect(["evicted", "rejected-by-admission"]).toContain(inspected.l1Reason);
  });
});

describe("bounded memory of promotion", () => {
  it("hit windows and the L1 history forget their oldest keys past their bound", () => {
    const hits = new HitWindows(100);
    const history = new L1History(100);
    for (let i = 0; i < 1_000; i++) {
      hits.hit("n", `k${i}`, 0, 1_000);
      history.note("n", `k${i}`, "evicted");
    }
    expect(hits.size).toBe(100);
    expect(history.size).toBe(100);
    expect(history.of("n", "k0")).toBe("unknown");
    expect(history.of("n", "k999")).toBe("evicted");
  });

  it("bounds the L1 history over all namespaces, and a repeated reason costs no room", () => {
    const history = new L1History(10);
    for (let i = 0; i < 8; i++) history.note("a", `k${i}`, "evicted");
    for (let i = 0; i < 8; i++) history.note("b", `k${i}`, "present");
    for (let i = 0; i < 8; i++) history.note("b", `k${i}`, "present");
    expect(history.size).toBe(10);
    expect(history.of("b", "k7")).toBe("present");
    expect(history.of("b", "k1")).toBe("unknown"); // b's oldest went first
    // A namespace with a single key takes room from another namespace.
    history.note("c", "only", "expired");
    expect(history.size).toBe(10);
    expect(history.of("c", "only")).toBe("expired");
    expect(history.of("a", "k0")).toBe("unknown");
    expect(history.of("a", "k7")).toBe("evicted");
    // A changed reason moves the key to the newest end.
    history.note("b", "k6", "removed");
    expect(history.of("b", "k6")).toBe("removed");
    expect(history.size).toBe(10);
  });
});
