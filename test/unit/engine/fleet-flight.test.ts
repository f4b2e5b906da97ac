// The fleet single flight on a manual clock: leases taken in one call, waits that move only as
// the clock does, and every way a wait ends (a peer's value, a released lease, a holder slower
// than the hold time, coordination gone).
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/engine/clock.js";
import type { Entry } from "../../../src/engine/entry.js";
import { type FleetMiss, loadOncePerFleet } from "../../../src/engine/fleet-flight.js";
import type { Coordination, Lease, LeasePoll } from "../../../src/engine/layer.js";
import type { Lookup } from "../../../src/engine/types.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

function lookup(key: string, source: Lookup["source"]): Lookup {
  return {
    key,
    found: true,
    value: undefined,
    source,
    stale: false,
    ageMs: 0,
    ttlRemainingMs: 0,
    version: 1n,
    tags: [],
  };
}

function entry(): Entry {
  return {
    value: new Uint8Array(1),
    createdAt: 0,
    freshUntil: 1e15,
    expiresAt: 1e15,
    staleUntil: 1e15,
    version: 1n,
    tags: [],
    flags: 0,
    loadMs: 0,
  };
}

/** Leases and values in memory; `peer` takes leases as another instance would. */
class MemoryCoordination implements Coordination {
  readonly leases = new Map<string, { wanted: boolean }>();
  readonly values = new Map<string, Entry>();
  readonly acquired: string[][] = [];
  polls = 0;
  reachable = true;

  async acquireLeases(_namespace: string, keys: readonly string[]): Promise<(Lease | "held")[] | "unavailable"> {
    if (!this.reachable) return "unavailable";
    this.acquired.push([...keys]);
    return keys.map((key) => {
      const held = this.leases.get(key);
      if (held) {
        held.wanted = true;
        return "held";
      }
      return this.take(key);
    });
  }

  async poll(_namespace: string, keys: readonly string[]): Promise<LeasePoll> {
    this.polls++;
    if (!this.reachable) throw new Error("unreachable");
    return { entries: keys.map((key) => this.values.get(key)), held: keys.map((key) => this.leases.has(key)) };
  }

  take(key: string): Lease {
    const state = { wanted: false };
    this.leases.set(key, state);
    return {
      wanted: async () => {
        if (!state.wanted) this.leases.delete(key);
        return state.wanted;
      },
      release: async () => {
        if (this.leases.get(key) === state) this.leases.delete(key);
      },
    };
  }
}

/** MemoryCoordination whose holders say when they release a lease someone waits for. */
class AnnouncingCoordination extends MemoryCoordination {
  readonly watchers = new Map<string, Set<() => void>>();

  watchReleases(_namespace: string, keys: readonly string[], listener: () => void): () => void {
    for (const key of keys) this.watchers.set(key, (this.watchers.get(key) ?? new Set()).add(listener));
    return () => {
      for (const key of keys) {
        this.watchers.get(key)?.delete(listener);
        if (this.watchers.get(key)?.size === 0) this.watchers.delete(key);
      }
    };
  }

  override take(key: string): Lease {
    const lease = super.take(key);
    const state = this.leases.get(key);
    return {
      wanted: lease.wanted,
      release: async () => {
        await lease.release();
        if (state?.wanted) for (const listener of this.watchers.get(key) ?? []) listener();
      },
    };
  }
}

function setup(coordination = new MemoryCoordination()) {
  const clock = new ManualClock(1_000);
  const loaded: { keys: string[]; leased: boolean }[] = [];
  let uncoordinated = 0;
  const host = {
    load(misses: readonly FleetMiss[], leases: ReadonlyMap<string, Lease> | undefined) {
      loaded.push({ keys: misses.map((m) => m.key), leased: leases !== undefined });
      return new Map(misses.map((m) => [m.key, Promise.resolve(lookup(m.key, "loader"))]));
    },
    fromPeer: (miss: FleetMiss, found: Entry | undefined) => (found ? lookup(miss.key, "l2") : undefined),
    uncoordinated: (count: number) => {
      uncoordinated += count;
    },
  };
  const run = (keys: string[], holdMs = 1_000) =>
    loadOncePerFleet(
      coordination,
      keys.map((key) => ({ key })),
      { namespace: "ns", holdMs, checkFirst: false, clock, scheduler: clock },
      host,
    );
  /** Moves the clock in small steps, letting every wait that comes due go on. */
  const advance = async (ms: number, step = 5) => {
    for (let moved = 0; moved < ms; moved += step) {
      clock.advance(step);
      await flush();
    }
  };
  return { clock, coordination, loaded, run, advance, uncoordinated: () => uncoordinated };
}

describe("loadOncePerFleet", () => {
  it("takes every key's lease in one call, loads the won keys together and waits for the rest as the clock moves", async () => {
    const { coordination, loaded, run, advance } = setup();
    const peer = coordination.take("k2");
    const answers = run(["k1", "k2", "k3"]);
    await flush();
    expect(coordination.acquired).toEqual([["k1", "k2", "k3"]]);
    expect(loaded).toEqual([{ keys: ["k1", "k3"], leased: true }]);
    expect(coordination.leases.get("k2")?.wanted).toBe(true);
    expect((await answers.get("k1"))?.source).toBe("loader");

    // Nothing polls until time moves: the wait is the scheduler's, not the wall clock's.
    await flush();
    expect(coordination.polls).toBe(0);
    await advance(5);
    expect(coordination.polls).toBe(1);

    coordination.values.set("k2", entry());
    await peer.release();
    await advance(100);
    expect((await answers.get("k2"))?.source).toBe("l2");
    expect(loaded).toHaveLength(1);
    expect(coordination.leases.size).toBe(0);
  });

  it("polls 5 ms apart at first, doubling to 100 ms", async () => {
    const { coordination, run, advance } = setup();
    coordination.take("k");
    run(["k"]);
    await flush();
    const pollsAt: number[] = [];
    for (let t = 0; t < 400; t++) {
      const before = coordination.polls;
      await advance(1, 1);
      if (coordination.polls > before) pollsAt.push(t + 1);
    }
    expect(pollsAt).toEqual([5, 15, 35, 75, 155, 255, 355]);
  });

  it("polls at once when the holder says it released a lease waited for, with the clock standing still", async () => {
    const coordination = new AnnouncingCoordination();
    const { run, advance } = setup(coordination);
    const peer = coordination.take("k");
    const other = coordination.take("other");
    const answer = run(["k"]).get("k");
    await flush();
    await advance(5);
    expect(coordination.polls).toBe(1); // the first poll, 5 ms in; the next is due 10 ms later
    expect(coordination.watchers.has("k")).toBe(true);

    // Another key's release is no word for this wait.
    coordination.leases.get("other")!.wanted = true;
    await other.release();
    await flush();
    expect(coordination.polls).toBe(1);

    coordination.values.set("k", entry());
    await peer.release();
    await flush();
    expect(coordination.polls).toBe(2);
    expect((await answer)?.source).toBe("l2");
    expect(coordination.watchers.size).toBe(0); // the watch ends with the wait
  });

  it("takes a lease released without a value, and loads under it", async () => {
    const { coordination, loaded, run, advance } = setup();
    const peer = coordination.take("k");
    const answer = run(["k"]).get("k");
    await advance(20);
    await peer.release(); // the peer's load failed: nothing in L2
    await advance(50);
    expect((await answer)?.source).toBe("loader");
    expect(loaded).toEqual([{ keys: ["k"], leased: true }]);
    expect(coordination.acquired).toEqual([["k"], ["k"]]);
  });

  it("loads without the lease once a holder keeps it longer than the hold time, and counts it", async () => {
    const { coordination, loaded, run, advance, uncoordinated } = setup();
    coordination.take("k");
    const answer = run(["k"], 1_000).get("k");
    await advance(990);
    expect(loaded).toEqual([]);
    await advance(20);
    expect((await answer)?.source).toBe("loader");
    expect(loaded).toEqual([{ keys: ["k"], leased: false }]);
    expect(uncoordinated()).toBe(1);
  });

  it("loads at once without leases when coordination cannot be reached, and when a poll fails", async () => {
    const { coordination, loaded, run, advance, uncoordinated } = setup();
    coordination.reachable = false;
    expect((await run(["a", "b"]).get("b"))?.source).toBe("loader");
    expect(loaded).toEqual([{ keys: ["a", "b"], leased: false }]);

    coordination.reachable = true;
    coordination.take("c");
    const answer = run(["c"]).get("c");
    await flush();
    coordination.reachable = false;
    await advance(5);
    expect((await answer)?.source).toBe("loader");
    expect(loaded.at(-1)).toEqual({ keys: ["c"], leased: false });
    expect(uncoordinated()).toBe(3);
  });
});
