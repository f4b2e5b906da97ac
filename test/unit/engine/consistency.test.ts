// Regression tests for the consistency defects found by trying the README's promises from
// outside (issue 12). Each failed on the engine before its fix.
import { describe, expect, it } from "vitest";
import { policyFromJson } from "../../../src/config/policy-proto.js";
import { CacheManager, type L1Trust } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import type { EventBus, WriteBehindEvent } from "../../../src/engine/events.js";
import type { Loader, LoadResult } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import type { WriteResult } from "../../../src/engine/types.js";
import type { StoreItemInput, Writer } from "../../../src/engine/writer.js";
import { Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const flush = () => new Promise((resolve) => setImmediate(resolve));
const HOUR = 3_600_000;

/**
 * An origin whose value of each key has a version that `change(key)` bumps; answers
 * `KEY@vN`. Loads can be held until `release()`, and take `loadMs` on the manual clock.
 */
class Origin implements Loader {
  calls = 0;
  failing = false;
  hold = false;
  loadMs = 0;
  ttlMs: number | undefined;
  /** The version the origin gives its values (none: the load's start versions them). */
  version: bigint | undefined;
  tags: string[] = [];
  private readonly versions = new Map<string, number>();
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly clock: ManualClock) {}
  change(key: string): void {
    this.versions.set(key, (this.versions.get(key) ?? 1) + 1);
  }
  async load(_namespace: string, key: string): Promise<LoadResult> {
    this.calls++;
    const version = this.versions.get(key) ?? 1;
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.clock.advance(this.loadMs);
    if (this.failing) throw new Error("origin down");
    const result: LoadResult = { found: true, value: bytes(`${key}@v${version}`), tags: this.tags };
    if (this.ttlMs !== undefined) result.ttlMs = this.ttlMs;
    if (this.version !== undefined) result.version = this.version;
    return result;
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

interface Instance {
  manager: CacheManager;
  origin: Origin;
}

/** One or more instances over one clock, sharing an in-memory L2 when `shared` is given. */
function fleet(
  options: {
    change?: (s: NamespaceSettings) => void;
    shared?: SharedMemoryStore;
    clock?: ManualClock;
    events?: EventBus;
    l1Trust?: L1Trust;
    maxEntries?: number;
    writer?: Writer;
  } = {},
): Instance & { clock: ManualClock } {
  const clock = options.clock ?? options.shared?.clock ?? new ManualClock(1_000_000_000);
  const s = defaultSettings();
  s.l1.jitter = 0;
  s.l2.jitter = 0;
  options.change?.(s);
  const origin = new Origin(clock as ManualClock);
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 << 20, maxEntries: options.maxEntries ?? 100_000, clock }),
    ...(options.shared ? { l2: new SharedMemoryLayer(options.shared) } : {}),
    policies: new PolicyStore(s),
    loaderFor: () => origin,
    clock,
    random: () => 0.5,
    ...(options.events ? { events: options.events } : {}),
    ...(options.l1Trust ? { l1Trust: options.l1Trust } : {}),
    ...(options.writer ? { writerFor: () => options.writer } : {}),
  });
  return { manager, origin, clock: clock as ManualClock };
}

describe("1. an invalidated entry with a long explicit TTL stays invalidated", () => {
  it("Set: a TTL past the namespace's maxTtl is refused; within it, the tag stamp outlives the entry", async () => {
    const { manager, clock } = fleet({ change: (s) => (s.maxTtlMs = 48 * HOUR) });
    await manager.set("p", "k", bytes("v"), { ttlMs: 24 * HOUR, tags: ["t"] });
    await manager.invalidate("p", { tags: ["t"] });
    expect((await manager.get("p", "k", { skipLoader: true })).found).toBe(false);
    clock.advance(3 * HOUR);
    await manager.invalidate("p", { tags: ["other"] }); // prunes stamps
    expect((await manager.get("p", "k", { skipLoader: true })).found).toBe(false);

    const { manager: strict } = fleet();
    await expect(strict.set("p", "k", bytes("v"), { ttlMs: 24 * HOUR })).rejects.toMatchObject({
      code: Status.INVALID_ARGUMENT,
      message: expect.stringContaining("maxTtl"),
    });
  });

  it("a loader's TTL longer than the namespace allows is cut to it, so its stamp is kept long enough", async () => {
    const { manager, origin, clock } = fleet();
    origin.ttlMs = 24 * HOUR;
    origin.tags = ["t"];
    await manager.get("p", "k");
    await manager.invalidate("p", { tags: ["t"] });
    clock.advance(3 * HOUR);
    await manager.invalidate("p", { tags: ["other"] });
    const answer = await manager.get("p", "k", { skipLoader: true });
    expect(answer.found).toBe(false);
  });

  it("a policy that shortens TTLs keeps stamps as long as entries made under the longer one live", async () => {
    const { manager, clock } = fleet({ change: (s) => (s.maxTtlMs = 48 * HOUR) });
    await manager.set("p", "k", bytes("v"), { ttlMs: 24 * HOUR, tags: ["t"] });
    await manager.invalidate("p", { tags: ["t"] });
    const shorter = manager.policies.get("p");
    manager.policies.set("p", { ...shorter, maxTtlMs: HOUR });
    clock.advance(3 * HOUR);
    await manager.invalidate("p", { tags: ["other"] });
    expect((await manager.get("p", "k", { skipLoader: true })).found).toBe(false);
  });
});

describe("2. versions are checked against L2, not only L1", () => {
  it("an older explicit version is not applied on another instance, which keeps serving the newer one", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    const b = fleet({ shared });
    expect(await a.manager.set("p", "k", bytes("new"), { version: 100n })).toMatchObject({ applied: true });
    const stale = await b.manager.set("p", "k", bytes("old"), { version: 50n });
    expect(stale).toMatchObject({ applied: false, version: 100n });
    const read = await b.manager.get("p", "k", { skipLoader: true });
    expect(read).toMatchObject({ version: 100n });
    expect(text(read.value)).toBe("new");
  });

  it("a Set without a version gets one above the shared copy's", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    const b = fleet({ shared });
    const high = 1n << 62n;
    await a.manager.set("p", "k", bytes("explicit"), { version: high });
    const auto = await b.manager.set("p", "k", bytes("auto"));
    expect(auto.applied).toBe(true);
    expect(auto.version > high).toBe(true);
    expect(text((await a.manager.get("p", "k", { bypassL1: true, skipLoader: true })).value)).toBe("auto");
  });

  it("with L2 unreachable, an explicit version cannot be checked: UNAVAILABLE, nothing changed", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    shared.down = true;
    await expect(a.manager.set("p", "k", bytes("v"), { version: 7n })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
    });
    expect(a.manager.peekL1("p", "k")).toBeUndefined();
  });
});

describe("3. XFetch early refresh reaches the origin with L2 configured", () => {
  it("refreshes from the loader, not from L2's copy of the same write", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const { manager, origin, clock } = fleet({
      shared,
      change: (s) => {
        s.l1.ttlMs = 60_000;
        s.l1.freshForMs = 60_000;
        s.earlyRefresh = { enabled: true, beta: 1 };
      },
    });
    origin.loadMs = 1_000;
    await manager.get("p", "k");
    origin.change("k");
    // The load took 1 s (the clock is at +1 s): at +59.5 s, U = 0.5 makes XFetch fire (from +59.3 s).
    clock.advance(58_500);
    expect(await manager.get("p", "k")).toMatchObject({ source: "l1", stale: false });
    await flush();
    await flush();
    expect(origin.calls).toBe(2);
    expect(manager.stats("p")?.earlyRefreshes).toBe(1);
    expect(text((await manager.get("p", "k")).value)).toBe("k@v2");
  });
});

describe("5. the priority refresher's top keys are ranked per namespace", () => {
  it("a namespace with fewer hot keys than another still gets its own", () => {
    const l1 = new MemoryLayer({ maxBytes: 64 << 20, maxEntries: 100_000 });
    const entry = (n: number) => ({
      value: bytes(`v${n}`),
      createdAt: Date.now(),
      freshUntil: Date.now() + HOUR,
      expiresAt: Date.now() + HOUR,
      staleUntil: Date.now() + HOUR,
      version: 1n,
      tags: [],
      flags: 0,
      loadMs: 0,
    });
    for (let i = 0; i < 200; i++) {
      l1.set("big", `k${i}`, entry(i));
      for (let r = 0; r < 10; r++) l1.get("big", `k${i}`);
    }
    for (let i = 0; i < 3; i++) {
      l1.set("small", `s${i}`, entry(i));
      l1.get("small", `s${i}`);
    }
    const top = l1.topKeys(3, "small");
    expect(top.map((k) => k.key).sort()).toEqual(["s0", "s1", "s2"]);
    expect(top.every((k) => k.namespace === "small")).toBe(true);
  });
});

describe("9. policy fields that had no effect", () => {
  it("l1.admission false: the namespace's new keys are not refused by TinyLFU", async () => {
    const present = async (admission: boolean) => {
      const { manager } = fleet({
        maxEntries: 200,
        change: (s) => {
          s.l1.admission = admission;
        },
      });
      // Establish 200 hot keys (read often), then write 100 one-hit keys.
      for (let i = 0; i < 200; i++) await manager.set("hot", `h${i}`, bytes("x"));
      for (let r = 0; r < 5; r++) for (let i = 0; i < 200; i++) await manager.get("hot", `h${i}`);
      for (let i = 0; i < 100; i++) await manager.set("hot", `new${i}`, bytes("y"));
      let kept = 0;
      for (let i = 0; i < 100; i++) if (manager.peekL1("hot", `new${i}`)) kept++;
      return kept;
    };
    const withAdmission = await present(true);
    const without = await present(false);
    // With TinyLFU the one-hit keys lose every duel against hot keys; without it they take
    // the room of probation and window (the hot keys sit in protected, 80% of main).
    expect(withAdmission).toBeLessThan(10);
    expect(without).toBeGreaterThan(30);
  });

  it("removed fields are refused in policies instead of being silently ignored", () => {
    expect(() => policyFromJson({ promotion: { useAdmission: true } }, "p")).toThrow(/useAdmission/);
    expect(() => policyFromJson({ l1: { maxEntries: 10 } }, "p")).toThrow(/maxEntries/);
  });
});

describe("10. an invalidation racing a load", () => {
  it("the load that began before Invalidate(key) is not stored, and later reads do not join it", async () => {
    const { manager, origin } = fleet();
    origin.hold = true;
    const before = manager.get("p", "k");
    await flush();
    origin.change("k");
    await manager.invalidate("p", { keys: ["k"] });
    const after = manager.get("p", "k"); // must start its own load, not join the old one
    await flush();
    expect(origin.calls).toBe(2);
    origin.release();
    expect(text((await before).value)).toBe("k@v1");
    expect(text((await after).value)).toBe("k@v2");
    expect(text((await manager.get("p", "k")).value)).toBe("k@v2");
  });

  it("a notice from elsewhere detaches only the loads that began by its time (late or replayed notices)", async () => {
    const { manager, origin, clock } = fleet();
    origin.hold = true;
    const early = clock.now();
    clock.advance(10);
    const loading = manager.get("p", "k");
    await flush();
    // Dated before the load began (delivered late, or replayed after a consumer restart): the
    // load reads what came after it, so readers keep sharing it.
    for (const notice of [
      { keys: ["k"], tags: [], cause: "invalidate" as const, at: early },
      { keys: [], tags: ["t"], cause: "invalidate" as const, at: early },
      { keys: [], tags: [], prefix: "k", cause: "invalidate" as const, at: early },
    ]) {
      await manager.applyInvalidation("p", notice, false);
    }
    const joined = manager.get("p", "k");
    await flush();
    expect(origin.calls).toBe(1);
    // Dated after it began: the load may predate the change, so the next reader loads anew.
    clock.advance(1);
    await manager.applyInvalidation("p", { keys: [], tags: ["t"], cause: "invalidate", at: clock.now() }, false);
    const fresh = manager.get("p", "k");
    await flush();
    expect(origin.calls).toBe(2);
    origin.release();
    await Promise.all([loading, joined, fresh]);
  });

  it("a tag invalidated during a load hides its result, even when the load stored it", async () => {
    const { manager, origin } = fleet();
    origin.tags = ["t"];
    origin.hold = true;
    const before = manager.get("p", "k");
    await flush();
    await manager.invalidate("p", { tags: ["t"] });
    origin.release();
    await before;
    origin.hold = false;
    await manager.get("p", "k");
    expect(origin.calls).toBe(2);
  });

  it("another instance's load that began before the invalidation cannot write L2 (tombstone)", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    const b = fleet({ shared });
    b.origin.hold = true;
    const loading = b.manager.get("p", "k", { bypassL1: true });
    await flush();
    await a.manager.invalidate("p", { keys: ["k"] });
    b.origin.release();
    await loading;
    expect(await new SharedMemoryLayer(shared).peek("p", "k")).toBeUndefined();
  });

  it("a Set during a load wins over the older loaded value", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    a.origin.hold = true;
    const loading = a.manager.get("p", "k");
    await flush();
    await a.manager.set("p", "k", bytes("written"));
    a.origin.release();
    await loading;
    expect(text((await a.manager.get("p", "k")).value)).toBe("written");
    expect(text((await a.manager.get("p", "k", { bypassL1: true })).value)).toBe("written");
  });
});

describe("12. stale means past freshFor", () => {
  it("a value whose refresh fails is served as stale, and never to allow_stale: false", async () => {
    const { manager, origin, clock } = fleet({
      change: (s) => {
        s.l1.ttlMs = 10_000;
        s.l1.freshForMs = 2_000;
      },
    });
    await manager.get("p", "k");
    origin.failing = true;
    clock.advance(3_000);
    const served = await manager.get("p", "k");
    expect(served).toMatchObject({ found: true, stale: true });
    await flush();
    await expect(manager.get("p", "k", { allowStale: false })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
  });
});

describe("Invalidate is acknowledged only once shared effects are durable", () => {
  it("L2 unreachable: UNAVAILABLE naming what is queued; the local part is applied", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const a = fleet({ shared });
    await a.manager.get("p", "k");
    shared.down = true;
    await expect(a.manager.invalidate("p", { keys: ["k"] })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
      message: expect.stringContaining("L2"),
    });
    expect(a.manager.peekL1("p", "k")).toBeUndefined();
  });

  it("the event bus does not acknowledge: UNAVAILABLE", async () => {
    const events: EventBus = { invalidated: async () => false };
    const { manager } = fleet({ events });
    await expect(manager.invalidate("p", { tags: ["t"] })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    const acknowledging = fleet({ events: { invalidated: async () => true } });
    expect(await acknowledging.manager.invalidate("p", { tags: ["t"] })).toMatchObject({ published: true });
  });
});

describe("L1 trust", () => {
  it("an untrusted L1 is skipped, stale candidates included; trusted again, it answers", async () => {
    const trust = { trusted: true };
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const { manager, origin } = fleet({ shared, l1Trust: trust });
    await manager.get("p", "k");
    expect((await manager.get("p", "k")).source).toBe("l1");
    trust.trusted = false;
    expect((await manager.get("p", "k")).source).toBe("l2");
    shared.down = true;
    origin.failing = true;
    await expect(manager.get("p", "k")).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    trust.trusted = true;
    expect((await manager.get("p", "k")).source).toBe("l1");
  });
});

describe("write-behind and write-through: the cache and the system of record end at the same write", () => {
  /**
   * Kafka's stand-in: write-behind events in the order they were appended; the first `held` are
   * acknowledged on release, later ones at once (or refused, never logged, when `down` after).
   */
  function heldLog(held: number, downAfter = false) {
    const log: WriteBehindEvent[] = [];
    const release: (() => void)[] = [];
    const events: EventBus = {
      invalidated: async () => true,
      writeBehind: (event) => {
        if (downAfter && log.length >= held) return Promise.reject(new Error("kafka is down"));
        log.push(event);
        if (log.length > held) return Promise.resolve();
        return new Promise<void>((resolve) => release.push(resolve));
      },
    };
    return { log, release: (i: number) => (release[i] as () => void)(), events };
  }

  /** What the sink leaves at the writer for a key: the highest version (the log's last among equals). */
  const sinkKeeps = (log: readonly { version: bigint; value: Uint8Array }[]) =>
    log.reduce((kept, e) => (e.version >= kept.version ? e : kept));

  /** Two instances over one L2; the second Set's version is the higher (it began 1 ms later). */
  async function concurrentSets(
    options: { events?: EventBus; writer?: Writer },
    write: (m: CacheManager, value: string) => Promise<WriteResult>,
  ) {
    const clock = new ManualClock(1_000_000_000);
    const shared = new SharedMemoryStore(clock);
    const a = fleet({ shared, ...options });
    const b = fleet({ shared, ...options });
    const first = write(a.manager, "a");
    await flush();
    clock.advance(1);
    const second = write(b.manager, "b");
    await flush();
    return { a, b, first, second };
  }

  /** A write-behind Set of "new" on A, held until Kafka's stand-in releases it; the clock 1 ms on. */
  async function heldWriteBehindSet() {
    const clock = new ManualClock(1_000_000_000);
    const shared = new SharedMemoryStore(clock);
    const kafka = heldLog(1);
    const a = fleet({ shared, events: kafka.events });
    const b = fleet({ shared, events: kafka.events });
    const setting = a.manager.set("p", "k", bytes("new"), { writeMode: "write-behind" });
    await flush();
    clock.advance(1);
    return { clock, kafka, b, setting };
  }

  it("write-behind: Kafka acknowledges the newer Set first; the older one goes out again above it", async () => {
    const kafka = heldLog(2);
    const { a, first, second } = await concurrentSets({ events: kafka.events }, (m, v) =>
      m.set("p", "k", bytes(v), { writeMode: "write-behind" }),
    );
    expect(kafka.log.map((e) => text(e.value))).toEqual(["a", "b"]);
    kafka.release(1);
    const newer = await second;
    kafka.release(0);
    const older = await first;
    expect(newer).toMatchObject({ applied: true, version: (kafka.log[1] as WriteBehindEvent).version });
    // Its store lost to the newer copy: sent again above it (the cache never holds a version the
    // sink does not get), then cached.
    expect(kafka.log.map((e) => text(e.value))).toEqual(["a", "b", "a"]);
    expect(older).toMatchObject({ applied: true, version: (kafka.log[2] as WriteBehindEvent).version });
    const cached = await a.manager.get("p", "k", { bypassL1: true, skipLoader: true });
    const written = sinkKeeps(kafka.log);
    expect(cached.version).toBe(written.version);
    expect(text(cached.value)).toBe(text(written.value));
  });

  it("write-behind: a Set that cannot go out again above the newer copy answers ABORTED, saying it went out", async () => {
    const kafka = heldLog(2, true);
    const { a, first, second } = await concurrentSets({ events: kafka.events }, (m, v) =>
      m.set("p", "k", bytes(v), { writeMode: "write-behind" }),
    );
    kafka.release(1);
    await second;
    kafka.release(0);
    // Not UNAVAILABLE ("nothing changed"): its first event is committed and reaches the sink.
    await expect(first).rejects.toMatchObject({
      code: Status.ABORTED,
      message: expect.stringMatching(/went out at v\d+ \(the system of record may get it\).*kafka is down.*try again/),
    });
    // Nothing of it was cached: the newer copy stays, and the sink (highest version) ends there too.
    expect(text((await a.manager.get("p", "k", { bypassL1: true, skipLoader: true })).value)).toBe("b");
    expect(kafka.log.map((e) => text(e.value))).toEqual(["a", "b"]);
    expect(text(sinkKeeps(kafka.log).value)).toBe("b");
  });

  it("write-behind: a load that began after the Set read the origin before the sink wrote it; the Set still wins", async () => {
    const { kafka, b, setting } = await heldWriteBehindSet();
    // The origin does not have the write yet (the sink has not run): the load reads the old value,
    // and its version (when it began) is above the Set's.
    expect(text((await b.manager.get("p", "k")).value)).toBe("k@v1");
    kafka.release(0);
    const answer = await setting;
    expect(answer.applied).toBe(true);
    const cached = await b.manager.get("p", "k", { bypassL1: true, skipLoader: true });
    expect(text(cached.value)).toBe("new");
    expect(cached.version).toBe(answer.version);
    expect(sinkKeeps(kafka.log).version).toBe(answer.version);
  });

  it("write-behind: a load that began after the Set chose its version and stores after it does not replace it", async () => {
    const { clock, kafka, b, setting } = await heldWriteBehindSet();
    b.origin.hold = true;
    const reading = b.manager.get("p", "k"); // misses, loads the origin's old value (no version)
    await flush();
    clock.advance(1);
    kafka.release(0);
    const answer = await setting;
    b.origin.release();
    // Concurrent with the Set, the read may answer either value; the cache keeps the Set's.
    expect(["k@v1", "new"]).toContain(text((await reading).value));
    const cached = await b.manager.get("p", "k", { bypassL1: true, skipLoader: true });
    expect(text(cached.value)).toBe("new");
    expect(cached.version).toBe(answer.version);
    expect(text((await b.manager.get("p", "k")).value)).toBe("new");
  });

  it("a loader that gives versions is ordered by them: its newer row replaces a Set that landed while it loaded", async () => {
    const clock = new ManualClock(1_000_000_000);
    const shared = new SharedMemoryStore(clock);
    const a = fleet({ shared });
    const b = fleet({ shared });
    b.origin.hold = true;
    b.origin.version = 9n;
    const reading = b.manager.get("p", "k");
    await flush();
    clock.advance(1);
    await a.manager.set("p", "k", bytes("set"), { version: 5n });
    clock.advance(1);
    b.origin.release();
    expect(await reading).toMatchObject({ version: 9n });
    expect((await a.manager.get("p", "k", { bypassL1: true, skipLoader: true })).version).toBe(9n);
  });

  it("write-through: the origin's newer write reached the cache first; the older one goes out again above it", async () => {
    const received: StoreItemInput[] = [];
    const release: (() => void)[] = [];
    const writer: Writer = {
      store: (_namespace, items) => {
        received.push(...items);
        if (received.length > 2) return Promise.resolve(undefined);
        return new Promise((resolve) => release.push(() => resolve(undefined)));
      },
    };
    const { b, first, second } = await concurrentSets({ writer }, (m, v) =>
      m.set("p", "k", bytes(v), { writeMode: "write-through" }),
    );
    (release[1] as () => void)();
    await second;
    (release[0] as () => void)();
    const older = await first;
    expect(received.map((item) => text(item.value))).toEqual(["a", "b", "a"]);
    expect(older).toMatchObject({ applied: true, version: (received[2] as StoreItemInput).version });
    const cached = await b.manager.get("p", "k", { bypassL1: true, skipLoader: true });
    // A writer that keeps the highest version it is given ends where the cache does.
    const newest = sinkKeeps(received);
    expect(cached.version).toBe(newest.version);
    expect(text(cached.value)).toBe(text(newest.value));
  });

  it("an explicit version that went out, then lost to a concurrent newer copy: applied, ordered before it", async () => {
    const kafka = heldLog(2);
    const { a, first, second } = await concurrentSets({ events: kafka.events }, (m, v) =>
      m.set("p", "k", bytes(v), { writeMode: "write-behind", version: v === "a" ? 10n : 20n }),
    );
    kafka.release(1);
    await second;
    kafka.release(0);
    // It reached Kafka, so the sink gets it: "applied: false" (nothing changed) would not be true.
    expect(await first).toMatchObject({ applied: true, version: 10n });
    expect(kafka.log).toHaveLength(2);
    expect(text((await a.manager.get("p", "k", { bypassL1: true, skipLoader: true })).value)).toBe("b");
    expect(text(sinkKeeps(kafka.log).value)).toBe("b");
  });

  it("write-behind with Redis not answering: the Set still works, versioned from L1", async () => {
    const shared = new SharedMemoryStore(new ManualClock(1_000_000_000));
    const events: EventBus = { invalidated: async () => true, writeBehind: async () => {} };
    const { manager } = fleet({ shared, events });
    shared.down = true;
    expect(await manager.set("p", "k", bytes("v"), { writeMode: "write-behind" })).toMatchObject({ applied: true });
    expect(text(manager.peekL1("p", "k")?.value)).toBe("v");
  });
});
