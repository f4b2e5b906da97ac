import type { L1Layer } from "./layer.js";
import type { NamespaceSettings } from "./policy.js";

/** Why a key is or is not in L1, as this instance last saw it (Inspect's `l1_reason`). */
export type L1Reason =
  | "present"
  | "unknown"
  | "disabled"
  | "rule-never"
  | "below-hits"
  | "rejected-by-admission"
  | "evicted"
  | "expired"
  | "removed";

const SEPARATOR = "\u0000";

/**
 * The last thing that happened to keys in L1 (promoted, refused, evicted, expired, removed),
 * for the most recent `max` keys: Inspect tells from it why a key is not in L1. Bounded: the key
 * whose reason changed longest ago is forgotten first (within the namespace being written, or
 * the first namespace that has one). Kept per namespace: every L1 write notes its key, and a
 * key of the caller's own string is found without hashing a composed one.
 */
export class L1History {
  private readonly byNamespace = new Map<string, Map<string, L1Reason>>();
  private count = 0;

  constructor(private readonly max = 10_000) {}

  /** Records what just happened to a key. */
  note(namespace: string, key: string, reason: L1Reason): void {
    let reasons = this.byNamespace.get(namespace);
    if (reasons === undefined) {
      reasons = new Map();
      this.byNamespace.set(namespace, reasons);
    }
    const last = reasons.get(key);
    if (last === reason) return;
    if (last === undefined) this.count++;
    else reasons.delete(key);
    reasons.set(key, reason);
    if (this.count > this.max) this.forgetOldest(reasons);
  }

  /** The last reason recorded for a key, or "unknown". */
  of(namespace: string, key: string): L1Reason {
    return this.byNamespace.get(namespace)?.get(key) ?? "unknown";
  }

  /** Keys remembered (at most `max`). */
  get size(): number {
    return this.count;
  }

  private forgetOldest(preferred: Map<string, L1Reason>): void {
    let from = preferred.size > 1 ? preferred : undefined;
    if (from === undefined) {
      for (const [namespace, reasons] of this.byNamespace) {
        if (reasons.size > 0 && reasons !== preferred) {
          from = reasons;
          break;
        }
        if (reasons.size === 0) this.byNamespace.delete(namespace);
      }
    }
    from ??= preferred;
    from.delete(from.keys().next().value as string);
    this.count--;
  }
}

/**
 * L2 hits per key within a window, for the AFTER_HITS promotion rule: a key's count starts at
 * its first hit and restarts once its window has passed. Bounded to `max` keys (the oldest
 * counted key is forgotten first, so a flood of distinct keys costs counts, never memory).
 */
export class HitWindows {
  private readonly counts = new Map<string, { since: number; hits: number }>();

  // Keys are up to 1 KiB (limits.maxKeyBytes): 10,000 of them stay within ~10 MB.
  constructor(private readonly max = 10_000) {}

  /** Counts a hit at `now`; answers the hits within the window, this one included. */
  hit(namespace: string, key: string, now: number, windowMs: number): number {
    const id = namespace + SEPARATOR + key;
    const current = this.counts.get(id);
    if (current && now - current.since < windowMs) {
      current.hits++;
      return current.hits;
    }
    this.counts.delete(id);
    this.counts.set(id, { since: now, hits: 1 });
    if (this.counts.size > this.max) this.counts.delete(this.counts.keys().next().value as string);
    return 1;
  }

  /** Forgets a key's count (it was promoted). */
  forget(namespace: string, key: string): void {
    this.counts.delete(namespace + SEPARATOR + key);
  }

  /** Keys counted now (at most `max`). */
  get size(): number {
    return this.counts.size;
  }
}

/**
 * Why an L2 hit must not be promoted under the key's promotion rule, or undefined when it may
 * be (L1 may still refuse it on the way in). A refused read is recorded in L1's sketch, so the
 * key's popularity can still grow towards the bar.
 */
export function promotionRefusal(
  l1: L1Layer,
  hits: HitWindows,
  settings: NamespaceSettings,
  namespace: string,
  key: string,
  now: number,
): L1Reason | undefined {
  const rule = settings.promotion;
  let refusal: L1Reason | undefined;
  switch (rule.mode) {
    case "always":
      return undefined;
    case "never":
      refusal = "rule-never";
      break;
    case "after-hits":
      if (hits.hit(namespace, key, now, rule.windowMs) < rule.minFrequency) refusal = "below-hits";
      else hits.forget(namespace, key);
      break;
    case "admission":
      if (l1.wouldAdmit && !l1.wouldAdmit(namespace, key)) refusal = "rejected-by-admission";
      break;
    default:
      if (rule.minFrequency > 0 && l1.frequency(namespace, key) < rule.minFrequency) refusal = "below-hits";
  }
  if (refusal) l1.recordAccess(namespace, key);
  return refusal;
}
