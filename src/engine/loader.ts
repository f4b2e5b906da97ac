/** What a loader found for one key. */
export interface LoadResult {
  found: boolean;
  value?: Uint8Array;
  /** TTL the origin suggests; unset uses the namespace policy. */
  ttlMs?: number;
  tags?: readonly string[];
  /** The origin's version of the value; unset lets the cache assign one. */
  version?: bigint;
}

/** Passed to every load so that it can give up when nobody waits any more. */
export interface LoadContext {
  signal: AbortSignal;
  /** Whether a stale value exists that fail-safe could serve if this load fails (single-key loads). */
  hasStale?: boolean;
}

/**
 * Fetches values from the system of record on a miss.
 *
 *   const loader: Loader = { load: async (ns, key) => ({ found: true, value: bytes }) };
 */
export interface Loader {
  load(namespace: string, key: string, context: LoadContext): Promise<LoadResult>;
  /** Loads many keys in one call; a key's Error is that key's failure. Missing keys are not found. */
  loadMany?(namespace: string, keys: readonly string[], context: LoadContext): Promise<Map<string, LoadResult | Error>>;
}

/** A Loader made from a plain function. */
export function loaderFunction(
  load: (namespace: string, key: string, context: LoadContext) => Promise<LoadResult>,
): Loader {
  return { load };
}
