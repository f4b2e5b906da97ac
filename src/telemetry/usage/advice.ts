import type { UsageEvidence, UsagePattern } from "./classify.js";

/** How an entry is kept fresh. */
export type RefreshMode =
  /** Entries expire; the next read loads. */
  | "none"
  /** fresh-for below the expected next read: that read is answered and reloads in the background. */
  | "ahead"
  /** Probabilistic early refresh (XFetch) before fresh-for ends. */
  | "early";

/** What the analysis recommends for a key or a family of keys. Times in milliseconds. */
export interface TtlAdvice {
  ttlMs: number;
  freshForMs: number;
  refresh: RefreshMode;
  /** False: keep it out of the cache (one-hit keys). */
  admit: boolean;
  /** Why, in a sentence, with the figures it came from. */
  reason: string;
  /** True when the operator's bounds changed the TTL computed. */
  clamped: boolean;
}

/** What the advice starts from: the namespace's current L1 policy and the loader's latency. */
export interface AdviceContext {
  ttlMs: number;
  freshForMs: number;
  earlyRefresh: boolean;
  /** A typical load of the key (last load, or the namespace's p50), ms. */
  loadMs: number;
}

/** Operator bounds every advised TTL is clamped into (0: no bound). */
export interface AdviceBounds {
  minTtlMs: number;
  maxTtlMs: number;
}

/** Constants of the advice, documented in the README. */
export const ADVICE_RULES = {
  /** A regular key's TTL clears the period by max(3σ, this share of the period), plus a load. */
  periodMargin: 0.1,
  /** A steady-hot key's TTL is at least this many times the current one (then the upper bound decides). */
  steadyHotTtlFactor: 4,
  /** …and long enough for this hit ratio at its rate: TTL ≥ meanGap / (1 − ratio). */
  steadyHotHitRatio: 0.99,
  /** A steady-hot key refreshes early from this share of its TTL on (XFetch does the rest). */
  steadyHotFreshShare: 0.8,
  /** A one-hit key's TTL: at most the current one, at least a second or ten loads. */
  oneHitTtlMs: 1_000,
} as const;

const seconds = (ms: number) => (ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`);

/**
 * The TTL, fresh-for and refresh mode a pattern calls for, from its evidence and the current
 * policy, clamped into the operator's bounds. Unknown and irregular keys keep the current
 * policy (nothing in their arrivals to exploit).
 */
export function adviseFor(
  pattern: UsagePattern,
  e: UsageEvidence,
  context: AdviceContext,
  bounds: AdviceBounds,
): TtlAdvice {
  const rules = ADVICE_RULES;
  const load = Math.max(0, context.loadMs);
  const current = context.ttlMs;
  const keep = (reason: string): Omit<TtlAdvice, "clamped"> => ({
    ttlMs: current,
    freshForMs: context.freshForMs,
    refresh: context.earlyRefresh ? "early" : context.freshForMs < current ? "ahead" : "none",
    admit: true,
    reason,
  });
  let advice: Omit<TtlAdvice, "clamped">;
  switch (pattern) {
    case "regular": {
      const sigma = e.cv * e.meanGapMs;
      const margin = Math.max(3 * sigma, rules.periodMargin * e.periodMs);
      const ttlMs = e.periodMs + margin + load;
      advice = {
        ttlMs,
        freshForMs: Math.max(0, e.periodMs - margin - load),
        refresh: "ahead",
        admit: true,
        reason: `read every ${seconds(e.periodMs)} (CV ${e.cv.toFixed(2)}): a TTL just above the period with fresh-for below it answers each read and reloads behind it${current < e.periodMs ? `; the current ${seconds(current)} expires before every read` : ""}`,
      };
      break;
    }
    case "bursty": {
      const ttlMs = Math.max(current, e.burstLengthMs + 2 * e.periodMs + load);
      advice = {
        ttlMs,
        freshForMs: ttlMs,
        refresh: "none",
        admit: true,
        reason: `bursts of ${seconds(e.burstLengthMs)} every ${seconds(e.burstGapMs)} (B ${e.burstiness.toFixed(2)}): a TTL covering a burst, no refresh between bursts`,
      };
      break;
    }
    case "steady-hot": {
      const forHits = e.meanGapMs / (1 - rules.steadyHotHitRatio) + load;
      const ttlMs = Math.max(current * rules.steadyHotTtlFactor, forHits);
      advice = {
        ttlMs,
        freshForMs: ttlMs * rules.steadyHotFreshShare,
        refresh: "early",
        admit: true,
        reason: `${e.ratePerSecond.toFixed(1)} reads/s, steady (CV ${e.cv.toFixed(2)}): a long TTL with early refresh, so reads never wait for a load`,
      };
      break;
    }
    case "one-hit": {
      const ttlMs = Math.min(current, Math.max(rules.oneHitTtlMs, 10 * load));
      advice = {
        ttlMs,
        freshForMs: ttlMs,
        refresh: "none",
        admit: false,
        reason: `read once in ${seconds(e.sinceLastMs)}: keep it out of the cache, or let it go quickly`,
      };
      break;
    }
    case "declining": {
      const ttlMs = Math.min(current, Math.max(e.lastGapMs, load));
      advice = {
        ttlMs,
        freshForMs: ttlMs,
        refresh: "none",
        admit: true,
        reason: `rate fell ${e.slowdown.toFixed(1)}× over the window${e.sinceLastMs > e.lastGapMs ? ` and silent for ${seconds(e.sinceLastMs)}` : ""}: a shorter TTL frees the space, no refresh for reads that may not come`,
      };
      break;
    }
    case "irregular":
      advice = keep(
        `random arrivals (CV ${e.cv.toFixed(2)}, ${e.ratePerSecond.toFixed(2)} reads/s): nothing to exploit`,
      );
      break;
    default:
      advice = keep(`too few arrivals to tell (${e.samples})`);
  }
  return clampAdvice(advice, bounds);
}

/** Clamps an advice's TTL into the bounds (fresh-for never above the TTL). */
export function clampAdvice(advice: Omit<TtlAdvice, "clamped">, bounds: AdviceBounds): TtlAdvice {
  let ttlMs = Math.round(advice.ttlMs);
  if (bounds.maxTtlMs > 0) ttlMs = Math.min(ttlMs, bounds.maxTtlMs);
  if (bounds.minTtlMs > 0) ttlMs = Math.max(ttlMs, bounds.minTtlMs);
  ttlMs = Math.max(1, ttlMs);
  const clamped = ttlMs !== Math.round(advice.ttlMs);
  // Scaled with the TTL, so a refresh-ahead or early-refresh window keeps its share.
  const share = advice.ttlMs > 0 ? advice.freshForMs / advice.ttlMs : 1;
  const freshForMs = Math.min(ttlMs, Math.round(clamped ? ttlMs * share : advice.freshForMs));
  return { ...advice, ttlMs, freshForMs, clamped };
}
