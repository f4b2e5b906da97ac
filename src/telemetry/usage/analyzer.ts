import { type AdviceBounds, type AdviceContext, adviseFor } from "./advice.js";
import { ArrivalSampler } from "./arrivals.js";
import { classify } from "./classify.js";
import { adviseFamilies, type FamilyAdvice, type KeyUsage, type ProposedRule } from "./rules.js";

export type { AdviceBounds, AdviceContext, RefreshMode, TtlAdvice } from "./advice.js";
export type { UsageEvidence, UsagePattern } from "./classify.js";
export type { FamilyAdvice, KeyUsage, ProposedRule, RuleMatch } from "./rules.js";

/** Settings of the usage analysis (`telemetry.usage`). Times in milliseconds. */
export interface UsageConfig {
  /** False: no read is sampled (Inspect has no usage, Advise no keys); the Get path pays nothing. */
  enabled: boolean;
  /** Keys whose arrivals are kept, all namespaces together. */
  maxKeys: number;
  /** Arrival times kept per key: the window the patterns are read from. */
  ringSize: number;
  /** Besides hot keys, keys whose hash is 0 modulo this are sampled (1: all). */
  sampleOneIn: number;
  /** A key steadier than bursty and at least this many reads per second is steady-hot. */
  hotRatePerSecond: number;
  /** Bounds every advised TTL is clamped into (0: none). */
  minTtlMs: number;
  maxTtlMs: number;
  /** Rules one Advise answer proposes at most. */
  maxRules: number;
}

/** The defaults of `telemetry.usage`. */
export const usageDefaults: UsageConfig = {
  enabled: true,
  maxKeys: 4096,
  ringSize: 64,
  sampleOneIn: 8,
  hotRatePerSecond: 1,
  minTtlMs: 0,
  maxTtlMs: 0,
  maxRules: 100,
};

/** Advise's answer for one namespace. */
export interface NamespaceAdvice {
  namespace: string;
  /** Keys of the namespace whose arrivals are sampled now. */
  sampledKeys: number;
  context: AdviceContext;
  bounds: AdviceBounds;
  families: FamilyAdvice[];
  rules: ProposedRule[];
}

/**
 * Usage-pattern analysis: the bounded arrival sampler on the Get path, and, when asked, the
 * classification of a key's arrivals and the TTL advice it leads to.
 *
 *   const usage = new UsageAnalyzer(usageDefaults);
 *   usage.observe("products", "42", now);
 *   usage.keyUsage("products", "42", now, context);
 */
export class UsageAnalyzer {
  readonly sampler: ArrivalSampler;
  readonly bounds: AdviceBounds;

  /** @param hot whether a key outside the hash sample is hot enough to be sampled (the top-K's say) */
  constructor(
    readonly config: UsageConfig,
    hot: (namespace: string, key: string) => boolean = () => false,
  ) {
    this.sampler = new ArrivalSampler(config, hot);
    if (config.minTtlMs > 0 && config.maxTtlMs > 0 && config.minTtlMs > config.maxTtlMs) {
      throw new RangeError("usage.minTtlMs must not exceed usage.maxTtlMs");
    }
    this.bounds = { minTtlMs: config.minTtlMs, maxTtlMs: config.maxTtlMs };
  }

  /** Counts one read of a key at `now` (the Get path: O(1) for a tracked key). */
  observe(namespace: string, key: string, now: number): void {
    this.sampler.observe(namespace, key, now);
  }

  /** A sampled key's pattern, evidence and advice; undefined when the key is not sampled. */
  keyUsage(namespace: string, key: string, now: number, context: AdviceContext): KeyUsage | undefined {
    const held = this.sampler.arrivalsOf(namespace, key);
    return held ? this.analyse(key, held.times, held.arrivals, now, context) : undefined;
  }

  /** Every sampled key of a namespace analysed, grouped into families, with the rules it would add. */
  advise(namespace: string, now: number, context: AdviceContext): NamespaceAdvice {
    const keys: KeyUsage[] = [];
    for (const { key, times, arrivals } of this.sampler.keysOf(namespace)) {
      keys.push(this.analyse(key, times, arrivals, now, context));
    }
    const { families, rules } = adviseFamilies(keys, context, this.bounds, this.config.maxRules);
    return { namespace, sampledKeys: keys.length, context, bounds: this.bounds, families, rules };
  }

  private analyse(key: string, times: number[], arrivals: number, now: number, context: AdviceContext): KeyUsage {
    const { pattern, evidence } = classify(times, arrivals, now, { hotRatePerSecond: this.config.hotRatePerSecond });
    return { key, pattern, evidence, advice: adviseFor(pattern, evidence, context, this.bounds) };
  }
}
