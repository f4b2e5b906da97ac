import { type Entry, EntryFlags } from "./entry.js";
import type { LoadResult } from "./loader.js";
import type { LayerSettings, NamespaceSettings } from "./policy.js";

/**
 * The time math of entries, pure (time and randomness are arguments): per-layer TTLs
 * (adaptive, or the exact TTL a caller or origin named), jitter, freshness, stale windows,
 * and the copy an L2 hit gets in L1.
 */

/** An entry before its timeline is set. */
export type EntryBase = Omit<Entry, "freshUntil" | "expiresAt" | "staleUntil">;

/** The sketch estimate at and above which adaptive TTL gives the longest TTL. */
const HOTTEST = 15;

/**
 * A layer's TTL for a load result: the negative TTL for "not found", the exact TTL a caller or
 * origin named, else the policy's — scaled by popularity when adaptive TTL is on (a cold key,
 * sketch estimate 0, gets a quarter of the TTL, the hottest twice it, within the namespace's
 * bounds). `popularity` is undefined when adaptive TTL is off.
 */
export function ttlFor(
  settings: NamespaceSettings,
  layer: LayerSettings,
  result: LoadResult,
  popularity: number | undefined,
): number {
  if (!result.found) return settings.negativeTtlMs;
  if (result.ttlMs !== undefined) return result.ttlMs;
  if (popularity === undefined) return layer.ttlMs;
  const scaled = layer.ttlMs * (0.25 + (1.75 * Math.min(popularity, HOTTEST)) / HOTTEST);
  return Math.min(settings.adaptiveTtl.maxTtlMs, Math.max(settings.adaptiveTtl.minTtlMs, scaled));
}

/**
 * An entry's timeline in one layer: TTL and freshness with jitter (unless `exact`: a TTL the
 * caller or origin named is kept exactly), then the stale window (stale-while-revalidate or
 * fail-safe, the longer).
 */
export function layerTimeline(
  base: EntryBase,
  settings: NamespaceSettings,
  layer: LayerSettings,
  ttlMs: number,
  freshForMs: number | undefined,
  exact: boolean,
  random: () => number,
): Entry {
  // Jitter spreads expiries of entries written together, so they are not reloaded together.
  const spread = exact ? 1 : 1 + layer.jitter * random();
  const ttl = ttlMs * spread;
  const fresh = Math.min(ttl, (freshForMs ?? Math.min(layer.freshForMs, ttlMs)) * spread);
  const expiresAt = base.createdAt + ttl;
  const staleWindow = Math.max(
    layer.staleWhileRevalidateMs,
    settings.failSafe.enabled ? settings.failSafe.maxStaleMs : 0,
  );
  // Every field named, in Entry's order: one object shape for every entry (a spread of `base`
  // took 5% of a tiered Set's CPU in a profile).
  return {
    value: base.value,
    createdAt: base.createdAt,
    freshUntil: base.createdAt + fresh,
    expiresAt,
    staleUntil: expiresAt + staleWindow,
    version: base.version,
    tags: base.tags,
    flags: base.flags,
    loadMs: base.loadMs,
  };
}

/**
 * The L1 copy of an L2 hit at `now`: it keeps its age and version, gets L1's TTL (with
 * jitter) and never outlives L2's copy; its stale window is L2's, cut to the same end.
 */
export function promotedEntry(l2Entry: Entry, settings: NamespaceSettings, now: number, random: () => number): Entry {
  const l1Ttl = settings.l1.ttlMs * (1 + settings.l1.jitter * random());
  const expiresAt = Math.min(l2Entry.expiresAt, now + l1Ttl);
  return {
    value: l2Entry.value,
    createdAt: l2Entry.createdAt,
    freshUntil: Math.min(l2Entry.freshUntil, expiresAt),
    expiresAt,
    staleUntil: Math.min(l2Entry.staleUntil, expiresAt + Math.max(0, l2Entry.staleUntil - l2Entry.expiresAt)),
    version: l2Entry.version,
    tags: l2Entry.tags,
    flags: settings.l1.admission ? l2Entry.flags : l2Entry.flags | EntryFlags.ADMIT,
    loadMs: l2Entry.loadMs,
  };
}
