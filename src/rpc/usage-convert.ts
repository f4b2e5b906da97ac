import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { AdviseResponseSchema } from "../gen/mlcache/v1/admin_pb.js";
import { type KeyUsageSchema, RefreshMode, UsagePattern } from "../gen/mlcache/v1/stats_pb.js";
import type {
  KeyUsage,
  NamespaceAdvice,
  UsagePattern as Pattern,
  RefreshMode as Refresh,
  TtlAdvice,
  UsageEvidence,
} from "../telemetry/usage/analyzer.js";

const PATTERNS: Record<Pattern, UsagePattern> = {
  unknown: UsagePattern.UNSPECIFIED,
  regular: UsagePattern.REGULAR,
  bursty: UsagePattern.BURSTY,
  "steady-hot": UsagePattern.STEADY_HOT,
  "one-hit": UsagePattern.ONE_HIT,
  declining: UsagePattern.DECLINING,
  irregular: UsagePattern.IRREGULAR,
};

const REFRESH: Record<Refresh, RefreshMode> = {
  none: RefreshMode.NONE,
  ahead: RefreshMode.AHEAD,
  early: RefreshMode.EARLY,
};

const ms = (value: number) => durationFromMs(Math.round(value));

function evidence(e: UsageEvidence) {
  return {
    samples: e.samples,
    arrivals: BigInt(e.arrivals),
    ratePerSecond: e.ratePerSecond,
    meanGap: ms(e.meanGapMs),
    cv: e.cv,
    burstiness: e.burstiness,
    period: ms(e.periodMs),
    burstLength: ms(e.burstLengthMs),
    burstGap: ms(e.burstGapMs),
    trend: e.trend,
    slowdown: e.slowdown,
    sinceLast: ms(e.sinceLastMs),
  };
}

function advice(a: TtlAdvice) {
  return {
    ttl: ms(a.ttlMs),
    freshFor: ms(a.freshForMs),
    refresh: REFRESH[a.refresh],
    admit: a.admit,
    reason: a.reason,
    clamped: a.clamped,
  };
}

/** A key's usage as `KeyStats.usage`. */
export function keyUsageMessage(usage: KeyUsage): MessageInitShape<typeof KeyUsageSchema> {
  return { pattern: PATTERNS[usage.pattern], evidence: evidence(usage.evidence), advice: advice(usage.advice) };
}

/** A namespace's advice as `AdviseResponse`. */
export function adviseResponse(result: NamespaceAdvice): MessageInitShape<typeof AdviseResponseSchema> {
  const { context, bounds } = result;
  return {
    namespace: result.namespace,
    sampledKeys: result.sampledKeys,
    families: result.families.map((f) => ({
      family: f.family,
      pattern: PATTERNS[f.pattern],
      keys: f.keys,
      counts: (Object.entries(f.counts) as [Pattern, number][]).map(([pattern, keys]) => ({
        pattern: PATTERNS[pattern],
        keys,
      })),
      evidence: evidence(f.evidence),
      advice: advice(f.advice),
    })),
    rules: result.rules.map((r) => ({
      name: r.name,
      match: { case: r.match.kind, value: r.match.value },
      pattern: PATTERNS[r.pattern],
      ttl: ms(r.ttlMs),
      freshFor: ms(r.freshForMs),
      earlyRefresh: r.earlyRefresh,
      admit: r.admission,
      reason: r.reason,
    })),
    currentTtl: ms(context.ttlMs),
    currentFreshFor: ms(context.freshForMs),
    currentEarlyRefresh: context.earlyRefresh,
    loadLatency: ms(context.loadMs),
    ...(bounds.minTtlMs > 0 ? { minTtl: ms(bounds.minTtlMs) } : {}),
    ...(bounds.maxTtlMs > 0 ? { maxTtl: ms(bounds.maxTtlMs) } : {}),
  };
}
