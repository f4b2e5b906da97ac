/** Bit flags stored with an entry. */
export const EntryFlags = {
  /** The loader said the key does not exist; the entry caches that answer. */
  NEGATIVE: 1,
} as const;

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

/** Whether the entry caches a "not found" answer. */
export function isNegative(entry: Entry): boolean {
  return (entry.flags & EntryFlags.NEGATIVE) !== 0;
}

/** Bytes an entry costs beyond its key and value, used to weigh it in byte-bounded layers. */
export const ENTRY_OVERHEAD_BYTES = 96;

/** The weight of an entry in a byte-bounded layer: value + key (UTF-16) + tags + overhead. */
export function entryWeight(key: string, entry: Entry): number {
  let tagBytes = 0;
  for (const tag of entry.tags) tagBytes += tag.length * 2 + 16;
  return entry.value.byteLength + key.length * 2 + tagBytes + ENTRY_OVERHEAD_BYTES;
}
