// Two tiers on the manual clock and its scheduler: promotion from L2, an L2 that fails,
// stamps shared through L2, and one load per fleet — with the in-memory shared L2 of
// src/testing (Redis' semantics) and no real sleeps.
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { loaderFunction } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { ChaosLayer } from "../../../src/testing/chaos-layer.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** An instance over the shared store: its own L1, an L2 behind a ChaosLayer, a counting loader. */
function instance(store: SharedMemoryStore, change: (s: NamespaceSettings) => void = () => {}) {
  const clock = store.clock as ManualClock;
  const s = defaultSettings();
  s.l1.jitter = 0;
  s.l2.jitter = 0;
  change(s);
  const l2 = new ChaosLayer(new SharedMemoryLayer(store), clock);
  const origin = { calls: 0, hold: undefined as Promise<void> | undefined };
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
    l2,
    policies: new PolicyStore(s),
    clock,
    scheduler: clock,
    random: () => 0.5,
    loaderFor: () =>
      loaderFunction(async (_ns, key) => {
        origin.calls++;
        await origin.hold;
        return { found: true, value: bytes(`${key}@${origin.calls}`), tags: ["t"] };
      }),
  });
  return { manager, l2, origin, clock };
}

describe("two tiers", () => {
  it("promotes an L2 hit into L1 with its age, and only once it is popular enough when asked", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    const b = instance(store, (s) => (s.promotion.minFrequency = 3));
    await a.manager.get("n", "k");
    a.clock.advance(1_000);
    const fromL2 = await b.manager.get("n", "k");
    expect(fromL2).toMatchObject({ source: "l2", ageMs: 1_000 });
    expect(b.manager.peekL1("n", "k")).toBeUndefined(); // seen once: not promoted yet
    let reads = 1;
    while (b.manager.peekL1("n", "k") === undefined && reads < 10) {
      expect((await b.manager.get("n", "k")).source).toBe("l2");
      reads++;
    }
    expect(reads).toBeGreaterThanOrEqual(3); // the sketch had to see it a few times
    expect(b.manager.peekL1("n", "k")?.createdAt).toBe(1_000_000); // the copy keeps its age
    expect((await b.manager.get("n", "k")).source).toBe("l1");
  });

  it("serves on when L2 fails: loads at the origin, writes L1, and says an invalidation did not land", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    a.l2.alwaysFail();
    expect(await a.manager.get("n", "k")).toMatchObject({ found: true, source: "loader" });
    expect((await a.manager.set("n", "w", bytes("v"))).applied).toBe(true);
    expect((await a.manager.get("n", "w")).source).toBe("l1");
    await expect(a.manager.invalidate("n", { keys: ["w"] })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    a.l2.neverFail();
    expect(await store.live("n\u0000k")).toBeUndefined(); // nothing reached L2 while it failed
  });

  it("hides an L1 copy once a tag stamp set on another instance arrives through L2", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    const b = instance(store);
    await b.manager.get("n", "k"); // b holds k (tag t) in L1
    a.clock.advance(10);
    await a.manager.invalidate("n", { tags: ["t"] });
    expect((await b.manager.get("n", "k")).source).toBe("l1"); // b has not read L2 since
    await b.manager.get("n", "other", { bypassL1: true }); // any L2 read brings the stamps
    const after = await b.manager.get("n", "k");
    expect(after.source).toBe("loader");
    expect(b.origin.calls).toBe(3);
  });

  it("never copies into L1 an L2 answer read before an invalidation that came in meanwhile", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    const b = instance(store);
    await a.manager.set("n", "k", bytes("old"));
    b.l2.alwaysDelay(100); // b's L2 answers come late: the invalidation overtakes the read
    const read = b.manager.get("n", "k");
    await flush();
    const invalidated = b.manager.invalidate("n", { keys: ["k"] });
    await flush();
    b.clock.advance(100);
    expect(text((await read).value)).toBe("old"); // a read that began before the invalidation
    b.clock.advance(100);
    await invalidated;
    b.l2.neverDelay();
    expect(b.manager.peekL1("n", "k")).toBeUndefined();
    expect((await b.manager.get("n", "k")).source).toBe("loader");
  });

  it("loads a key once for the fleet: the other instance waits on the scheduler for the value", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    const b = instance(store);
    let release: () => void = () => {};
    a.origin.hold = new Promise((resolve) => (release = resolve));
    const first = a.manager.get("n", "k");
    await flush();
    const second = b.manager.get("n", "k");
    await flush();
    expect(a.origin.calls + b.origin.calls).toBe(1);
    release();
    await first;
    for (let i = 0; i < 10 && b.origin.calls === 0; i++) {
      b.clock.advance(5); // b polls L2 on its scheduler, not on a real timer
      await flush();
    }
    expect(text((await second).value)).toBe("k@1");
    expect(b.origin.calls).toBe(0);
  });
  /** Advances the manual clock in steps until `done` settles (every L2 call waits on it). */
  async function settle<T>(clock: ManualClock, done: Promise<T>, stepMs = 50): Promise<T> {
    let over = false;
    const watched = done.finally(() => {
      over = true;
    });
    for (let i = 0; i < 400 && !over; i++) {
      clock.advance(stepMs);
      await flush();
    }
    return watched;
  }

  it("a load an invalidation detached while it waited on L2 joins the newer load: the origin is asked once", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    a.l2.alwaysDelay(100); // every L2 step is slow: the invalidation overtakes the first read there
    const first = a.manager.get("n", "k");
    await flush();
    const invalidated = a.manager.invalidate("n", { keys: ["k"] }).catch(() => undefined);
    const second = a.manager.get("n", "k");
    await settle(a.clock, Promise.all([first, second, invalidated]));
    expect(a.origin.calls).toBe(1);
    expect(text((await first).value)).toBe("k@1");
    expect(text((await second).value)).toBe("k@1");
  });

  it("a load detached before it reached the origin becomes the key's load again, and its value is kept", async () => {
    const store = new SharedMemoryStore(new ManualClock(1_000_000));
    const a = instance(store);
    a.l2.alwaysDelay(100);
    const first = a.manager.get("n", "k");
    await flush();
    const invalidated = a.manager.invalidate("n", { keys: ["k"] }).catch(() => undefined);
    await settle(a.clock, Promise.all([first, invalidated]));
    expect(a.origin.calls).toBe(1);
    // It asked the origin after the invalidation: its value is current, stored, and shared.
    expect(a.manager.peekL1("n", "k")).toBeDefined();
    a.l2.neverDelay();
    expect((await a.manager.get("n", "k")).source).toBe("l1");
    expect(a.origin.calls).toBe(1);
  });
});
