import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { CacheManager } from "../engine/cache-manager.js";

type Emit = (labels: Record<string, string>, value: number) => void;

/** A cache metric read from the engine's counters at scrape time, per namespace (`cache`). */
interface ScrapeMetric {
  kind: "counter" | "gauge";
  name: string;
  help: string;
  /** Labels besides `cache`. */
  labels: string[];
  read(manager: CacheManager, namespace: string, emit: Emit): void;
}

const LAYERS = ["l1", "l2"] as const;

const CACHE_METRICS: ScrapeMetric[] = [
  {
    kind: "counter",
    name: "cache_gets_total",
    help: "Cache lookups, by namespace (cache), layer and result (hit/miss).",
    labels: ["layer", "result"],
    read(manager, namespace, emit) {
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
    name: "cache_puts_total",
    help: "Entries written into a layer.",
    labels: ["layer"],
    read(manager, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ layer: "l1" }, s.l1Puts);
      emit({ layer: "l2" }, s.l2Puts);
    },
  },
  {
    kind: "counter",
    name: "cache_evictions_total",
    help: "Entries that left a layer, by cause (size, expired, explicit, replaced).",
    labels: ["layer", "cause"],
    read(manager, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) for (const [cause, count] of Object.entries(c.evictions)) emit({ layer, cause }, count);
      }
    },
  },
  {
    kind: "gauge",
    name: "cache_size",
    help: "Entries held now.",
    labels: ["layer"],
    read(manager, namespace, emit) {
      const c = manager.layerCounters("l1", namespace);
      if (c) emit({ layer: "l1" }, c.entries);
    },
  },
  {
    kind: "gauge",
    name: "cache_size_bytes",
    help: "Bytes held now (value, key and bookkeeping).",
    labels: ["layer"],
    read(manager, namespace, emit) {
      const c = manager.layerCounters("l1", namespace);
      if (c) emit({ layer: "l1" }, c.bytes);
    },
  },
  {
    kind: "counter",
    name: "cache_loads_total",
    help: "Loader calls, by result (success, failure).",
    labels: ["result"],
    read(manager, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ result: "success" }, s.loadSuccesses);
      emit({ result: "failure" }, s.loadFailures);
    },
  },
  {
    kind: "counter",
    name: "cache_loads_deduped_total",
    help: "Requests that waited for another request's load instead of loading (single-flight).",
    labels: [],
    read: (manager, namespace, emit) => emit({}, manager.stats(namespace)?.loadsCollapsed ?? 0),
  },
  {
    kind: "counter",
    name: "cache_loads_uncoordinated_total",
    help: "Keys loaded without the fleet lease (Redis unreachable, or the wait for another instance's load gave up): one load per instance then.",
    labels: [],
    read: (manager, namespace, emit) => emit({}, manager.stats(namespace)?.loadsUncoordinated ?? 0),
  },
  {
    kind: "counter",
    name: "cache_refreshes_total",
    help: "Refresh loads started, by kind: early (probabilistic, before expiry) or background (stale-while-revalidate, soft timeout, refresher).",
    labels: ["kind"],
    read(manager, namespace, emit) {
      const s = manager.stats(namespace);
      if (!s) return;
      emit({ kind: "early" }, s.earlyRefreshes);
      emit({ kind: "background" }, s.backgroundRefreshes);
    },
  },
  {
    kind: "counter",
    name: "cache_admission_rejections_total",
    help: "Writes a layer's admission policy refused (TinyLFU lost the duel, or too large).",
    labels: ["layer"],
    read(manager, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) emit({ layer }, c.admissionRejections);
      }
    },
  },
  {
    kind: "counter",
    name: "cache_unreadable_total",
    help: "Encrypted entries that did not decrypt and authenticate (wrong key, namespace or key, tampered): misses, never served.",
    labels: ["layer"],
    read(manager, namespace, emit) {
      for (const layer of LAYERS) {
        const c = manager.layerCounters(layer, namespace);
        if (c) emit({ layer }, c.unreadable);
      }
    },
  },
  {
    kind: "counter",
    name: "cache_fallback_served_total",
    help: "Gets answered with the namespace's fallback value.",
    labels: [],
    read: (manager, namespace, emit) => emit({}, manager.stats(namespace)?.fallbackServed ?? 0),
  },
  {
    kind: "gauge",
    name: "cache_loads_in_flight",
    help: "Loads running now.",
    labels: [],
    read: (manager, namespace, emit) => emit({}, manager.inFlight(namespace).length),
  },
  {
    kind: "counter",
    name: "cache_stale_served_total",
    help: "Stale values served (stale-while-revalidate and fail-safe).",
    labels: [],
    read: (manager, namespace, emit) => emit({}, manager.stats(namespace)?.staleServed ?? 0),
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
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    for (const metric of CACHE_METRICS) {
      const Kind = metric.kind === "counter" ? Counter : Gauge;
      new Kind({
        name: metric.name,
        help: metric.help,
        labelNames: ["cache", ...metric.labels],
        registers,
        collect(this: Counter | Gauge) {
          this.reset();
          for (const cache of manager.namespaceNames()) {
            metric.read(manager, cache, (labels, value) => {
              if (this instanceof Counter) this.inc({ cache, ...labels }, value);
              else this.set({ cache, ...labels }, value);
            });
          }
        },
      });
    }
  }

  /**
   * Gauges of the L1 trust tracker: `mlcache_l1_trusted` (1 while reads may use L1) and
   * `mlcache_l1_trust_lag_seconds` (how long ago the instance last confirmed it had heard every
   * invalidation; L1 is dropped from reads past the propagation bound).
   */
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
