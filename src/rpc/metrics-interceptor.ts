import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Counter, Histogram, type Registry } from "prom-client";
import { CacheError, statusName } from "../errors.js";
import type { Interceptor } from "./interceptors.js";

type CallLabels = "grpc_type" | "grpc_service" | "grpc_method";

/**
 * An interceptor that counts and times every call, on either port, under the standard gRPC
 * server metric names (`grpc_server_started_total`, `grpc_server_handled_total{grpc_code}`,
 * `grpc_server_handling_seconds`), registered in `registry`. Create one per registry:
 *
 *   const interceptors = [metricsInterceptor(metrics.registry), errorInterceptor];
 */
export function metricsInterceptor(registry: Registry): Interceptor {
  const registers = [registry];
  const started = new Counter<CallLabels>({
    name: "grpc_server_started_total",
    help: "RPCs started on the server, on either port.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    registers,
  });
  const handled = new Counter<CallLabels | "grpc_code">({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
    registers,
  });
  const handling = new Histogram<CallLabels>({
    name: "grpc_server_handling_seconds",
    help: "Time from the start of an RPC to its completion.",
    labelNames: ["grpc_type", "grpc_service", "grpc_method"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const labelsOf = (method: DescMethod) => ({
    grpc_type: method.methodKind === "unary" ? "unary" : "server_stream",
    grpc_service: method.parent.typeName,
    grpc_method: method.name,
  });
  const finish = (labels: ReturnType<typeof labelsOf>, t0: number, code: string) => {
    handled.inc({ ...labels, grpc_code: code });
    handling.observe(labels, (performance.now() - t0) / 1000);
  };
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

function codeName(error: unknown): string {
  if (error instanceof CacheError) return statusName(error.code);
  if (error instanceof ConnectError) return statusName(error.code);
  return statusName(Code.Unknown);
}
