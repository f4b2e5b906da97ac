import type { LoadContext } from "./loader.js";

/** One write to apply at the origin (the shape of `StoreItem` in loader.proto). */
export interface StoreItemInput {
  key: string;
  value: Uint8Array;
  /** The cache's version of the value; 0n when it has none. */
  version: bigint;
  tags: readonly string[];
  /** True when the key was deleted rather than written. */
  deleted: boolean;
}

/** Per-key failures of a store call; a key without an entry was stored. */
export type StoreErrors = ReadonlyMap<string, Error>;

/**
 * Writes values through to the system of record (write-through, or the write-behind sink's
 * batches). Resolves to `undefined` (or an empty map) when every item was stored, to the
 * failed keys' errors otherwise; rejects when the whole call failed.
 *
 *   const writer: Writer = { store: async (ns, items) => { await db.upsert(ns, items); } };
 */
export interface Writer {
  store(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors | undefined>;
}
