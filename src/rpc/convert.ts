// Engine values as API messages and back, for both services and the server: lookups as items,
// statistics as snapshots, breaker and dependency states, write modes. Policies (and the write
// mode inside them) convert in config/policy-proto.ts, since the configuration loader needs them
// too; their write-mode helpers are re-exported here so rpc/ has one place to look.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { CacheManager, Lookup } from "../engine/cache-manager.js";
import type { BreakerState as BreakerStateName, ServiceHealth } from "../engine/health.js";
import type { KeyFrequency, LayerCounters } from "../engine/layer.js";
import { BreakerState, CacheLayer, type Item, Source } from "../gen/mlcache/v1/common_pb.js";
import {
  AnomalyKind,
  type AnomalySchema,
  type DependencyStatus,
  type DependencyStatusSchema,
  type LayerStats,
  type LayerStatsSchema,
  type StatsSnapshot,
  StatsSnapshotSchema,
} from "../gen/mlcache/v1/stats_pb.js";

export { apiWriteMode, engineWriteMode } from "../config/policy-proto.js";

const sources: Record<Lookup["source"], Source> = {
  l1: Source.L1,
  l2: Source.L2,
  loader: Source.LOADER,
  fallback: Source.FALLBACK,
  none: Source.UNSPECIFIED,
};

const NO_BYTES = new Uint8Array(0);

/**
 * A Duration of whole milliseconds, as `durationFromMs` makes it, written as the message itself
 * (what `create()` would build): this is on every Get's answer.
 */
function durationOfMs(ms: number): Duration {
  const nanos = (ms % 1000) * 1_000_000;
  // Seconds and nanos carry the same sign; a zero is never negative (-0 does not serialize).
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(Math.trunc(ms / 1000)), nanos: nanos || 0 };
}

/**
 * The API item for an engine lookup, as a complete message: the ports serialize it as it is,
 * with no `create()` pass over the fields (every field is here; the compiler says when a new
 * one is missing).
 */
export function itemFrom(lookup: Lookup): Item {
  return {
    $typeName: "mlcache.v1.Item",
    key: lookup.key,
    found: lookup.found,
    value: lookup.value ?? NO_BYTES,
    source: sources[lookup.source],
    stale: lookup.stale,
    age: durationOfMs(Math.round(lookup.ageMs)),
    ttlRemaining: durationOfMs(Math.round(lookup.ttlRemainingMs)),
    version: lookup.version,
    tags: lookup.tags.length === 0 ? [] : [...lookup.tags],
  };
}

/** What a snapshot should cover. */
export interface SnapshotRequest {
  /** Empty: every namespace seen so far. */
  namespaces?: readonly string[];
  /** Hot keys per namespace (0: none). */
  hotKeys?: number;
  /** Breaker state of a namespace's loader, when it has one. */
  breakerState?: (namespace: string) => BreakerStateName | undefined;
  /** Where hot keys come from (the telemetry's top-K); default: the L1 sketch scan, O(entries). */
  hotKeysOf?: (n: number, namespace: string) => KeyFrequency[];
  /** Anomalies to report with the snapshot. */
  anomalies?: readonly SnapshotAnomaly[];
}

/** An anomaly as the snapshot carries it. */
export interface SnapshotAnomaly {
  kind: "hot_key" | "refresh_spike" | "load_failure_spike";
  namespace: string;
  key?: string;
  detectedAt: number;
  score: number;
  detail: string;
}

const anomalyKinds = {
  hot_key: AnomalyKind.HOT_KEY,
  refresh_spike: AnomalyKind.REFRESH_SPIKE,
  load_failure_spike: AnomalyKind.LOAD_FAILURE_SPIKE,
} as const;

const breakerStates = {
  closed: BreakerState.CLOSED,
  open: BreakerState.OPEN,
  "half-open": BreakerState.HALF_OPEN,
} as const;

/** The API status of a backing service (Redis, Kafka) for stats snapshots. */
export function dependencyStatus(health: ServiceHealth): MessageInitShape<typeof DependencyStatusSchema> {
  return {
    name: health.name,
    up: health.up,
    detail: health.detail,
    queued: BigInt(health.queued),
    breakerState: breakerStates[health.breakerState],
    consumerLag: BigInt(health.consumerLag ?? 0),
  };
}

const ratio = (hits: number, misses: number) => (hits + misses === 0 ? 0 : hits / (hits + misses));

function layerStats(
  layer: CacheLayer,
  hits: number,
  misses: number,
  puts: number,
  counters: LayerCounters | undefined,
): MessageInitShape<typeof LayerStatsSchema> {
  return {
    layer,
    hits: BigInt(hits),
    misses: BigInt(misses),
    puts: BigInt(puts),
    hitRatio: ratio(hits, misses),
    evictions: counters
      ? {
          size: BigInt(counters.evictions.size),
          expired: BigInt(counters.evictions.expired),
          explicit: BigInt(counters.evictions.explicit),
          replaced: BigInt(counters.evictions.replaced),
        }
      : {},
    entries: BigInt(counters?.entries ?? 0),
    bytes: BigInt(counters?.bytes ?? 0),
    admissionRejections: BigInt(counters?.admissionRejections ?? 0),
  };
}

/** A statistics snapshot of the manager, as the API message. */
export function buildSnapshot(
  manager: CacheManager,
  instanceId: string,
  request: SnapshotRequest = {},
  dependencies: DependencyStatus[] = [],
): StatsSnapshot {
  const wanted = request.namespaces && request.namespaces.length > 0 ? request.namespaces : manager.namespaceNames();
  const hotKeysOf = request.hotKeysOf ?? ((n: number, ns: string) => manager.hotKeys(n, ns));
  const inFlight = new Map<string, number>();
  for (const flight of manager.inFlight()) inFlight.set(flight.namespace, (inFlight.get(flight.namespace) ?? 0) + 1);
  const namespaces = wanted.flatMap((name) => {
    const s = manager.stats(name);
    if (!s) return [];
    const layers: MessageInitShape<typeof LayerStatsSchema>[] = [];
    const l1 = manager.layerCounters("l1", name);
    if (l1) layers.push(layerStats(CacheLayer.L1, s.l1Hits, s.l1Misses, s.l1Puts, l1));
    const l2 = manager.layerCounters("l2", name);
    if (l2) layers.push(layerStats(CacheLayer.L2, s.l2Hits, s.l2Misses, s.l2Puts, l2));
    const [p50, p95, p99] = s.loadLatency.quantiles(0.5, 0.95, 0.99);
    return [
      {
        namespace: name,
        layers: layers as LayerStats[],
        requests: BigInt(s.requests),
        staleServed: BigInt(s.staleServed),
        fallbackServed: BigInt(s.fallbackServed),
        loads: {
          successes: BigInt(s.loadSuccesses),
          failures: BigInt(s.loadFailures),
          collapsed: BigInt(s.loadsCollapsed),
          earlyRefreshes: BigInt(s.earlyRefreshes),
          backgroundRefreshes: BigInt(s.backgroundRefreshes),
          inFlight: BigInt(inFlight.get(name) ?? 0),
          latencyP50: durationFromMs(p50 ?? 0),
          latencyP95: durationFromMs(p95 ?? 0),
          latencyP99: durationFromMs(p99 ?? 0),
          breakerState: breakerStates[request.breakerState?.(name) ?? "closed"] ?? BreakerState.UNSPECIFIED,
        },
        hotKeys: (request.hotKeys ? hotKeysOf(request.hotKeys, name) : []).map((k) => ({
          namespace: k.namespace,
          key: k.key,
          frequency: BigInt(k.frequency),
          instances: 1,
        })),
      },
    ];
  });
  return create(StatsSnapshotSchema, {
    time: timestampFromMs(manager.clock.now()),
    instanceId,
    namespaces,
    dependencies,
    anomalies: (request.anomalies ?? []).map(
      (a): MessageInitShape<typeof AnomalySchema> => ({
        kind: anomalyKinds[a.kind],
        namespace: a.namespace,
        key: a.key ?? "",
        detectedAt: timestampFromMs(Math.floor(a.detectedAt)),
        score: a.score,
        detail: a.detail,
      }),
    ),
  });
}
