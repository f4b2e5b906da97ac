/**
 * What observability costs the Get path. Two instances in one process, alternating runs,
 * median of each:
 *
 *   off  the engine alone: no stats sink, no metrics interceptor, nobody watching;
 *   on   the telemetry stats sink (top-K, per-key tracker, load histogram), the Prometheus
 *        interceptor and scrape-time metrics (scraped every second), and two WatchStats
 *        subscribers at 200 ms with 20 hot keys each.
 *
 * Measured twice: over the API (grpc-js client → gRPC port, the user-visible path) and in
 * process (`manager.get`, where the sink's share is largest). Target: on ≥ 0.95 × off.
 * Prints one JSON line per run and per summary.
 *
 *   npm run bench:observability
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { pino } from "pino";
import { parseConfig } from "../src/config/config.js";
import { CacheManager } from "../src/engine/cache-manager.js";
import { CacheService } from "../src/gen/mlcache/v1/cache_pb.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { cacheService } from "../src/rpc/cache-service.js";
import { bind, startGrpcServer } from "../src/rpc/grpc-server.js";
import { errorInterceptor, type Interceptor, intercept } from "../src/rpc/interceptors.js";
import { metricsInterceptor } from "../src/rpc/metrics-interceptor.js";
import { Metrics } from "../src/telemetry/metrics.js";
import { createTelemetry } from "../src/telemetry/telemetry.js";
import { createGrpcJsClient } from "../test/support/service.js";
import { measure } from "./support.js";

const KEYS = 10_000;
const NS = "bench";
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const API_CALLS = Number(process.env.API_CALLS ?? 40_000);
const LOCAL_CALLS = Number(process.env.LOCAL_CALLS ?? 1_000_000);
const value = new TextEncoder().encode("x".repeat(100));
const config = parseConfig(
  { server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 }, log: { level: "silent" } },
  "bench",
);

/** Zipf-like key choice (s ≈ 1) from a fixed table, so both setups see the same sequence. */
const sequence = (() => {
  const weights = Array.from({ length: KEYS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = new Float64Array(KEYS);
  let sum = 0;
  for (let i = 0; i < KEYS; i++) {
    sum += (weights[i] as number) / total;
    cumulative[i] = sum;
  }
  let seed = 42;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: 1 << 16 }, () => {
    const r = random();
    let lo = 0;
    let hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return `key-${lo}`;
  });
})();
const keyAt = (i: number) => sequence[i & 0xffff] as string;

async function instance(observed: boolean) {
  const telemetry = observed ? createTelemetry({ instanceId: "bench", logger: pino({ level: "silent" }) }) : undefined;
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 256 << 20, maxEntries: 100_000 }),
    ...(telemetry ? { statsSink: telemetry.statsSink } : {}),
  });
  const metrics = observed ? new Metrics(manager) : undefined;
  if (telemetry && metrics) telemetry.start(manager, { registry: metrics.registry });
  for (let k = 0; k < KEYS; k++) await manager.set(NS, `key-${k}`, value);
  const stop = new AbortController();
  const interceptors: Interceptor[] = metrics
    ? [metricsInterceptor(metrics.registry), errorInterceptor]
    : [errorInterceptor];
  const grpc = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    services: [
      bind(
        CacheService,
        intercept(
          CacheService,
          cacheService({
            manager,
            limits: config.limits,
            instanceId: "bench",
            streamsStop: stop.signal,
            ...(telemetry ? { telemetry } : {}),
          }),
          interceptors,
        ),
      ),
    ],
    maxMessageBytes: config.server.maxMessageBytes,
  });
  const client = createGrpcJsClient(CacheService, `127.0.0.1:${grpc.port}`);
  const watchers: Promise<number>[] = [];
  let scraper: NodeJS.Timeout | undefined;
  if (observed) {
    for (let i = 0; i < 2; i++) {
      watchers.push(
        (async () => {
          let seen = 0;
          try {
            const stream = client.watchStats({ interval: durationFromMs(200), hotKeys: 20 }, { signal: stop.signal });
            for await (const _ of stream) seen++;
          } catch {
            // ended by the abort
          }
          return seen;
        })(),
      );
    }
    scraper = setInterval(() => void metrics?.registry.metrics(), 1000);
  }
  return {
    manager,
    client,
    async close() {
      clearInterval(scraper);
      stop.abort();
      const snapshots = await Promise.all(watchers);
      client.close();
      await grpc.close(1000);
      await telemetry?.close();
      return snapshots;
    },
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function main() {
  const off = await instance(false);
  const on = await instance(true);
  const results: Record<string, { off: number[]; on: number[] }> = {
    api: { off: [], on: [] },
    local: { off: [], on: [] },
  };
  // Warm-up: JIT and connections.
  for (const target of [off, on]) {
    await measure((i) => target.client.get({ namespace: NS, key: keyAt(i) }), 5_000, 32);
    await measure((i) => target.manager.get(NS, keyAt(i)), 100_000, 1);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so drift in the machine's speed hits both alike.
    const order = round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const);
    for (const which of order) {
      const target = which === "off" ? off : on;
      const api = await measure((i) => target.client.get({ namespace: NS, key: keyAt(i) }), API_CALLS, 32);
      results.api?.[which].push(api.opsPerSec);
      console.log(JSON.stringify({ bench: "observability", path: "api", setup: which, round, ...api }));
      const local = await measure((i) => target.manager.get(NS, keyAt(i)), LOCAL_CALLS, 1);
      results.local?.[which].push(local.opsPerSec);
      console.log(JSON.stringify({ bench: "observability", path: "local", setup: which, round, ...local }));
    }
  }
  await off.close();
  const snapshots = await on.close();
  for (const [path, { off: a, on: b }] of Object.entries(results)) {
    const ratio = median(b) / median(a);
    console.log(
      JSON.stringify({
        bench: "observability",
        path,
        summary: true,
        offMedianOpsPerSec: median(a),
        onMedianOpsPerSec: median(b),
        ratio: Number(ratio.toFixed(3)),
        target: 0.95,
        meetsTarget: ratio >= 0.95,
        ...(path === "api" ? { watchStatsSnapshotsReceived: snapshots } : {}),
      }),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
