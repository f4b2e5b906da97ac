// The one contract every Layer implementation must pass (memory, Redis single node, Redis
// Cluster, the in-memory shared L2, and a layer of your own): registered once per
// implementation with `layerContract(name, factory)`. Runs under vitest.
//
//   import { layerContract } from "multilayer-cache/testing";
//   layerContract("my layer", { shared: true, create: async () => new MyLayer(), dispose: async () => {} });
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Entry, EntryFlags } from "../engine/entry.js";
import type { Layer, Lease, StampSet } from "../engine/layer.js";

type AnyLayer = Layer<true> | Layer<false>;

/** How to make (and dispose of) the layer under test; `second` makes another instance sharing its store. */
export interface LayerFactory {
  create(): Promise<AnyLayer>;
  second?(): Promise<AnyLayer>;
  dispose(layer: AnyLayer): Promise<void>;
  /** Whether entries are shared between instances (remote layers). */
  shared: boolean;
  /** Whether the layer offers fleet coordination (leases). */
  coordinates?: boolean;
  /** Whether its coordination sends word of leases released while wanted (`watchReleases`). */
  announcesReleases?: boolean;
}

const bytes = (s: string) => new TextEncoder().encode(s);

function entry(value: string, version: bigint, overrides: Partial<Entry> = {}): Entry {
  const now = Date.now();
  return {
    value: bytes(value),
    createdAt: now + 0.125,
    freshUntil: now + 30_000,
    expiresAt: now + 60_000,
    staleUntil: now + 120_000,
    version,
    tags: ["red", "größe"],
    flags: 0,
    loadMs: 12.5,
    ...overrides,
  };
}

/** Registers the contract's tests for one layer implementation. */
export function layerContract(name: string, factory: LayerFactory): void {
  describe(`Layer contract: ${name}`, () => {
    let layer: AnyLayer;
    let ns: string;
    const extra: AnyLayer[] = [];

    beforeAll(async () => {
      layer = await factory.create();
    });
    afterAll(async () => {
      await factory.dispose(layer);
      for (const other of extra) await factory.dispose(other);
    });

    const fresh = () => {
      ns = `c${randomUUID().slice(0, 8)}`;
      return ns;
    };

    it("round-trips an entry with every field", async () => {
      fresh();
      const written = entry("hello", 42n);
      expect(await layer.set(ns, "k", written)).toBe(true);
      const read = await layer.get(ns, "k");
      expect(read).toBeDefined();
      expect(Buffer.from(read?.value ?? [])).toEqual(Buffer.from("hello"));
      expect(read).toMatchObject({
        createdAt: written.createdAt,
        freshUntil: written.freshUntil,
        expiresAt: written.expiresAt,
        staleUntil: written.staleUntil,
        version: 42n,
        tags: ["red", "größe"],
        flags: 0,
      });
      expect(read?.loadMs).toBeCloseTo(12.5, 3);
    });

    it("answers undefined for a missing key and keeps namespaces apart", async () => {
      fresh();
      expect(await layer.get(ns, "missing")).toBeUndefined();
      await layer.set(ns, "k", entry("one", 1n));
      expect(await layer.get(`${ns}x`, "k")).toBeUndefined();
    });

    it("answers getMany in key order, with misses in place", async () => {
      fresh();
      await layer.set(ns, "a", entry("A", 1n));
      await layer.set(ns, "c", entry("C", 1n));
      const many = await layer.getMany(ns, ["a", "b", "c"]);
      expect(many.map((e) => (e ? new TextDecoder().decode(e.value) : undefined))).toEqual(["A", undefined, "C"]);
    });

    it("answers reads started together each with its own key's entry", async () => {
      fresh();
      const other = `${ns}o`;
      for (let i = 0; i < 20; i += 2) await layer.set(ns, `k${i}`, entry(`v${i}`, BigInt(i + 1)));
      await layer.set(other, "k0", entry("other", 99n));
      // More reads than one Redis batch holds.
      const reads = Array.from({ length: 1200 }, (_, i) => layer.get(ns, `k${i % 20}`));
      const fromOther = layer.get(other, "k0");
      const text = (e: Entry | undefined) => (e ? new TextDecoder().decode(e.value) : undefined);
      expect((await Promise.all(reads)).map(text)).toEqual(
        Array.from({ length: 1200 }, (_, i) => (i % 2 === 0 ? `v${i % 20}` : undefined)),
      );
      expect(text(await fromOther)).toBe("other");
    });

    it("never replaces a newer version with an older one", async () => {
      fresh();
      expect(await layer.set(ns, "k", entry("v10", 10n))).toBe(true);
      expect(await layer.set(ns, "k", entry("v5", 5n))).toBe(false);
      expect((await layer.get(ns, "k"))?.version).toBe(10n);
      expect(await layer.set(ns, "k", entry("v11", 11n))).toBe(true);
      expect(new TextDecoder().decode((await layer.get(ns, "k"))?.value)).toBe("v11");
    });

    it("never replaces a value with a timed load's begun before it was created, whatever the versions", async () => {
      fresh();
      const now = Date.now();
      // A Set's value created at `now`, at a version chosen a little earlier.
      expect(await layer.set(ns, "k", entry("set", 100n, { createdAt: now }))).toBe(true);
      // A load that began before it (versioned by that time, above the Set's): refused.
      const stale = entry("loaded", 200n, { createdAt: now - 5, flags: EntryFlags.LOAD_TIMED });
      expect(await layer.set(ns, "k", stale)).toBe(false);
      expect(new TextDecoder().decode((await layer.get(ns, "k"))?.value)).toBe("set");
      // A load begun after it replaces it; so does any write that is no timed load, by version.
      expect(await layer.set(ns, "k", entry("later", 300n, { createdAt: now + 5, flags: EntryFlags.LOAD_TIMED }))).toBe(
        true,
      );
      expect(await layer.set(ns, "k", entry("replayed", 400n, { createdAt: now - 10 }))).toBe(true);
      expect(new TextDecoder().decode((await layer.get(ns, "k"))?.value)).toBe("replayed");
    });

    it("deletes", async () => {
      fresh();
      await layer.set(ns, "k", entry("v", 1n));
      expect(await layer.delete(ns, "k")).toBe(true);
      expect(await layer.get(ns, "k")).toBeUndefined();
      expect(await layer.delete(ns, "k")).toBe(false);
    });

    it("drops an entry once its stale window is over", async () => {
      fresh();
      const now = Date.now();
      await layer.set(ns, "short", entry("v", 1n, { freshUntil: now + 50, expiresAt: now + 60, staleUntil: now + 80 }));
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await layer.peek(ns, "short")).toBeUndefined();
    });

    it("counts hits and misses per namespace, but not for peek", async () => {
      fresh();
      await layer.set(ns, "k", entry("v", 1n));
      await layer.get(ns, "k");
      await layer.get(ns, "nope");
      await layer.peek(ns, "k");
      const counters = layer.counters(ns);
      expect(counters.hits).toBe(1);
      expect(counters.misses).toBe(1);
      expect(counters.puts).toBeGreaterThanOrEqual(1);
    });

    it("adjusts the TTL of a present key", async () => {
      fresh();
      await layer.set(ns, "k", entry("v", 1n));
      const later = Date.now() + 600_000;
      expect(await layer.adjustTtl(ns, "k", later)).toBe(true);
      expect((await layer.peek(ns, "k"))?.expiresAt).toBe(later);
      expect(await layer.adjustTtl(ns, "absent", later)).toBe(false);
    });

    if (factory.shared) {
      it("keeps a tombstone: read as absent, refusing values created at or before the deletion", async () => {
        fresh();
        const now = Date.now();
        await layer.set(ns, "k", entry("before", 1n, { createdAt: now - 10 }));
        expect(await layer.delete(ns, "k", { at: now, keepMs: 60_000 })).toBe(true);
        expect(await layer.get(ns, "k")).toBeUndefined();
        expect(await layer.peek(ns, "k")).toBeUndefined();
        // A load that began before the deletion cannot bring its value back, whatever its version.
        expect(await layer.set(ns, "k", entry("late load", 99n, { createdAt: now - 5 }))).toBe(false);
        expect(await layer.set(ns, "k", entry("same instant", 99n, { createdAt: now }))).toBe(false);
        expect(await layer.get(ns, "k")).toBeUndefined();
        // An older tombstone does not replace a newer one; a value made after it is stored.
        expect(await layer.delete(ns, "k", { at: now - 1_000, keepMs: 60_000 })).toBe(false);
        expect(await layer.set(ns, "k", entry("late load", 99n, { createdAt: now - 5 }))).toBe(false);
        expect(await layer.set(ns, "k", entry("after", 1n, { createdAt: now + 1 }))).toBe(true);
        expect(new TextDecoder().decode((await layer.get(ns, "k"))?.value)).toBe("after");
      });

      it("reports a key's current version: 0 when absent or deleted", async () => {
        fresh();
        expect(await layer.currentVersion?.(ns, "k")).toBe(0n);
        await layer.set(ns, "k", entry("v", 12345678901234567n));
        expect(await layer.currentVersion?.(ns, "k")).toBe(12345678901234567n);
        await layer.delete(ns, "k", { at: Date.now() + 1_000, keepMs: 60_000 });
        expect(await layer.currentVersion?.(ns, "k")).toBe(0n);
      });
    }

    if (factory.shared && factory.second) {
      it("shares entries and invalidation stamps with another instance", async () => {
        fresh();
        const other = await factory.second!();
        extra.push(other);
        const heard: StampSet[] = [];
        other.watchStamps?.((namespace, stamps) => {
          if (namespace === ns) heard.push(stamps);
        });
        await layer.set(ns, "k", entry("v", 1n));
        expect((await other.get(ns, "k"))?.version).toBe(1n);
        const at = Date.now() + 0.5;
        await layer.stamp?.(ns, { tags: ["red"], prefix: "user:" }, at, 60_000);
        await other.get(ns, "k"); // any read notices the new stamps
        const last = heard.at(-1);
        expect(last?.tags.get("red")).toBe(at);
        expect(last?.prefixes.get("user:")).toBe(at);
      });

      it("shows each of many concurrent reads the stamps written before it started", async () => {
        fresh();
        const other = extra[0] ?? (await factory.second!());
        const stampsHeard: StampSet[] = [];
        other.watchStamps?.((namespace, stamps) => {
          if (namespace === ns) stampsHeard.push(stamps);
        });
        await layer.set(ns, "k", entry("v", 1n));
        const before = await Promise.all(Array.from({ length: 20 }, () => other.get(ns, "k")));
        expect(before.every((read) => read?.version === 1n)).toBe(true);
        const at = Date.now() + 0.5;
        await layer.stamp?.(ns, { tags: ["red"] }, at, 60_000);
        // Every read started after the stamp answers only once the stamp was heard.
        const heardWhenAnswered = await Promise.all(
          Array.from({ length: 20 }, async () => {
            await other.get(ns, "k");
            return stampsHeard.at(-1)?.tags.get("red");
          }),
        );
        expect(heardWhenAnswered).toEqual(Array.from({ length: 20 }, () => at));
      });
    }

    if (factory.shared && factory.second && factory.coordinates) {
      it("gives a key's lease to one instance at a time, many keys in one call", async () => {
        fresh();
        const other = extra[0] ?? (await factory.second!());
        const mine = await layer.coordination?.acquireLeases(ns, ["k", "j"], 5_000);
        expect(Array.isArray(mine) && mine.every((lease) => typeof lease === "object")).toBe(true);
        const theirs = await other.coordination?.acquireLeases(ns, ["k", "j", "i"], 5_000);
        expect(Array.isArray(theirs) && theirs.map((lease) => typeof lease)).toEqual(["string", "string", "object"]);
        expect(theirs && theirs !== "unavailable" ? theirs.slice(0, 2) : []).toEqual(["held", "held"]);
        await layer.set(ns, "j", entry("v", 1n));
        const polled = await other.coordination?.poll(ns, ["k", "j", "i", "h"]);
        expect(polled?.held).toEqual([true, true, true, false]);
        expect(polled?.entries.map((e) => e?.version)).toEqual([undefined, 1n, undefined, undefined]);
        for (const lease of [...(Array.isArray(mine) ? mine : []), ...(Array.isArray(theirs) ? theirs : [])]) {
          if (typeof lease === "object") await lease.release();
        }
        expect((await other.coordination?.poll(ns, ["k", "j", "i"]))?.held).toEqual([false, false, false]);
        const again = await other.coordination?.acquireLeases(ns, ["k"], 5_000);
        expect(Array.isArray(again) && typeof again[0]).toBe("object");
        if (Array.isArray(again) && typeof again[0] === "object") await again[0].release();
      });

      it("tells a lease holder whether another instance waits for the key", async () => {
        fresh();
        const other = extra[0] ?? (await factory.second!());
        const coordination = layer.coordination;
        if (!coordination) throw new Error(`${name} offers no coordination`);
        const [alone, wanted] = (await coordination.acquireLeases(ns, ["alone", "wanted"], 5_000)) as Lease[];
        expect(await other.coordination?.acquireLeases(ns, ["wanted"], 5_000)).toEqual(["held"]);
        // Nobody asked: the answer releases the lease at once.
        expect(await alone?.wanted()).toBe(false);
        expect((await other.coordination?.poll(ns, ["alone"]))?.held).toEqual([false]);
        // Someone asked: the lease stays until released.
        expect(await wanted?.wanted()).toBe(true);
        expect((await other.coordination?.poll(ns, ["wanted"]))?.held).toEqual([true]);
        await wanted?.release();
        expect((await other.coordination?.poll(ns, ["wanted"]))?.held).toEqual([false]);
      });
    }

    if (factory.shared && factory.second && factory.coordinates && factory.announcesReleases) {
      it("tells the waiters of a wanted lease that it was released, once its value is stored", async () => {
        fresh();
        const other = extra[0] ?? (await factory.second!());
        const coordination = layer.coordination;
        const watch = other.coordination?.watchReleases?.bind(other.coordination);
        if (!coordination || !watch) throw new Error(`${name} sends no word of releases (no watchReleases)`);
        const heard = { waiting: 0, gone: 0, alone: 0 };
        const stopWaiting = watch(ns, ["w"], () => heard.waiting++);
        const stopGone = watch(ns, ["w"], () => heard.gone++);
        const stopAlone = watch(ns, ["alone"], () => heard.alone++);
        try {
          const [lease, alone] = (await coordination.acquireLeases(ns, ["w", "alone"], 5_000)) as Lease[];
          expect(await other.coordination?.acquireLeases(ns, ["w"], 5_000)).toEqual(["held"]); // now wanted
          stopGone(); // a watch that ended hears nothing
          await alone?.release(); // nobody waited for it: no word
          expect(await layer.set(ns, "w", entry("loaded", 1n), lease)).toBe(true);
          await lease?.release();
          // Word may travel on its own connection: wait for it, within bounds.
          for (let i = 0; i < 200 && heard.waiting === 0; i++) await new Promise((r) => setTimeout(r, 10));
          expect(heard).toEqual({ waiting: 1, gone: 0, alone: 0 });
          expect((await other.coordination?.poll(ns, ["w"]))?.entries[0]?.version).toBe(1n);
        } finally {
          stopWaiting();
          stopAlone();
        }
      });
    }
  });
}
