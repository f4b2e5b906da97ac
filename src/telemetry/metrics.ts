import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { CacheManager } from "../engine/cache-manager.js";
import { CacheError, statusName } from "../errors.js";
import type { Interceptor } from "../rpc/interceptors.js";

/**
 * Prometheus metrics. Cache metrics follow the Micrometer cache vocabulary (`cache_gets_total`
 * …) with the namespace as the `cache` label, and are read from the engine's counters at
 * scrape time, so the Get path pays nothing for them. Never a key in a label.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly handled: Counter<"grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">;
  private readonly started: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  private readonly handling: Histogram<"grpc_type" | "grpc_service" | "grpc_method">;

  constructor(manager: CacheManager) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.started = new Counter({
      name: "grpc_server_started_total",
      help: "RPCs started on the server, on either port.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      registers,
    });
    this.handled = new Counter({
      name: "grpc_server_handled_total",
      help: "RPCs completed on the server, by status code.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
      registers,
    });
    this.handling = new Histogram({
      name: "grpc_server_handling_seconds",
      help: "Time from the start of an RPC to its completion.",
      labelNames: ["grpc_type", "grpc_service", "grpc_method"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    new Counter({
      name: "cache_gets_total",
      help: "Cache lookups, by namespace (cache), layer and result (hit/miss).",
      labelNames: ["cache", "layer", "result"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (!s) continue;
          this.inc({ cache: name, layer: "l1", result: "hit" }, s.l1Hits);
          this.inc({ cache: name, layer: "l1", result: "miss" }, s.l1Misses);
          this.inc({ cache: name, layer: "l2", result: "hit" }, s.l2Hits);
          this.inc({ cache: name, layer: "l2", result: "miss" }, s.l2Misses);
        }
      },
    });
    new Counter({
      name: "cache_puts_total",
      help: "Entries written into a layer.",
      labelNames: ["cache", "layer"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (!s) continue;
          this.inc({ cache: name, layer: "l1" }, s.l1Puts);
          this.inc({ cache: name, layer: "l2" }, s.l2Puts);
        }
      },
    });
    new Counter({
      name: "cache_evictions_total",
      help: "Entries that left a layer, by cause (size, expired, explicit, replaced).",
      labelNames: ["cache", "layer", "cause"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          for (const layer of ["l1", "l2"] as const) {
            const c = manager.layerCounters(layer, name);
            if (!c) continue;
            for (const [cause, count] of Object.entries(c.evictions)) this.inc({ cache: name, layer, cause }, count);
          }
        }
      },
    });
    new Gauge({
      name: "cache_size",
      help: "Entries held now.",
      labelNames: ["cache", "layer"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const c = manager.layerCounters("l1", name);
          if (c) this.set({ cache: name, layer: "l1" }, c.entries);
        }
      },
    });
    new Gauge({
      name: "cache_size_bytes",
      help: "Bytes held now (value, key and bookkeeping).",
      labelNames: ["cache", "layer"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const c = manager.layerCounters("l1", name);
          if (c) this.set({ cache: name, layer: "l1" }, c.bytes);
        }
      },
    });
    new Counter({
      name: "cache_loads_total",
      help: "Loader calls, by result (success, failure).",
      labelNames: ["cache", "result"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (!s) continue;
          this.inc({ cache: name, result: "success" }, s.loadSuccesses);
          this.inc({ cache: name, result: "failure" }, s.loadFailures);
        }
      },
    });
    new Counter({
      name: "cache_loads_deduped_total",
      help: "Requests that waited for another request's load instead of loading (single-flight).",
      labelNames: ["cache"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (s) this.inc({ cache: name }, s.loadsCollapsed);
        }
      },
    });
    new Counter({
      name: "cache_refreshes_total",
      help: "Refresh loads started, by kind: early (probabilistic, before expiry) or background (stale-while-revalidate, soft timeout, refresher).",
      labelNames: ["cache", "kind"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (!s) continue;
          this.inc({ cache: name, kind: "early" }, s.earlyRefreshes);
          this.inc({ cache: name, kind: "background" }, s.backgroundRefreshes);
        }
      },
    });
    new Counter({
      name: "cache_admission_rejections_total",
      help: "Writes a layer's admission policy refused (TinyLFU lost the duel, or too large).",
      labelNames: ["cache", "layer"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          for (const layer of ["l1", "l2"] as const) {
            const c = manager.layerCounters(layer, name);
            if (c) this.inc({ cache: name, layer }, c.admissionRejections);
          }
        }
      },
    });
    new Counter({
      name: "cache_fallback_served_total",
      help: "Gets answered with the namespace's fallback value.",
      labelNames: ["cache"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (s) this.inc({ cache: name }, s.fallbackServed);
        }
      },
    });
    new Gauge({
      name: "cache_loads_in_flight",
      help: "Loads running now.",
      labelNames: ["cache"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const flight of manager.inFlight()) counts.set(flight.namespace, (counts.get(flight.namespace) ?? 0) + 1);
        for (const name of manager.namespaceNames()) this.set({ cache: name }, counts.get(name) ?? 0);
      },
    });
    new Counter({
      name: "cache_stale_served_total",
      help: "Stale values served (stale-while-revalidate and fail-safe).",
      labelNames: ["cache"],
      registers,
      collect() {
        this.reset();
        for (const name of manager.namespaceNames()) {
          const s = manager.stats(name);
          if (s) this.inc({ cache: name }, s.staleServed);
        }
      },
    });
  }

  /**
   * An interceptor that counts and times every call, on either port, under the standard
   * gRPC server metric names.
   */
  interceptor(): Interceptor {
    const labelsOf = (method: DescMethod) => ({
      grpc_type: method.methodKind === "unary" ? "unary" : "server_stream",
      grpc_service: method.parent.typeName,
      grpc_method: method.name,
    });
    const finish = (labels: ReturnType<typeof labelsOf>, started: number, code: string) => {
      this.handled.inc({ ...labels, grpc_code: code });
      this.handling.observe(labels, (performance.now() - started) / 1000);
    };
    const started = this.started;
    return {
      unary: (method, next) => {
        const labels = labelsOf(method);
        return async (request, context) => {
          const t0 = performance.now();
          started.inc(labels);
          try {
            const response = await next(request, context);
            finish(labels, t0, "OK");
            return response;
          } catch (error) {
            finish(labels, t0, codeName(error));
            throw error;
          }
        };
      },
      stream: (method, next) => {
        const labels = labelsOf(method);
        return async function* (request, context) {
          const t0 = performance.now();
          started.inc(labels);
          try {
            yield* next(request, context);
            finish(labels, t0, "OK");
          } catch (error) {
            finish(labels, t0, codeName(error));
            throw error;
          }
        };
      },
    };
  }
}

function codeName(error: unknown): string {
  if (error instanceof CacheError) return statusName(error.code);
  if (error instanceof ConnectError) return statusName(error.code);
  return statusName(Code.Unknown);
}
