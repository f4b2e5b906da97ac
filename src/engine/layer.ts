import type { Entry } from "./entry.js";

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
    entries: 0,
    bytes: 0,
  };
}

/** A key with its estimated access frequency. */
export interface KeyFrequency {
  namespace: string;
  key: string;
  frequency: number;
}

/**
 * One cache layer. L1 is synchronous (`Layer<false>`), remote layers are asynchronous.
 * A layer decides alone about its admission, eviction and expiry; the manager only
 * orchestrates. Keys are always scoped by namespace.
 */
export interface Layer<Async extends boolean = true> {
  /** `l1`, `l2`, … as used in stats and metrics. */
  readonly name: string;
  get(namespace: string, key: string): PromiseOr<Entry | undefined, Async>;
  /** Answers in the order of `keys`; one round trip where the layer can. */
  /** Reads without counting a hit or touching recency/frequency (for inspection). */
  peek(namespace: string, key: string): PromiseOr<Entry | undefined, Async>;
  getMany(namespace: string, keys: readonly string[]): PromiseOr<(Entry | undefined)[], Async>;
  /**
   * Stores an entry unless the layer holds a newer version (or admission refuses it).
   * Returns whether it was stored.
   */
  set(namespace: string, key: string, entry: Entry): PromiseOr<boolean, Async>;
  /** Removes a key; returns whether it was present. */
  delete(namespace: string, key: string): PromiseOr<boolean, Async>;
  /** Removes every entry of a namespace (or of all namespaces). */
  clear(namespace?: string): PromiseOr<void, Async>;
  /** Changes how long a present key lives; returns whether it was present. */
  adjustTtl(namespace: string, key: string, expiresAt: number): PromiseOr<boolean, Async>;
  /** Estimated recent access count of a key (0 where the layer keeps no sketch). */
  frequency(namespace: string, key: string): number;
  /** The hottest present keys, hottest first. */
  topKeys(n: number, namespace?: string): KeyFrequency[];
  /** Counters for one namespace, or for the whole layer. */
  counters(namespace?: string): LayerCounters;
}
