import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CacheManager } from "../engine/cache-manager.js";
import type { ServiceHealth } from "../engine/health.js";

type Emit = (labels: Record<string, string>, value: number) => void;

/** State of a namespace's loader breaker. */
export type BreakerName = ServiceHealth["breakerState"];

/** What cache metrics read at scrape time: the engine's counters, and the telemetry's when started. */
export interface MetricSource {
  manager: CacheManager;
  /** Breaker state of a namespace's loader, when it has one. */
  breakerState?(namespace: string): BreakerName | undefined;
  /** Anomalies flagged so far in a namespace, by kind. */
  anomalyCounts?(namespace: string): Iterable<readonly [kind: string, count: number]>;
}

/**
 * Who registers a metric: `engine` ones come with {@link Metrics}, `telemetry` ones with
 * `Telemetry.start` (they need its tallies).
 */
type Owner = "engine" | "telemetry";

/** A cache metric read at scrape time, per namespace (`cache`). */
interface ScrapeMetric {
  kind: "counter" | "gauge";
  owner: Owner;
  name: string;
  help: string;
  /** Labels besides `cache`. */
  labels: string[];
  read(source: MetricSource, namespace: string, emit: Emit): void;
}

/** A cache histogram observed as events end (loads: never the Get path's hits). */
interface ObservedMetric {
  kind: "histogram";
  owner: Owner;
  name: string;
  help: string;
  /** Labels besides `cache`. */
  labels: string[];
  buckets: number[];
}

const LAYERS = ["l1", "l2"] as const;
const BREAKER_STATES = ["closed", "open", "half-open"] as const;

/** Every `cache_*` metric: its name, help, labels and where its values come from. */
const CACHE_METRICS: (ScrapeMetric | ObservedMetric)[] = [
  {
    kind: "counter",
    owner: "engine",
    name: "cache_gets_total",
    help: "Cache lookups, by namespace (cache), layer and result (hit/miss).",
    labels: ["layer", "result"],
    read({ manager }, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ layer: "l1", result: "hit" }, s.l1Hits);
      emit({ layer: "l1", result: "miss" }, s.l1Misses);
      emit({ layer: "l2", result: "hit" }, s.l2Hits);
      emit({ layer: "l2", result: "miss" }, s.l2Misses);
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_puts_total",
    help: "Entries written into a layer.",
    labels: ["layer"],
    read({ manager }, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ layer: "l1" }, s.l1Puts);
      emit({ layer: "l2" }, s.l2Puts);
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_evictions_total",
    help: "Entries that left a layer, by cause (size, expired, explicit, replaced).",
    labels: ["layer", "cause"],
    read({ manager }, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) for (const [cause, count] of Object.entries(c.evictions)) emit({ layer, cause }, count);
      }
    },
  },
  {
    kind: "gauge",
    owner: "engine",
    name: "cache_size",
    help: "Entries held now.",
    labels: ["layer"],
    read({ manager }, namespace, emit) {
      const c = manager.layerCounters("l1", namespace);
      if (c) emit({ layer: "l1" }, c.entries);
    },
  },
  {
    kind: "gauge",
    owner: "engine",
    name: "cache_size_bytes",
    help: "Bytes held now (value, key and bookkeeping).",
    labels: ["layer"],
    read({ manager }, namespace, emit) {
      const c = manager.layerCounters("l1", namespace);
      if (c) emit({ layer: "l1" }, c.bytes);
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_loads_total",
    help: "Loader calls, by result (success, failure).",
    labels: ["result"],
    read({ manager }, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ result: "success" }, s.loadSuccesses);
      emit({ result: "failure" }, s.loadFailures);
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_loads_deduped_total",
    help: "Requests that waited for another request's load instead of loading (single-flight).",
    labels: [],
    read: ({ manager }, namespace, emit) => emit({}, manager.stats(namespace)?.loadsCollapsed ?? 0),
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_loads_uncoordinated_total",
    help: "Keys loaded without the fleet lease (Redis unreachable, or the wait for another instance's load gave up): one load per instance then.",
    labels: [],
    read: ({ manager }, namespace, emit) => emit({}, manager.stats(namespace)?.loadsUncoordinated ?? 0),
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_refreshes_total",
    help: "Refresh loads started, by kind: early (probabilistic, before expiry) or background (stale-while-revalidate, soft timeout, refresher).",
    labels: ["kind"],
    read({ manager }, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ kind: "early" }, s.earlyRefreshes);
      emit({ kind: "background" }, s.backgroundRefreshes);
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_admission_rejections_total",
    help: "Writes a layer's admission policy refused (TinyLFU lost the duel, or too large).",
    labels: ["layer"],
    read({ manager }, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) emit({ layer }, c.admissionRejections);
      }
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_unreadable_total",
    help: "Encrypted entries that did not decrypt and authenticate (wrong key, namespace or key, tampered): misses, never served.",
    labels: ["layer"],
    read({ manager }, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) emit({ layer }, c.unreadable);
      }
    },
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_fallback_served_total",
    help: "Gets answered with the namespace's fallback value.",
    labels: [],
    read: ({ manager }, namespace, emit) => emit({}, manager.stats(namespace)?.fallbackServed ?? 0),
  },
  {
    kind: "gauge",
    owner: "engine",
    name: "cache_loads_in_flight",
    help: "Loads running now.",
    labels: [],
    read: ({ manager }, namespace, emit) => emit({}, manager.inFlight(namespace).length),
  },
  {
    kind: "counter",
    owner: "engine",
    name: "cache_stale_served_total",
    help: "Stale values served (stale-while-revalidate and fail-safe).",
    labels: [],
    read: ({ manager }, namespace, emit) => emit({}, manager.stats(namespace)?.staleServed ?? 0),
  },
  {
    kind: "histogram",
    owner: "telemetry",
    name: "cache_load_duration_seconds",
    help: "Loader call durations, by result (success, failure); a key of a bulk call counts 0.",
    labels: ["result"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  {
    kind: "counter",
    owner: "telemetry",
    name: "cache_anomalies_total",
    help: "Anomalies flagged: keys suddenly hot, spikes of early refreshes or load failures.",
    labels: ["kind"],
    read(source, namespace, emit) {
      for (const [kind, count] of source.anomalyCounts?.(namespace) ?? []) emit({ kind }, count);
    },
  },
  {
    kind: "gauge",
    owner: "telemetry",
    name: "cache_breaker_state",
    help: "State of a namespace's loader breaker: 1 for the current state (closed, open, half_open), 0 otherwise.",
    labels: ["state"],
    read(source, namespace, emit) {
      const state = source.breakerState?.(namespace);
      if (!state) return;
      for (const candidate of BREAKER_STATES) emit({ state: candidate.replace("-", "_") }, candidate === state ? 1 : 0);
    },
  },
];

/**
 * Prometheus metrics. Cache metrics follow the Micrometer cache vocabulary (`cache_gets_total`
 * …) with the namespace as the `cache` label, and are read from the engine's counters at
 * scrape time, so the Get path pays nothing for them. Never a key in a label.
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(manager: CacheManager) {
    collectDefaultMetrics({ register: this.registry });
    registerCacheMetrics(this.registry, "engine", { manager });
  }

  /**
   * Counters of refusals that protect the service: `mlcache_requests_rate_limited_total{scope}`
   * (a credential's or namespace's request rate) and `mlcache_l2_reads_rate_limited_total` (L2
   * reads past `redis.maxReadsPerSecond`, answered as misses). Returns the count for requests.
   */
  trackRateLimits(l2ReadsLimited: () => number): (scope: "credential" | "namespace") => void {
    const registers = [this.registry];
    const requests = new Counter({
      name: "mlcache_requests_rate_limited_total",
      help: "Requests refused with RESOURCE_EXHAUSTED by a rate limit, by scope (credential, namespace).",
      labelNames: ["scope"],
      registers,
    });
    new Counter({
      name: "mlcache_l2_reads_rate_limited_total",
      help: "L2 reads answered as misses because the instance was past redis.maxReadsPerSecond.",
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc(l2ReadsLimited());
      },
    });
    return (scope) => requests.inc({ scope });
  }

  /**
   * Counters and a gauge of the TLS files followed for rotation:
   * `mlcache_tls_reloads_total{result}` (success: a new pair in service; failure: changed files
   * that could not be used) and `mlcache_tls_certificate_expiry_timestamp_seconds` (when the
   * certificate in service expires).
   */
  trackTlsReloads(tls: {
    readonly reloads: number;
    readonly failures: number;
    readonly certificate: { readonly validTo: string };
  }): void {
    const registers = [this.registry];
    new Counter({
      name: "mlcache_tls_reloads_total",
      help: "Changes of the TLS certificate, key or CA files, by result: success (served to new connections) or failure (unusable; the previous pair is still served).",
      labelNames: ["result"],
      registers,
      collect(this: Counter) {
        this.reset();
        this.inc({ result: "success" }, tls.reloads);
        this.inc({ result: "failure" }, tls.failures);
      },
    });
    new Gauge({
      name: "mlcache_tls_certificate_expiry_timestamp_seconds",
      help: "When the TLS certificate in service expires (Unix seconds).",
      registers,
      collect(this: Gauge) {
        this.set(Date.parse(tls.certificate.validTo) / 1000);
      },
    });
  }

  /**
   * Gauges of the L1 trust tracker: `mlcache_l1_trusted` (1 while reads may use L1) and
   * `mlcache_l1_trust_lag_seconds` (how long ago the instance last confirmed it had heard every
   * invalidation; L1 is dropped from reads past the propagation bound).
   */
  trackL1Trust(trust: { readonly trusted: boolean; readonly lagMs: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: "mlcache_l1_trusted",
      help: "1 while this instance trusts its L1 (caught up with invalidations within the propagation bound), else 0.",
      registers,
      collect(this: Gauge) {
        this.set(trust.trusted ? 1 : 0);
      },
    });
    new Gauge({
      name: "mlcache_l1_trust_lag_seconds",
      help: "Seconds since this instance last confirmed it had applied every invalidation (-1 before the first time).",
      registers,
      collect(this: Gauge) {
        this.set(Number.isFinite(trust.lagMs) ? trust.lagMs / 1000 : -1);
      },
    });
  }
}

/** Records one load's duration in `cache_load_duration_seconds`. */
export type LoadObserver = (namespace: string, ms: number, ok: boolean) => void;

/**
 * Registers the telemetry's cache metrics (load durations, anomalies, breaker state) in
 * `registry`; returns the observer of load durations.
 */
export function registerTelemetryMetrics(registry: Registry, source: MetricSource): LoadObserver {
  const [loadDuration] = registerCacheMetrics(registry, "telemetry", source);
  if (!loadDuration) throw new Error("cache_load_duration_seconds is missing from CACHE_METRICS");
  const children = new Map<string, { success: Histogram.Internal<string>; failure: Histogram.Internal<string> }>();
  return (namespace, ms, ok) => {
    let of = children.get(namespace);
    if (!of) {
      of = {
        success: loadDuration.labels({ cache: namespace, result: "success" }),
        failure: loadDuration.labels({ cache: namespace, result: "failure" }),
      };
      children.set(namespace, of);
    }
    of[ok ? "success" : "failure"].observe(ms / 1000);
  };
}

/**
 * Registers the table's metrics of one owner: scrape metrics read `source` for every namespace
 * at each scrape; histograms are returned, in table order, for their owner to observe.
 */
function registerCacheMetrics(registry: Registry, owner: Owner, source: MetricSource): Histogram[] {
  const registers = [registry];
  const histograms: Histogram[] = [];
  const manager = source.manager;
  for (const metric of CACHE_METRICS) {
    if (metric.owner !== owner) continue;
    const labelNames = ["cache", ...metric.labels];
    if (metric.kind === "histogram") {
      histograms.push(
        new Histogram({ name: metric.name, help: metric.help, labelNames, buckets: metric.buckets, registers }),
      );
      continue;
    }
    const Kind = metric.kind === "counter" ? Counter : Gauge;
    new Kind({
      name: metric.name,
      help: metric.help,
      labelNames,
      registers,
      collect(this: Counter | Gauge) {
        this.reset();
        for (const cache of manager.namespaceNames()) {
          metric.read(source, cache, (labels, value) => {
            if (this instanceof Counter) this.inc({ cache, ...labels }, value);
            else this.set({ cache, ...labels }, value);
          });
        }
      },
    });
  }
  return histograms;
}
