/** How a key's accesses arrive over time. */
export type UsagePattern = "unknown" | "regular" | "bursty" | "steady-hot" | "one-hit" | "declining" | "irregular";

/** The statistics a pattern was decided from. Times in milliseconds. */
export interface UsageEvidence {
  /** Arrival times held in the key's ring (the window analysed). */
  samples: number;
  /** Arrivals since the key was first sampled (may exceed the ring). */
  arrivals: number;
  /** Arrivals per second over the window (0 with fewer than two samples). */
  ratePerSecond: number;
  meanGapMs: number;
  /** Coefficient of variation of the gaps, σ/μ: ~0 periodic, 1 random (Poisson), ≫1 clustered. */
  cv: number;
  /** Burstiness B = (σ−μ)/(σ+μ) of the gaps (Goh & Barabási): −1 periodic, 0 Poisson, → 1 bursty. */
  burstiness: number;
  /** Median gap: the period of a regular key. */
  periodMs: number;
  /** Longest run of closely spaced arrivals (bursty keys), and the median quiet gap between runs. */
  burstLengthMs: number;
  burstGapMs: number;
  /** Kendall's τ of the gaps against their order: near 1 when every gap is longer than the one before. */
  trend: number;
  /** How much the rate fell over the window: median gap of the last third / of the first third. */
  slowdown: number;
  /** The newest gap. */
  lastGapMs: number;
  /** Time from the last arrival to the analysis. */
  sinceLastMs: number;
}

/** Thresholds of the classifier (see `classify`). */
export interface ClassifierSettings {
  /** Mean rate at or above which a key that is neither bursty nor declining is steady-hot. */
  hotRatePerSecond: number;
}

/** The thresholds that are not settings: chosen on the synthetic traces, documented in the README. */
export const CLASSIFIER_RULES = {
  /** Fewer arrivals in the ring than this: too little evidence, "unknown" (one arrival in all: "one-hit"). */
  minSamples: 5,
  /** B at or above this is bursty (CV ≥ 1.67; a Poisson key's CV stays near 1). */
  burstyFrom: 0.25,
  /** CV at or below this is regular (periodic with jitter). */
  regularUpTo: 0.35,
  /** Declining: gaps growing in order (τ at least this) and the rate fallen by at least `slowdown`… */
  decliningTrend: 0.3,
  decliningSlowdown: 2.5,
  /** …or silent for longer than this many times the longest gap in the window. */
  silentGaps: 3,
  /** A gap longer than this many median gaps separates two bursts. */
  burstSplit: 5,
} as const;

/**
 * Classifies a key from the times of its recent arrivals (ascending, the ring's content) and
 * the count of all its arrivals, at `now`. Order of the tests: one-hit, too little evidence,
 * declining (a trend or a silence, checked before the shape of the gaps since a fading key's
 * gaps look bursty), bursty, steady-hot, regular, else irregular. O(n²) in the samples (τ),
 * run at Inspect / Advise time only, never on the Get path.
 */
export function classify(
  times: readonly number[],
  arrivals: number,
  now: number,
  settings: ClassifierSettings,
): { pattern: UsagePattern; evidence: UsageEvidence } {
  const rules = CLASSIFIER_RULES;
  const samples = times.length;
  const last = times[samples - 1] ?? now;
  const gaps: number[] = [];
  for (let i = 1; i < samples; i++) gaps.push((times[i] as number) - (times[i - 1] as number));
  const evidence = describe(gaps, samples, arrivals, now - last);
  if (arrivals <= 1) return { pattern: arrivals === 1 ? "one-hit" : "unknown", evidence };
  if (samples < rules.minSamples) return { pattern: "unknown", evidence };
  const longestGap = Math.max(...gaps);
  const fading = evidence.trend >= rules.decliningTrend && evidence.slowdown >= rules.decliningSlowdown;
  if (fading || evidence.sinceLastMs > rules.silentGaps * longestGap) return { pattern: "declining", evidence };
  if (evidence.burstiness >= rules.burstyFrom) return { pattern: "bursty", evidence };
  if (evidence.ratePerSecond >= settings.hotRatePerSecond) return { pattern: "steady-hot", evidence };
  if (evidence.cv <= rules.regularUpTo) return { pattern: "regular", evidence };
  return { pattern: "irregular", evidence };
}

function describe(gaps: readonly number[], samples: number, arrivals: number, sinceLastMs: number): UsageEvidence {
  const n = gaps.length;
  const mean = n > 0 ? gaps.reduce((a, b) => a + b, 0) / n : 0;
  const variance = n > 1 ? gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (n - 1) : 0;
  const sigma = Math.sqrt(variance);
  const median = medianOf(gaps);
  const { burstLengthMs, burstGapMs } = bursts(gaps, median);
  const third = Math.max(1, Math.floor(n / 3));
  const early = medianOf(gaps.slice(0, third));
  const late = medianOf(gaps.slice(n - third));
  return {
    samples,
    arrivals,
    ratePerSecond: mean > 0 ? 1000 / mean : 0,
    meanGapMs: mean,
    cv: mean > 0 ? sigma / mean : 0,
    burstiness: sigma + mean > 0 ? (sigma - mean) / (sigma + mean) : 0,
    periodMs: median,
    burstLengthMs,
    burstGapMs,
    trend: kendallTau(gaps),
    slowdown: early > 0 ? late / early : 1,
    lastGapMs: gaps[n - 1] ?? 0,
    sinceLastMs,
  };
}

/** Splits the arrivals at gaps longer than `burstSplit` median gaps: the longest run, the median split gap. */
function bursts(gaps: readonly number[], median: number): { burstLengthMs: number; burstGapMs: number } {
  const split = CLASSIFIER_RULES.burstSplit * median;
  let run = 0;
  let longest = 0;
  const quiet: number[] = [];
  for (const gap of gaps) {
    if (median > 0 && gap > split) {
      quiet.push(gap);
      run = 0;
    } else {
      run += gap;
      longest = Math.max(longest, run);
    }
  }
  return { burstLengthMs: longest, burstGapMs: medianOf(quiet) };
}

/** Kendall's τ-a of a sequence against its index: (concordant − discordant) / pairs. */
function kendallTau(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  let score = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) score += Math.sign((values[j] as number) - (values[i] as number));
  }
  return score / ((n * (n - 1)) / 2);
}

function medianOf(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
