import type { Clock } from "../../engine/clock.js";
import type { RemovalCause } from "../../engine/layer.js";

/**
 * Removal causes (the engine's `RemovalCause` union): `size` = evicted by the entries/bytes
 * bound, `expired` = `expiresAt` passed, `explicit` = `delete`/`clear`, `replaced` = a later
 * `set` replaced the value (or refused the new one).
 */
export const Cause = {
  Size: "size",
  Expired: "expired",
  Explicit: "explicit",
  Replaced: "replaced",
} as const satisfies Record<string, RemovalCause>;

/** Listener called synchronously when an entry leaves the cache; it must not modify the cache. */
export type EvictionListener<V> = (key: string, value: V, cause: RemovalCause) => void;

/**
 * Bytes added to every entry's weight for its table slot, map entry, sketch and doorkeeper
 * share: `npm run bench:l1` measured 86–94 B at 1M entries (heap + array buffers), rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 96;

/** How a {@link WTinyLfuCache} adapts its window share. */
export type WindowTuning = "simulation" | "climbing" | "fixed";

/** Options of {@link WTinyLfuCache}. */
export interface WTinyLfuOptions<V> {
  /** Maximum number of entries; also sizes the frequency sketch. */
  maxEntries: number;
  /** Maximum total weight in bytes (default: unbounded, entries only). */
  maxBytes?: number;
  /** Largest accepted entry weight (default: the initial window, `windowPercent` of maxBytes). */
  maxEntryBytes?: number;
  /** Bytes added to each entry's weight besides value and key (default {@link ENTRY_OVERHEAD_BYTES}). */
  entryOverhead?: number;
  /** Time source for expiry (default `Date.now`). */
  clock?: Clock;
  /** Called when an entry leaves the cache. */
  onEvict?: EvictionListener<V>;
  /** TinyLFU admission duel (default true); false gives a windowed segmented LRU. */
  admission?: boolean;
  /** Values that skip the duel: always admitted, as if admission were off for them alone. */
  alwaysAdmits?: (value: V) => boolean;
  /** Doorkeeper Bloom filter in front of the sketch (default true). */
  doorkeeper?: boolean;
  /**
   * How the window share adapts (default "simulation"): "simulation" jumps to the share whose
   * miniature simulation hits most, once its lead is more than noise (WindowTuner); "climbing" walks by hill climbing on
   * the hit rate (Caffeine's simple climber); "fixed" keeps `windowPercent`.
   */
  windowTuning?: WindowTuning;
  /** Initial window size, percent of capacity (default 1). */
  windowPercent?: number;
  /** Seed of the admission jitter (default fixed). */
  seed?: number;
  /** Conservative update in the frequency sketch (default true). */
  conservativeUpdate?: boolean;
}

/** Per-call options of {@link WTinyLfuCache.set}. */
export interface SetOptions {
  /** Size of the value in bytes (key and overhead are added by the cache). */
  weight: number;
  /** Absolute expiry time in clock ms; omitted = never expires. */
  expiresAt?: number;
}

/** A point-in-time copy of the cache counters. */
export interface CacheStats {
  /** `get` calls that returned a value. */
  hits: number;
  /** `get` calls that returned undefined (absent or expired). */
  misses: number;
  /** `set` calls that stored their value. */
  puts: number;
  /** Entries that left the cache, by cause. */
  evictions: Record<RemovalCause, number>;
  /** Admission duels the candidate lost (it was evicted instead of the victim). */
  admissionRejections: number;
  /** `set` calls refused because the entry was heavier than `maxEntryBytes`/`maxBytes` or already expired. */
  rejectedSets: number;
  /** Entries resident now (including expired ones not yet cleaned up). */
  entries: number;
  /** Total weight resident now, in bytes. */
  bytes: number;
  /** Current window share of the capacity, in percent (moves with the window tuning). */
  windowPercent: number;
}

/** A key and its estimated recent frequency, as returned by {@link WTinyLfuCache.topKeys}. */
export interface HotKey {
  /** The key. */
  key: string;
  /** Estimated recent frequency (0..16). */
  frequency: number;
}
