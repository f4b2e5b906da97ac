import { type Entry, isNegative } from "./entry.js";
import type { Lookup, Source } from "./types.js";

/** A cached entry that may still be served if loading fails, with the layer it came from. */
export interface Candidate {
  entry: Entry;
  source: Source;
}

/** The answer a cached entry gives at `now`. A negative entry answers "not found". */
export function lookupFrom(key: string, entry: Entry, source: Source, stale: boolean, now: number): Lookup {
  const found = !isNegative(entry);
  return {
    key,
    found,
    value: found ? entry.value : undefined,
    source: found ? source : "none",
    stale,
    // Whole milliseconds: creation times carry sub-millisecond steps (MonotonicTime).
    ageMs: Math.max(0, Math.floor(now - entry.createdAt)),
    ttlRemainingMs: Math.max(0, Math.floor(entry.expiresAt - now)),
    version: entry.version,
    tags: entry.tags,
  };
}

/** The answer carrying a fallback value: found, never cached, no age or version. */
export function fallbackLookup(key: string, value: Uint8Array): Lookup {
  return { ...notFound(key), found: true, value, source: "fallback" };
}

/** The answer when nothing was found anywhere. */
export function notFound(key: string): Lookup {
  return {
    key,
    found: false,
    value: undefined,
    source: "none",
    stale: false,
    ageMs: 0,
    ttlRemainingMs: 0,
    version: 0n,
    tags: [],
  };
}
