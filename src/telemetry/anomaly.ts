import type { Clock } from "../engine/clock.js";
import { systemClock } from "../engine/clock.js";

/**
 * Exponentially weighted mean and variance of a series of per-window counts (Finch, "Incremental
 * calculation of weighted mean and variance", 2009): one update per window, O(1) memory.
 */
export class Ewma {
  mean = 0;
  variance = 0;
  /** Values folded in so far. */
  samples = 0;

  /** `alpha`: weight of the newest value (0..1); higher forgets faster. */
  constructor(readonly alpha: number) {}

  /**
   * How many standard deviations `value` is above the mean. The deviation has a floor of
   * √max(mean, 1), the spread of a Poisson count, so a quiet series does not turn every
   * small wobble into a huge score.
   */
  score(value: number): number {
    const deviation = Math.max(Math.sqrt(this.variance), Math.sqrt(Math.max(this.mean, 1)));
    return (value - this.mean) / deviation;
  }

  /** Folds a value in. */
  update(value: number): void {
    if (this.samples === 0) {
      this.mean = value;
      this.variance = 0;
    } else {
      const diff = value - this.mean;
      const increment = this.alpha * diff;
      this.mean += increment;
      this.variance = (1 - this.alpha) * (this.variance + diff * increment);
    }
    this.samples++;
  }
}

/** Settings of the detector. */
export interface AnomalyDetectorOptions {
  /** Weight of the newest window in the averages (default 0.3). */
  alpha?: number;
  /** Standard deviations above the average that make an anomaly (default 4). */
  threshold?: number;
  /** A window count below this is never an anomaly, however unusual (default 20). */
  minCount?: number;
  /** Windows a series must have seen before it can flag (default 5). */
  warmupWindows?: number;
  /** A series that flagged stays quiet this long (default 60 s). */
  cooldownMs?: number;
  /** Series kept; the least recently observed are forgotten beyond this (default 10,000). */
  maxSeries?: number;
  clock?: Clock;
}

/** What `observe` reports for an unusual value. */
export interface Deviation {
  /** Standard deviations above the average. */
  score: number;
  /** The average before this value. */
  mean: number;
  at: number;
}

interface Series {
  stats: Ewma;
  quietUntil: number;
}

/**
 * Flags values far above their series' recent average (EWMA mean and variance with a
 * deviation threshold). One series per thing watched ("refreshes of ns", "accesses of ns/key").
 *
 *   const detector = new AnomalyDetector({ threshold: 4 });
 *   detector.observe("refresh:products", earlyRefreshesThisWindow);
 */
export class AnomalyDetector {
  private readonly series = new Map<string, Series>();
  private readonly alpha: number;
  private readonly threshold: number;
  private readonly minCount: number;
  readonly warmupWindows: number;
  private readonly cooldownMs: number;
  private readonly maxSeries: number;
  private readonly clock: Clock;

  constructor(options: AnomalyDetectorOptions = {}) {
    this.alpha = options.alpha ?? 0.3;
    this.threshold = options.threshold ?? 4;
    this.minCount = options.minCount ?? 20;
    this.warmupWindows = options.warmupWindows ?? 5;
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.maxSeries = options.maxSeries ?? 10_000;
    this.clock = options.clock ?? systemClock;
  }

  /** Series held now (bounded by `maxSeries`). */
  get size(): number {
    return this.series.size;
  }

  /** Windows a series has seen (0 when unknown). */
  samples(name: string): number {
    return this.series.get(name)?.stats.samples ?? 0;
  }

  /**
   * Folds one window's value into a series; returns the deviation when the value is an
   * anomaly. `warm` overrides the warm-up rule: a key new to the hot set has no history of
   * its own, but its namespace's does (it was not hot before, which is the point).
   */
  observe(name: string, value: number, warm?: boolean): Deviation | undefined {
    let series = this.series.get(name);
    if (series) {
      // Keep the map in observation order, so the oldest entry is the one to forget.
      this.series.delete(name);
    } else {
      series = { stats: new Ewma(this.alpha), quietUntil: 0 };
      if (this.series.size >= this.maxSeries) {
        const oldest = this.series.keys().next().value;
        if (oldest !== undefined) this.series.delete(oldest);
      }
    }
    this.series.set(name, series);
    const { stats } = series;
    const now = this.clock.now();
    const ready = warm ?? stats.samples >= this.warmupWindows;
    const mean = stats.samples === 0 ? 0 : stats.mean;
    const score = stats.samples === 0 ? value / 1 : stats.score(value);
    stats.update(value);
    if (!ready || value < this.minCount || score < this.threshold || now < series.quietUntil) return undefined;
    series.quietUntil = now + this.cooldownMs;
    return { score, mean, at: now };
  }
}
