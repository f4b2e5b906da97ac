import type { Clock } from "../engine/clock.js";
import { systemClock } from "../engine/clock.js";
import { type Entry, EntryFlags, replaces, tombstoneEntry, withExpiry } from "../engine/entry.js";
import {
  type Coordination,
  countersOf,
  countLookup,
  emptyCounters,
  type Layer,
  type LayerCounters,
  type Lease,
  type LeasePoll,
  type StampSet,
  type Tombstone,
} from "../engine/layer.js";
import { ReleaseWatchers } from "../engine/release-watchers.js";
import { CacheError, Status } from "../errors.js";

/** What a shared store keeps per key: the entry (or tombstone) and when it goes. */
interface Stored {
  entry: Entry;
  until: number;
}

/**
 * The shared part of an in-memory L2: what Redis is to the Redis layer. Several
 * {@link SharedMemoryLayer}s over one store behave like instances of a fleet sharing one
 * Redis: versioned writes, tombstones, invalidation stamps every reader sees. `down` makes
 * every call fail, as an unreachable Redis would.
 *
 *   const store = new SharedMemoryStore(clock);
 *   const a = new SharedMemoryLayer(store), b = new SharedMemoryLayer(store);
 */
export class SharedMemoryStore {
  readonly entries = new Map<string, Stored>();
  readonly stamps = new Map<string, StampSet>();
  /** Bumped on every stamp change of a namespace, so layers know when to fetch stamps. */
  readonly stampVersions = new Map<string, number>();
  /** Leases on keys (fleet single flight): who holds each, until when, and whether someone waits. */
  readonly leases = new Map<string, { until: number; wanted: boolean }>();
  /** Per lease, those told when it is released while wanted (see Coordination.watchReleases). */
  readonly releaseWatchers = new ReleaseWatchers();
  /** While true, every call rejects as an unreachable service would. */
  down = false;

  constructor(readonly clock: Clock = systemClock) {}

  /** The live entry (not a tombstone, not past its time) stored under a key. */
  live(id: string): Entry | undefined {
    const stored = this.read(id);
    return stored && (stored.entry.flags & EntryFlags.TOMBSTONE) === 0 ? stored.entry : undefined;
  }

  /** Whatever is stored under a key and still within its time, tombstones included. */
  read(id: string): Stored | undefined {
    const stored = this.entries.get(id);
    if (stored && this.clock.now() >= stored.until) {
      this.entries.delete(id);
      return undefined;
    }
    return stored;
  }
}

/**
 * An asynchronous L2 kept in memory, with the Redis layer's semantics (see
 * {@link SharedMemoryStore}): for engine tests and for checking a layer of one's own against
 * the same expectations. Stamps set through any layer of the store reach every layer's
 * `watchStamps` listeners on their next read, as with Redis.
 */
export class SharedMemoryLayer implements Layer<true> {
  readonly name = "l2";
  private readonly perNamespace = new Map<string, LayerCounters>();
  private readonly total = emptyCounters();
  private readonly seenStampVersions = new Map<string, number>();
  private readonly listeners: ((namespace: string, stamps: StampSet) => void)[] = [];
  readonly coordination: Coordination;

  constructor(readonly store: SharedMemoryStore) {
    this.coordination = new SharedMemoryCoordination(store);
  }

  async get(namespace: string, key: string): Promise<Entry | undefined> {
    this.reachable();
    this.syncStamps(namespace);
    const entry = this.store.live(id(namespace, key));
    countLookup(this.counters(namespace), this.total, entry !== undefined);
    return entry;
  }

  async peek(namespace: string, key: string): Promise<Entry | undefined> {
    if (this.store.down) return undefined;
    return this.store.live(id(namespace, key));
  }

  async getMany(namespace: string, keys: readonly string[]): Promise<(Entry | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(namespace, key).catch(() => undefined)));
  }

  async set(namespace: string, key: string, entry: Entry): Promise<boolean> {
    this.reachable();
    const until = entry.staleUntil;
    if (until <= this.store.clock.now()) return false;
    const old = this.store.read(id(namespace, key))?.entry;
    if (old && (old.flags & EntryFlags.TOMBSTONE) !== 0 && entry.createdAt <= old.createdAt) return false;
    if (old && (old.flags & EntryFlags.TOMBSTONE) === 0 && !replaces(entry, old)) return false;
    this.store.entries.set(id(namespace, key), { entry, until });
    this.counters(namespace).puts++;
    this.total.puts++;
    return true;
  }

  async delete(namespace: string, key: string, tombstone?: Tombstone): Promise<boolean> {
    this.reachable();
    const present = this.store.live(id(namespace, key)) !== undefined;
    if (!tombstone) {
      this.store.entries.delete(id(namespace, key));
      return present;
    }
    const old = this.store.read(id(namespace, key))?.entry;
    if (old && (old.flags & EntryFlags.TOMBSTONE) !== 0 && old.createdAt >= tombstone.at) return false;
    const marker = tombstoneEntry(tombstone.at);
    this.store.entries.set(id(namespace, key), { entry: marker, until: this.store.clock.now() + tombstone.keepMs });
    return present;
  }

  async currentVersion(namespace: string, key: string): Promise<bigint> {
    this.reachable();
    return this.store.live(id(namespace, key))?.version ?? 0n;
  }

  async clear(namespace?: string): Promise<void> {
    this.reachable();
    for (const key of [...this.store.entries.keys()]) {
      if (namespace === undefined || key.startsWith(`${namespace}\u0000`)) this.store.entries.delete(key);
    }
  }

  async adjustTtl(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const entry = await this.peek(namespace, key);
    return entry ? this.set(namespace, key, withExpiry(entry, expiresAt)) : false;
  }

  counters(namespace?: string): LayerCounters {
    if (namespace === undefined) return this.total;
    return countersOf(this.perNamespace, namespace);
  }

  async stamp(namespace: string, stamps: { tags: readonly string[]; prefix?: string }, at: number): Promise<void> {
    this.reachable();
    const set = this.store.stamps.get(namespace) ?? { tags: new Map(), prefixes: new Map(), all: -Infinity };
    for (const tag of stamps.tags) set.tags.set(tag, Math.max(at, set.tags.get(tag) ?? at));
    if (stamps.prefix === "") set.all = Math.max(set.all, at);
    else if (stamps.prefix !== undefined)
      set.prefixes.set(stamps.prefix, Math.max(at, set.prefixes.get(stamps.prefix) ?? at));
    this.store.stamps.set(namespace, set);
    this.store.stampVersions.set(namespace, (this.store.stampVersions.get(namespace) ?? 0) + 1);
  }

  watchStamps(listener: (namespace: string, stamps: StampSet) => void): void {
    this.listeners.push(listener);
  }

  /** Hands the namespace's stamps to the listeners when they changed since this layer last looked. */
  private syncStamps(namespace: string): void {
    const version = this.store.stampVersions.get(namespace) ?? 0;
    if (version === (this.seenStampVersions.get(namespace) ?? 0)) return;
    this.seenStampVersions.set(namespace, version);
    const stamps = this.store.stamps.get(namespace);
    if (stamps) for (const listener of this.listeners) listener(namespace, stamps);
  }

  private reachable(): void {
    if (this.store.down) throw new CacheError(Status.UNAVAILABLE, "the shared memory store is down");
  }
}

/**
 * Leases over the shared store, with the Redis layer's semantics: one holder per key until it
 * releases or `holdMs` pass; asking for a held lease marks it wanted; a holder asking whether
 * it is wanted releases it in the same step when nobody asked.
 */
class SharedMemoryCoordination implements Coordination {
  constructor(private readonly store: SharedMemoryStore) {}

  async acquireLeases(
    namespace: string,
    keys: readonly string[],
    holdMs: number,
  ): Promise<(Lease | "held")[] | "unavailable"> {
    const { store } = this;
    if (store.down) return "unavailable";
    const now = store.clock.now();
    return keys.map((key): Lease | "held" => {
      const leaseId = id(namespace, key);
      const current = store.leases.get(leaseId);
      if (current && now < current.until) {
        current.wanted = true;
        return "held";
      }
      const held = { until: now + holdMs, wanted: false };
      store.leases.set(leaseId, held);
      const mine = () => store.leases.get(leaseId) === held && store.clock.now() < held.until;
      return {
        wanted: async () => {
          if (store.down || !mine()) return false;
          if (held.wanted) return true;
          store.leases.delete(leaseId);
          return false;
        },
        release: async () => {
          if (store.down || store.leases.get(leaseId) !== held) return;
          store.leases.delete(leaseId);
          // Like the Redis layer: word goes out when someone waits for the lease.
          if (held.wanted) store.releaseWatchers.tell(leaseId);
        },
      };
    });
  }

  watchReleases(namespace: string, keys: readonly string[], listener: () => void): () => void {
    return this.store.releaseWatchers.watch(
      keys.map((key) => id(namespace, key)),
      listener,
    );
  }

  async poll(namespace: string, keys: readonly string[]): Promise<LeasePoll> {
    const { store } = this;
    if (store.down) throw new CacheError(Status.UNAVAILABLE, "the shared memory store is down");
    const now = store.clock.now();
    return {
      entries: keys.map((key) => store.live(id(namespace, key))),
      held: keys.map((key) => {
        const lease = store.leases.get(id(namespace, key));
        return lease !== undefined && now < lease.until;
      }),
    };
  }
}

function id(namespace: string, key: string): string {
  return `${namespace}\u0000${key}`;
}
