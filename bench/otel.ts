/**
 * What OpenTelemetry tracing costs the Get path (L1 hits, Zipf keys). Three instances in one
 * process, measured interleaved (chunks in rotating order, so drift hits all alike):
 *
 *   off    tracing not configured: no tracing interceptor, the plain stats sink (production's
 *          default; the Prometheus interceptor runs in all three);
 *   on0    tracing on, sampleRatio 0: the RPC interceptor and the tracing sink run, every span
 *          is a non-recording one;
 *   on100  tracing on, sampleRatio 1: every Get is a recorded span with its L1 event, batched
 *          and exported over OTLP/HTTP protobuf to a receiver in this process;
 *   off2   a second `off`, built the same way: how far two identical setups drift apart in one
 *          run (the noise floor the ratios are read against).
 *
 * Over the API (grpc-js client → gRPC port) and in process (`manager.get`, no RPC span: the
 * sink's check alone). Prints one JSON line per setup and path per round, then a summary per
 * path with medians and the ratios to `off`.
 *
 *   npm run bench:otel
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from "@opentelemetry/sdk-trace";
import { pino } from "pino";
import { parseConfig } from "../src/config/config.js";
import { CacheManager } from "../src/engine/cache-manager.js";
import { CacheService } from "../src/gen/mlcache/v1/cache_pb.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { cacheService } from "../src/rpc/cache-service.js";
import { bind, startGrpcServer } from "../src/rpc/grpc-server.js";
import { errorInterceptor, type Interceptor, intercept } from "../src/rpc/interceptors.js";
import { metricsInterceptor } from "../src/rpc/metrics-interceptor.js";
import { tracingInterceptor } from "../src/rpc/tracing-interceptor.js";
import { Metrics } from "../src/telemetry/metrics.js";
import { resolveOtelSettings, startOtel } from "../src/telemetry/otel.js";
import { createTelemetry } from "../src/telemetry/telemetry.js";
import { type TracingOptions, tracingSink } from "../src/telemetry/tracing.js";
import { createGrpcJsClient } from "../test/support/service.js";
import { measure, measureInterleaved } from "./support.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const KEYS = 10_000;
const NS = "bench";
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const API_CALLS = Number(process.env.API_CALLS ?? 20_000);
const LOCAL_CALLS = Number(process.env.LOCAL_CALLS ?? 300_000);
const value = new TextEncoder().encode("x".repeat(100));
const config = parseConfig(
  { server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 }, log: { level: "silent" } },
  "bench",
);
const sequence = (() => {
  const next = zipfSampler(KEYS, 1, mulberry32(42));
  return Array.from({ length: 1 << 16 }, () => `key-${next()}`);
})();
const keyAt = (i: number) => sequence[i & 0xffff] as string;

/** An OTLP/HTTP endpoint that counts what it is sent and answers 200 (a collector stand-in). */
async function countingReceiver() {
  const received = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    received.requests++;
    request.on("data", (chunk: Buffer) => {
      received.bytes += chunk.length;
    });
    request.on("end", () => response.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function instance(tracing: TracingOptions | undefined) {
  const telemetry = createTelemetry({ instanceId: "bench", logger: pino({ level: "silent" }) });
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 256 << 20, maxEntries: 100_000 }),
    statsSink: tracing ? tracingSink(telemetry.statsSink) : telemetry.statsSink,
  });
  const metrics = new Metrics(manager);
  telemetry.start(manager, { registry: metrics.registry });
  for (let k = 0; k < KEYS; k++) await manager.set(NS, `key-${k}`, value);
  const stop = new AbortController();
  const interceptors: Interceptor[] = [
    ...(tracing ? [tracingInterceptor(tracing)] : []),
    metricsInterceptor(metrics.registry),
    errorInterceptor,
  ];
  const grpc = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    services: [
      bind(
        CacheService,
        intercept(
          CacheService,
          cacheService({ manager, limits: config.limits, instanceId: "bench", streamsStop: stop.signal, telemetry }),
          interceptors,
        ),
      ),
    ],
    maxMessageBytes: config.server.maxMessageBytes,
  });
  const client = createGrpcJsClient(CacheService, `127.0.0.1:${grpc.port}`);
  return {
    manager,
    client,
    async close() {
      stop.abort();
      client.close();
      await grpc.close(1000);
      await telemetry.close();
    },
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main() {
  const receiver = await countingReceiver();
  // The SDK as the service starts it (global context manager, propagator, provider at 100%).
  const settings = resolveOtelSettings({ endpoint: receiver.endpoint, sampleRatio: 1, metricsInterval: 0 }, {});
  if (!settings) throw new Error("tracing settings did not resolve");
  const otel = startOtel(settings);
  // A second provider with the 0% sampler: spans are created, none recorded or exported.
  const unsampled = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
  });
  const setups = {
    off: await instance(undefined),
    on0: await instance({ tracer: unsampled.getTracer("mlcache"), includeKeys: false }),
    on100: await instance(otel.tracing),
    off2: await instance(undefined),
  };
  const names = Object.keys(setups) as (keyof typeof setups)[];
  // Warm-up: JIT and connections.
  for (const name of names) {
    await measure((i) => setups[name].client.get({ namespace: NS, key: keyAt(i) }), 4_000, 32);
    await measure((i) => setups[name].manager.get(NS, keyAt(i)), 50_000, 1);
  }
  const results = { api: new Map<string, number[]>(), local: new Map<string, number[]>() };
  for (let round = 0; round < ROUNDS; round++) {
    const api = await measureInterleaved(
      Object.fromEntries(names.map((n) => [n, (i: number) => setups[n].client.get({ namespace: NS, key: keyAt(i) })])),
      API_CALLS,
      32,
      1_000,
    );
    const local = await measureInterleaved(
      Object.fromEntries(names.map((n) => [n, (i: number) => setups[n].manager.get(NS, keyAt(i))])),
      LOCAL_CALLS,
      1,
      10_000,
    );
    for (const [path, measured] of [
      ["api", api],
      ["local", local],
    ] as const) {
      for (const [setup, figures] of measured) {
        const list = results[path].get(setup) ?? [];
        list.push(figures.opsPerSec);
        results[path].set(setup, list);
        console.log(JSON.stringify({ bench: "otel", path, setup, round, ...figures }));
      }
    }
  }
  for (const setup of names) await setups[setup].close();
  await otel.close();
  await unsampled.shutdown();
  await receiver.close();
  for (const [path, bySetup] of Object.entries(results)) {
    const off = median(bySetup.get("off") ?? []);
    const on0 = median(bySetup.get("on0") ?? []);
    const on100 = median(bySetup.get("on100") ?? []);
    const off2 = median(bySetup.get("off2") ?? []);
    console.log(
      JSON.stringify({
        bench: "otel",
        path,
        summary: true,
        rounds: ROUNDS,
        offMedianOpsPerSec: off,
        on0MedianOpsPerSec: on0,
        on100MedianOpsPerSec: on100,
        off2MedianOpsPerSec: off2,
        on0Ratio: Number((on0 / off).toFixed(3)),
        on100Ratio: Number((on100 / off).toFixed(3)),
        off2Ratio: Number((off2 / off).toFixed(3)),
        ...(path === "api" ? { exportRequests: receiver.received.requests, exportBytes: receiver.received.bytes } : {}),
      }),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
