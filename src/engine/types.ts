import type { WriteMode } from "./policy.js";
import type { L1Reason } from "./promotion.js";

/** Where a value came from. `none`: nothing was found anywhere. */
export type Source = "l1" | "l2" | "loader" | "fallback" | "none";

/** Options of one read. */
export interface ReadOptions {
  /** Unset: the namespace policy decides. False: never serve stale. */
  allowStale?: boolean;
  /** Reject cached values older than this (ms) and load instead. */
  maxAgeMs?: number;
  bypassL1?: boolean;
  bypassL2?: boolean;
  /** On a miss, answer not found instead of calling the loader. */
  skipLoader?: boolean;
  /** Load from the origin even if a fresh value is cached. */
  forceRefresh?: boolean;
  /** Aborted when the caller stops waiting (deadline, cancellation). */
  signal?: AbortSignal;
}

/** The answer to a read. */
export interface Lookup {
  key: string;
  found: boolean;
  value: Uint8Array | undefined;
  source: Source;
  stale: boolean;
  ageMs: number;
  ttlRemainingMs: number;
  version: bigint;
  tags: readonly string[];
}

/** Options of one write. */
export interface WriteOptions {
  ttlMs?: number;
  freshForMs?: number;
  tags?: readonly string[];
  /** 0n or unset: assigned by the cache. */
  version?: bigint;
  writeMode?: WriteMode;
}

/** The answer to a write. */
export interface WriteResult {
  version: bigint;
  applied: boolean;
  writeMode: WriteMode;
}

/** What to invalidate in one namespace. */
export interface InvalidationTarget {
  keys?: readonly string[];
  tags?: readonly string[];
  /** Set (even empty) to drop every key with this prefix; "" drops the whole namespace. */
  prefix?: string;
}

/** The answer to an invalidation. */
export interface InvalidationResult {
  keysRemoved: number;
  stamp: number;
  /** Whether the invalidation was handed to the event bus now (false: none, or queued). */
  published: boolean;
}

/** A load running now. */
export interface InFlightInfo {
  namespace: string;
  key: string;
  startedAt: number;
  waiters: number;
}

/** What one layer holds for one key. */
export interface KeyLayerInspection {
  layer: "l1" | "l2";
  present: boolean;
  stale: boolean;
  ageMs: number;
  ttlRemainingMs: number;
  version: bigint;
  sizeBytes: number;
}

/** Everything known about one key, for inspection. */
export interface KeyInspection {
  namespace: string;
  key: string;
  layers: KeyLayerInspection[];
  frequency: number;
  lastLoadMs: number;
  /** Why the key is or is not in L1; undefined without L1. */
  l1Reason: L1Reason | undefined;
  /** The name of the namespace's rule that matches the key; "" when none does. */
  rule: string;
}
