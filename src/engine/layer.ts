import type { Entry } from "./entry.js";
import type { ServiceHealth } from "./health.js";

type PromiseOr<T, Async extends boolean> = Async extends true ? Promise<T> : T;

/** Why an entry left a layer. */
export type RemovalCause = "size" | "expired" | "explicit" | "replaced";

/** Counters every layer keeps about itself. */
export interface LayerCounters {
  hits: number;
  misses: number;
  puts: number;
  evictions: Record<RemovalCause, number>;
  /** Writes refused by admission or because the entry was larger than the layer allows. */
  admissionRejections: number;
  /**
   * Entries read back that did not decrypt and authenticate (another key, namespace or key,
   * changed bytes, a key not in the ring): answered as misses, never served.
   */
  unreadable: number;
  entries: number;
  bytes: number;
}

/** A new, zeroed set of layer counters. */
export function emptyCounters(): LayerCounters {
  return {
    hits: 0,
    misses: 0,
    puts: 0,
    evictions: { size: 0, expired: 0, explicit: 0, replaced: 0 },
    admissionRejections: 0,
    unreadable: 0,
    entries: 0,
    bytes: 0,
  };
}

/** A namespace's counters in a layer's table, created (zeroed) on first use. */
export function countersOf(table: Map<string, LayerCounters>, namespace: string): LayerCounters {
  let counters = table.get(namespace);
  if (!counters) {
    counters = emptyCounters();
    table.set(namespace, counters);
  }
  return counters;
}

/** Counts one lookup, hit or miss, in a namespace's counters and in the layer's total. */
export function countLookup(namespace: LayerCounters, total: LayerCounters, hit: boolean): void {
  if (hit) {
    namespace.hits++;
    total.hits++;
  } else {
    namespace.misses++;
    total.misses++;
  }
}

/** A key with its estimated access frequency. */
export interface KeyFrequency {
  namespace: string;
  key: string;
  frequency: number;
}

/** Invalidation stamps of one namespace, as shared through a remote layer. */
export interface StampSet {
  /** tag → stamp (ms): entries with the tag created at or before it are gone. */
  tags: Map<string, number>;
  /** key prefix → stamp. */
  prefixes: Map<string, number>;
  /** Stamp for the whole namespace (−Infinity when none). */
  all: number;
}

/** A deletion marker: see {@link Layer.delete}. */
export interface Tombstone {
  /** When the key was deleted (the invalidation's stamp). */
  at: number;
  /** How long the marker is kept. */
  keepMs: number;
}

/** A held lease on a key: the holder loads it while other instances wait. */
export interface Lease {
  /**
   * Whether another instance waits for the key (it asked for the lease while this one held it),
   * so the value must reach the shared layer even where admission would keep it out. Answering
   * no releases the lease in the same step, so whoever asks later is a new miss, not a waiter
   * left without a value. False too when coordination cannot be reached.
   */
  wanted(): Promise<boolean>;
  /** Gives the lease up (once the value is stored); a no-op once released. */
  release(): Promise<void>;
}

/** The writes an invalidation removes from a write queue (see {@link Layer.forgetQueuedWrites}). */
export interface QueuedWriteTarget {
  keys: readonly string[];
  tags: readonly string[];
  prefix?: string | undefined;
  /** Values created at or before it. */
  at: number;
}

/** What the shared layer holds for keys others are loading, as seen by {@link Coordination.poll}. */
export interface LeasePoll {
  /** Per key, the entry the layer holds (read without counting a lookup), in the order asked. */
  entries: (Entry | undefined)[];
  /** Per key, whether some instance still holds its lease. */
  held: boolean[];
}

/**
 * Fleet-wide coordination a shared layer can offer: one instance loads a key while the
 * others wait for the value to appear in the layer. Every call is one round trip, bounded by
 * the layer's command bound.
 */
export interface Coordination {
  /**
   * Tries to take the leases on keys, all in one round trip: per key a Lease when won, or
   * `"held"` when another instance holds it (the lease is then marked wanted). `"unavailable"`
   * when coordination cannot be reached (load locally then). `holdMs`: the longest the holder
   * may keep a lease (its load's hard timeout); a holder that dies loses it sooner.
   */
  acquireLeases(
    namespace: string,
    keys: readonly string[],
    holdMs: number,
  ): Promise<(Lease | "held")[] | "unavailable">;
  /** One round trip for all keys: their entries and whether their leases are held. Rejects when unreachable. */
  poll(namespace: string, keys: readonly string[]): Promise<LeasePoll>;
  /**
   * Calls `listener` when a holder releases the lease of one of the keys while another instance
   * waits for it (its value is stored by then, or it failed), so the waiter polls at once rather
   * than at its next poll. A hint: it may come late or never, the polls stay the guarantee.
   * Returns the end of the watch.
   */
  watchReleases?(namespace: string, keys: readonly string[], listener: () => void): () => void;
}

/**
 * One cache layer. L1 is synchronous (`Layer<false>`), remote layers are asynchronous.
 * A layer decides alone about its admission, eviction and expiry; the manager only
 * orchestrates. Keys are always scoped by namespace.
 */
export interface Layer<Async extends boolean = true> {
  /** `l1`, `l2`, … as used in stats and metrics. */
  readonly name: string;
  /**
   * The entry of a key, counting a hit or miss. A remote layer that cannot be reached answers
   * undefined (or rejects; the engine takes either as a miss and goes on without the layer).
   */
  get(namespace: string, key: string): PromiseOr<Entry | undefined, Async>;
  /** Reads without counting a hit or touching recency/frequency (for inspection). */
  peek(namespace: string, key: string): PromiseOr<Entry | undefined, Async>;
  /** Answers in the order of `keys`; one round trip where the layer can. */
  getMany(namespace: string, keys: readonly string[]): PromiseOr<(Entry | undefined)[], Async>;
  /**
   * Stores an entry unless the layer holds a newer version or a tombstone newer than the
   * entry's creation (or admission refuses it). Returns whether it was stored. A remote layer
   * that cannot be reached rejects (after queueing the write for replay, where it queues).
   * `lease`: the fleet lease the value was loaded under, which a layer that coordinates may
   * release in the same step as the write (whoever then finds the lease gone finds the value);
   * the loader's side releases it too, a no-op once released.
   */
  set(namespace: string, key: string, entry: Entry, lease?: Lease): PromiseOr<boolean, Async>;
  /**
   * Removes a key; returns whether it was present. With `tombstone`, a shared layer keeps a
   * deletion marker for `keepMs` that refuses writes of values created at or before `at` (a
   * load that began before the deletion). A remote layer that cannot be reached rejects
   * (after queueing the delete for replay, where it queues).
   */
  delete(namespace: string, key: string, tombstone?: Tombstone): PromiseOr<boolean, Async>;
  /**
   * The version of the key's current copy (0n when absent). A remote layer that cannot answer
   * rejects, so a caller never mistakes "unreachable" for "absent".
   */
  currentVersion?(namespace: string, key: string): PromiseOr<bigint, Async>;
  /** Removes every entry of a namespace (or of all namespaces). */
  clear(namespace?: string): PromiseOr<void, Async>;
  /** Changes how long a present key lives; returns whether it was present. */
  adjustTtl(namespace: string, key: string, expiresAt: number): PromiseOr<boolean, Async>;
  /** Counters for one namespace, or for the whole layer. */
  counters(namespace?: string): LayerCounters;
  /**
   * Records invalidation stamps where every instance sees them (shared layers only).
   * `retainMs`: how long a stamp can matter (the longest an entry may live). A remote layer
   * that cannot be reached rejects (after queueing the stamps for replay).
   */
  stamp?(
    namespace: string,
    stamps: { tags: readonly string[]; prefix?: string },
    at: number,
    retainMs: number,
  ): PromiseOr<void, Async>;
  /** Calls `listener` whenever the layer learns of stamps set by any instance. */
  watchStamps?(listener: (namespace: string, stamps: StampSet) => void): void;
  /**
   * Drops the writes a remote layer queued while unreachable (not yet replayed) of values an
   * invalidation removes: of the namespace, created at or before `at`, and of one of `keys`,
   * carrying one of `tags`, or under `prefix`. A replay must not bring them back once a later
   * load has replaced the key's tombstone. Returns how many were dropped.
   */
  forgetQueuedWrites?(namespace: string, target: QueuedWriteTarget): number;
  /** Fleet-wide single-flight, where the layer offers it. */
  readonly coordination?: Coordination;
  /** Health of the layer's backing service (remote layers). */
  status?(): ServiceHealth;
}

/**
 * What a layer knows of how keys are used (L1's frequency sketch): adaptive TTL, admission to
 * L2, promotion and hot-key views read it.
 */
export interface KeyPopularity {
  /** Estimated recent access count of a key. */
  frequency(namespace: string, key: string): number;
  /**
   * Counts an access to a key the layer does not hold and is not about to store (an L2 hit
   * kept out of L1 by the promotion rule), so its popularity can reach the rule's bar.
   */
  recordAccess(namespace: string, key: string): void;
  /** The hottest present keys, hottest first. */
  topKeys(n: number, namespace?: string): KeyFrequency[];
  /**
   * Whether the layer's admission would keep the key if it were stored now (TinyLFU: room
   * left, or its estimate beats the entry it would evict). Absent: every key is admitted.
   */
  wouldAdmit?(namespace: string, key: string): boolean;
  /** Calls `listener` when an entry leaves the layer, or is refused on the way in ("rejected"). */
  onRemoval?(listener: (namespace: string, key: string, cause: RemovalCause | "rejected") => void): void;
}

/** The in-process first layer: synchronous, with a frequency sketch. */
export type L1Layer = Layer<false> & KeyPopularity;
