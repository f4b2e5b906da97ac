import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { Counter, type Histogram, type Registry } from "prom-client";
import { CacheError, Status, statusName } from "../errors.js";
import type { Interceptor } from "./interceptors.js";

type CallLabels = "grpc_type" | "grpc_service" | "grpc_method";

/** Upper bounds (seconds) of the `grpc_server_handling_seconds` buckets. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** gRPC status codes run from OK (0) to UNAUTHENTICATED (16). */
const CODES = Status.UNAUTHENTICATED + 1;

/** The counters of one method, bumped per call and read at scrape time. */
class MethodCalls {
  /** Calls that reached the interceptor. */
  started = 0;
  /** Calls completed, by status code (the index). */
  readonly handled = new Float64Array(CODES);
  /** Completed calls by handling time: per bucket of BUCKETS, the last one past them all. */
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  /** Seconds spent handling the completed calls. */
  seconds = 0;

  constructor(readonly labels: Record<CallLabels, string>) {}

  finish(code: number, seconds: number): void {
    const at = code >= 0 && code < CODES ? code : Status.UNKNOWN;
    this.handled[at] = (this.handled[at] ?? 0) + 1;
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] as number)) bucket++;
    this.buckets[bucket] = (this.buckets[bucket] ?? 0) + 1;
    this.seconds += seconds;
  }
}

/**
 * `grpc_server_handling_seconds`, read from the method tables at scrape time. prom-client has
 * no histogram whose buckets can be set, so this is its registry's contract for a metric
 * (`get()` answering what its own Histogram answers) written out; the e2e and integration
 * metrics tests read it back.
 */
function registerHandlingHistogram(registry: Registry, methods: readonly MethodCalls[]): void {
  const name = "grpc_server_handling_seconds";
  const help = "Time from the start of an RPC to its completion.";
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    // The tables only count up, as Prometheus counters do; registry.resetMetrics() keeps them.
    reset() {},
    async get() {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const { labels, buckets, seconds } of methods) {
        let count = 0;
        for (const n of buckets) count += n;
        if (count === 0) continue;
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += buckets[i] as number;
          values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${name}_bucket` });
        });
        values.push({ labels: { ...labels, le: "+Inf" }, value: count, metricName: `${name}_bucket` });
        values.push({ labels, value: seconds, metricName: `${name}_sum` });
        values.push({ labels, value: count, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", values, aggregator: "sum" };
    },
  };
  registry.registerMetric(metric as unknown as Histogram);
}

/**
 * An interceptor that counts and times every call, on either port, under the standard gRPC
 * server metric names (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_handling_seconds`), registered in `registry`. A call bumps numbers in its
 * method's table; Prometheus reads the tables at scrape time. Create one per registry:
 *
 *   const interceptors = [metricsInterceptor(metrics.registry), errorInterceptor];
 */
export function metricsInterceptor(registry: Registry): Interceptor {
  const methods: MethodCalls[] = [];
  const registers = [registry];
  new Counter<CallLabels>({
    name: "grpc_server_started_total",
    help: "RPCs started on the server, on either port.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    registers,
    collect(this: Counter<CallLabels>) {
      this.reset();
      for (const m of methods) if (m.started > 0) this.inc(m.labels, m.started);
    },
  });
  new Counter<CallLabels | "grpc_code">({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registers,
    collect(this: Counter<CallLabels | "grpc_code">) {
      this.reset();
      for (const m of methods) {
        m.handled.forEach((n, code) => {
          if (n > 0) this.inc({ ...m.labels, grpc_code: statusName(code) }, n);
        });
      }
    },
  });
  registerHandlingHistogram(registry, methods);
  // One table per method, however many services and ports intercept it.
  const tables = new Map<DescMethod, MethodCalls>();
  const tableOf = (method: DescMethod) => {
    let table = tables.get(method);
    if (!table) {
      table = new MethodCalls({
        grpc_type: method.methodKind === "unary" ? "unary" : "server_stream",
        grpc_service: method.parent.typeName,
        grpc_method: method.name,
      });
      tables.set(method, table);
      methods.push(table);
    }
    return table;
  };
  return {
    unary: (method, next) => {
      const table = tableOf(method);
      return (request, context) => {
        const t0 = performance.now();
        table.started++;
        let pending: Promise<unknown>;
        try {
          pending = next(request, context);
        } catch (error) {
          pending = Promise.reject(error);
        }
        return pending.then(
          (response) => {
            table.finish(Status.OK, (performance.now() - t0) / 1000);
            return response;
          },
          (error: unknown) => {
            table.finish(codeOf(error), (performance.now() - t0) / 1000);
            throw error;
          },
        );
      };
    },
    stream: (method, next) => {
      const table = tableOf(method);
      return async function* (request, context) {
        const t0 = performance.now();
        table.started++;
        try {
          yield* next(request, context);
          table.finish(Status.OK, (performance.now() - t0) / 1000);
        } catch (error) {
          table.finish(codeOf(error), (performance.now() - t0) / 1000);
          throw error;
        }
      };
    },
  };
}

function codeOf(error: unknown): number {
  if (error instanceof CacheError) return error.code;
  if (error instanceof ConnectError) return error.code;
  return Status.UNKNOWN;
}
