/** Bit flags stored with an entry. */
export const EntryFlags = {
  /** The loader said the key does not exist; the entry caches that answer. */
  NEGATIVE: 1,
  /**
   * A stale value put back after a failed load, so the origin is not retried until the
   * fail-safe throttle passes; it is always answered as stale.
   */
  FAIL_SAFE: 2,
  /** L1 admits the entry without TinyLFU's duel (the namespace turned L1 admission off). */
  ADMIT: 4,
  /**
   * A deletion kept for a while in a shared layer: it is read as absent, and a write of a value
   * created before it is refused (a load that started before an invalidation cannot undo it).
   */
  TOMBSTONE: 8,
  /**
   * The value is sealed by the layer holding it (an encrypted namespace's L1, `SealedLayer`):
   * that layer opens it on the way out, so nothing else ever sees the flag.
   */
  SEALED: 16,
  /**
   * A loaded value whose version is the time its load began (the loader gave none). It does not
   * replace a value created after that, whatever the versions: a Set that landed while it loaded
   * may hold the lower one (chosen before its write reached the origin the load read).
   */
  LOAD_TIMED: 32,
} as const;

/**
 * Whether a layer holding `current` (a value, not a tombstone) takes `entry` instead: never an
 * older version, and never a timed load's value over one created after its load began. The
 * Redis layer's script applies the same rule (versioned-writes.ts).
 */
export function replaces(entry: Entry, current: Entry): boolean {
  if (current.version > entry.version) return false;
  return (entry.flags & EntryFlags.LOAD_TIMED) === 0 || entry.createdAt >= current.createdAt;
}

/**
 * A cached value with its timeline. All times are milliseconds since the epoch.
 *
 *   createdAt ≤ freshUntil ≤ expiresAt ≤ staleUntil
 *
 * Fresh before `freshUntil`; past it the value is refreshed but still served; past
 * `expiresAt` it is served only as a stale fallback, until `staleUntil`.
 */
export interface Entry {
  readonly value: Uint8Array;
  readonly createdAt: number;
  readonly freshUntil: number;
  readonly expiresAt: number;
  /** Last moment a stale copy may be served (stale-while-revalidate or fail-safe). */
  readonly staleUntil: number;
  readonly version: bigint;
  readonly tags: readonly string[];
  readonly flags: number;
  /** How long the load that produced the value took (XFetch's delta), 0 when written. */
  readonly loadMs: number;
}

/** The entry a shared layer keeps for a key deleted at `at`: no value, read as absent. */
export function tombstoneEntry(at: number): Entry {
  return {
    value: new Uint8Array(0),
    createdAt: at,
    freshUntil: at,
    expiresAt: at,
    staleUntil: at,
    version: 0n,
    tags: [],
    flags: EntryFlags.TOMBSTONE,
    loadMs: 0,
  };
}

/** Whether the entry caches a "not found" answer. */
export function isNegative(entry: Entry): boolean {
  return (entry.flags & EntryFlags.NEGATIVE) !== 0;
}

/** Whether the entry is a fail-safe copy (always answered as stale). */
export function isFailSafeCopy(entry: Entry): boolean {
  return (entry.flags & EntryFlags.FAIL_SAFE) !== 0;
}

/** The same entry with a new expiry: freshness never past it, the stale window kept as long. */
export function withExpiry(entry: Entry, expiresAt: number): Entry {
  return {
    ...entry,
    expiresAt,
    freshUntil: Math.min(entry.freshUntil, expiresAt),
    staleUntil: expiresAt + Math.max(0, entry.staleUntil - entry.expiresAt),
  };
}
