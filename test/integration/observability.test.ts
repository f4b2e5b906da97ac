// Observability end to end: a known workload through the gRPC API shows up exactly in WatchStats,
// /metrics and Inspect; a subscriber that never reads costs the cache nothing; hot keys merge
// across a fleet through Redis; a suddenly hot key is flagged within its window.
//
// `startObserved` wires an instance the way src/server.ts does once telemetry is plugged in
// (telemetry created before the manager, its sink in the manager's options, `start` with the
// metrics registry), so these tests do not depend on the server's configuration schema. The
// last block checks the real `startService` wiring.
import { randomUUID } from "node:crypto";
import * as http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { CacheManager } from "../../src/engine/cache-manager.js";
import type { Loader } from "../../src/engine/loader.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import {
  CacheService,
  WatchStatsRequestSchema,
  type WatchStatsResponse,
  WatchStatsResponseSchema,
} from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer } from "../../src/gen/mlcache/v1/common_pb.js";
import { AnomalyKind } from "../../src/gen/mlcache/v1/stats_pb.js";
import { MemoryLayer } from "../../src/layers/memory-layer.js";
import { RedisHotKeyBoard } from "../../src/layers/redis/hot-key-board.js";
import { cacheService } from "../../src/rpc/cache-service.js";
import { bind, startGrpcServer } from "../../src/rpc/grpc-server.js";
import { startHttpServer } from "../../src/rpc/http-server.js";
import { errorInterceptor, intercept } from "../../src/rpc/interceptors.js";
import { metricsInterceptor } from "../../src/rpc/metrics-interceptor.js";
import type { RunningService } from "../../src/server.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { createTelemetry, type TelemetrySettings } from "../../src/telemetry/telemetry.js";
import { createGrpcJsClient, type GrpcJsClient, nextWithin, startTestService, testConfig } from "../support/service.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const encode = (s: string) => new TextEncoder().encode(s);
const silent = pino({ level: "silent" });

interface Observed {
  manager: CacheManager;
  client: GrpcJsClient<typeof CacheService>;
  grpcPort: number;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/** An instance wired like src/server.ts with telemetry: manager, telemetry, gRPC + HTTP ports. */
async function startObserved(options: {
  instanceId: string;
  telemetry?: TelemetrySettings;
  redis?: { url: string; keyPrefix: string };
  loader?: Loader;
  l1MaxEntries?: number;
}): Promise<Observed> {
  const config = parseConfig(testConfig({ instanceId: options.instanceId }), "test config");
  const shutdown = new AbortController();
  const redis = options.redis;
  const telemetry = createTelemetry({
    instanceId: options.instanceId,
    logger: silent,
    config: options.telemetry,
    hotKeyBoard: redis ? (settings) => new RedisHotKeyBoard({ ...redis, ...settings }) : undefined,
  });
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 << 20, maxEntries: options.l1MaxEntries ?? 100_000 }),
    loaderFor: () => options.loader,
    statsSink: telemetry.statsSink,
  });
  const metrics = new Metrics(manager);
  telemetry.start(manager, { registry: metrics.registry, breakerState: () => "closed" });
  const services = [
    bind(
      CacheService,
      intercept(
        CacheService,
        cacheService({
          manager,
          limits: config.limits,
          instanceId: options.instanceId,
          streamsStop: shutdown.signal,
          breakerState: () => "closed",
          telemetry,
        }),
        [metricsInterceptor(metrics.registry), errorInterceptor],
      ),
    ),
  ];
  const grpcServer = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    services,
    maxMessageBytes: config.server.maxMessageBytes,
  });
  const http = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    services,
    maxMessageBytes: config.server.maxMessageBytes,
    registry: metrics.registry,
    ready: () => ({ ready: true, detail: "ready" }),
  });
  const client = createGrpcJsClient(CacheService, `127.0.0.1:${grpcServer.port}`);
  return {
    manager,
    client,
    grpcPort: grpcServer.port,
    scrape: async () => (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text(),
    async close() {
      client.close();
      shutdown.abort();
      await Promise.all([grpcServer.close(1000), http.close(1000)]);
      await telemetry.close();
    },
  };
}

/** An origin that answers `v:<key>` after `delayMs`, counting calls. */
function slowOrigin(delayMs: number): Loader & { calls: number } {
  return {
    calls: 0,
    async load(_namespace: string, key: string) {
      this.calls++;
      await sleep(delayMs);
      return { found: true, value: encode(`v:${key}`) };
    },
  };
}

/** The value of one sample line of a Prometheus exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf("}"));
    const found = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.indexOf("}") + 2));
  }
  return undefined;
}

/** Polls `check` until it returns a value (bounded), failing with `what`. */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

const opened: Observed[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

describe("a known workload", () => {
  it("is reported exactly by WatchStats, /metrics and Inspect", async () => {
    const origin = slowOrigin(50);
    const o = await startObserved({ instanceId: "workload", loader: origin });
    opened.push(o);
    const ns = "wl";
    // 20 concurrent Gets of one missing key: 1 load, 19 collapsed onto it.
    await Promise.all(Array.from({ length: 20 }, () => o.client.get({ namespace: ns, key: "c" })));
    // 10 misses that load, then 30 hits.
    for (let k = 0; k < 10; k++) await o.client.get({ namespace: ns, key: `k${k}` });
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 10; k++) await o.client.get({ namespace: ns, key: `k${k}` });
    }
    await o.client.invalidate({ namespace: ns, keys: ["k0", "k1", "k2", "k3", "k4"] });
    expect(origin.calls).toBe(11);

    const stream = o.client.watchStats({ interval: durationFromMs(200), namespaces: [ns], hotKeys: 3 });
    const iterator = stream[Symbol.asyncIterator]();
    const { snapshot } = await nextWithin(iterator, 5_000);
    await iterator.return?.();
    const stats = snapshot?.namespaces.find((n) => n.namespace === ns);
    const l1 = stats?.layers.find((l) => l.layer === CacheLayer.L1);
    expect(stats?.requests).toBe(60n);
    expect(l1).toMatchObject({ hits: 30n, misses: 30n });
    expect(l1?.hitRatio).toBeCloseTo(0.5);
    expect(l1?.evictions?.explicit).toBe(5n);
    expect(stats?.loads).toMatchObject({ successes: 11n, failures: 0n, collapsed: 19n });
    expect(durationMs(stats?.loads?.latencyP99 ?? durationFromMs(0))).toBeGreaterThanOrEqual(45);
    // Hot keys from the top-K: "c" had 20 accesses, each k 4.
    expect(stats?.hotKeys[0]).toMatchObject({ key: "c", frequency: 20n, instances: 1 });
    expect(stats?.hotKeys.slice(1).map((k) => k.frequency)).toEqual([4n, 4n]);

    const text = await o.scrape();
    expect(sample(text, "cache_gets_total", { cache: ns, layer: "l1", result: "hit" })).toBe(30);
    expect(sample(text, "cache_gets_total", { cache: ns, layer: "l1", result: "miss" })).toBe(30);
    expect(sample(text, "cache_loads_deduped_total", { cache: ns })).toBe(19);
    expect(sample(text, "cache_loads_total", { cache: ns, result: "success" })).toBe(11);
    expect(sample(text, "cache_evictions_total", { cache: ns, layer: "l1", cause: "explicit" })).toBe(5);
    expect(sample(text, "cache_load_duration_seconds_count", { cache: ns, result: "success" })).toBe(11);
    expect(sample(text, "cache_load_duration_seconds_bucket", { cache: ns, result: "success", le: "0.025" })).toBe(0);
    expect(sample(text, "cache_refreshes_total", { cache: ns, kind: "early" })).toBe(0);
    expect(sample(text, "cache_breaker_state", { cache: ns, state: "closed" })).toBe(1);
    expect(sample(text, "grpc_server_handled_total", { grpc_method: "Get", grpc_code: "OK" })).toBe(60);
    expect(text).not.toMatch(/key="/);

    const inspected = await o.client.inspect({ namespace: ns, keys: ["k7", "k0"], hotKeys: 1 });
    expect(inspected.hotKeys.map((k) => [k.key, k.frequency])).toEqual([["c", 20n]]);
    const [k7, k0] = inspected.keyStats;
    expect(k7).toMatchObject({ key: "k7", hits: 3n, misses: 1n });
    expect(durationMs(k7?.lastLoadLatency ?? durationFromMs(0))).toBeGreaterThanOrEqual(45);
    expect(k7?.layers.find((l) => l.layer === CacheLayer.L1)?.present).toBe(true);
    expect(k0?.layers.find((l) => l.layer === CacheLayer.L1)?.present).toBe(false);
  });
});

/**
 * A WatchStats call on a raw HTTP/2 stream that is paused: unlike a grpc-js client (which keeps
 * draining the socket into its own unbounded buffer), a paused Node stream stops granting
 * HTTP/2 flow-control window, which is exactly what a reader that cannot keep up does.
 */
function rawWatchStats(port: number, request: Parameters<typeof create<typeof WatchStatsRequestSchema>>[1]) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": `/${CacheService.typeName}/WatchStats`,
    "content-type": "application/grpc+proto",
    te: "trailers",
  });
  stream.on("error", () => {});
  const body = toBinary(WatchStatsRequestSchema, create(WatchStatsRequestSchema, request));
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  stream.end(frame);
  stream.pause();
  return {
    /** Starts reading; calls `onMessage` for every decoded message. */
    resume(onMessage: (message: WatchStatsResponse) => void) {
      let pending = Buffer.alloc(0);
      stream.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const length = pending.readUInt32BE(1);
          onMessage(fromBinary(WatchStatsResponseSchema, pending.subarray(5, 5 + length)));
          pending = pending.subarray(5 + length);
        }
      });
      stream.resume();
    },
    close() {
      stream.close();
      session.close();
    },
  };
}

describe("a WatchStats subscriber that never reads", () => {
  it("does not slow Gets nor grow memory: its snapshots are skipped (and counted), not queued", async () => {
    const o = await startObserved({ instanceId: "slow-reader", loader: slowOrigin(0) });
    opened.push(o);
    // Big snapshots (40 namespaces × 100 hot keys, ≈ 250 KB each) fill the transport quickly.
    for (let n = 0; n < 40; n++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) => o.client.get({ namespace: `ns${n}`, key: `key-${k}-${"x".repeat(40)}` })),
      );
    }
    const getsFor = async (ms: number) => {
      let done = 0;
      const until = Date.now() + ms;
      const worker = async () => {
        while (Date.now() < until) {
          await o.client.get({ namespace: "ns0", key: `key-${done % 100}-${"x".repeat(40)}` });
          done++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return done;
    };
    const memoryMiB = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
    };

    const baseline = await getsFor(1500);
    const before = memoryMiB();
    const subscriber = rawWatchStats(o.grpcPort, { interval: durationFromMs(100), hotKeys: 100 });
    try {
      // The transport takes ≈ 20 messages (grpc-js' 16-message write buffer and the HTTP/2
      // window), then the handler waits: give it time to get there, then measure.
      await sleep(3000);
      const stalled = await getsFor(1500);
      await sleep(1500);
      const after = memoryMiB();
      expect(stalled).toBeGreaterThanOrEqual(baseline * 0.5);
      // What the transport holds (≈ 16 snapshots, ≈ 8 MiB measured) stays; queuing every
      // interval would hold ≈ 60 of them (≈ 30 MiB) by now, and keep growing.
      expect(after - before).toBeLessThan(16);

      const received: WatchStatsResponse[] = [];
      subscriber.resume((message) => received.push(message));
      const firstSkip = await eventually(
        async () => received.find((m) => m.snapshotsDropped > 0),
        "a message reporting dropped snapshots",
      );
      // About 60 intervals of 100 ms passed while it did not read.
      expect(firstSkip.snapshotsDropped).toBeGreaterThanOrEqual(20);
      expect(received.indexOf(firstSkip)).toBeLessThanOrEqual(25);
    } finally {
      subscriber.close();
    }
  });
});

describe("fleet-wide hot keys", () => {
  const url = process.env.MLCACHE_REDIS_URL;
  if (!url) throw new Error("MLCACHE_REDIS_URL is not set: run through `npm test` (it starts Redis) or export it");

  it("merge three instances' top keys into one ranking with instance counts", async () => {
    const redis = { url, keyPrefix: `obs-${randomUUID().slice(0, 8)}:` };
    const telemetry: TelemetrySettings = { hotKeyDecay: 1, windowMs: 600_000, fleet: { publishIntervalMs: 200 } };
    const fleet: Observed[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await startObserved({ instanceId: `fleet-${i}`, redis, telemetry, loader: slowOrigin(0) });
      opened.push(o);
      fleet.push(o);
    }
    const workload: [number, string, string, number][] = [
      [0, "products", "a", 30],
      [0, "products", "b", 10],
      [1, "products", "a", 20],
      [1, "products", "c", 25],
      [2, "products", "b", 15],
      [2, "products", "c", 5],
      [2, "products", "d", 1],
      [2, "users", "a", 100],
    ];
    for (const [instance, namespace, key, times] of workload) {
      const o = fleet[instance] as Observed;
      for (let i = 0; i < times; i++) await o.client.get({ namespace, key });
    }
    const expected = [
      ["a", 50n, 2],
      ["c", 30n, 2],
      ["b", 25n, 2],
      ["d", 1n, 1],
    ];
    const answer = await eventually(async () => {
      const r = await (fleet[1] as Observed).client.inspect({ namespace: "products", hotKeys: 10, fleetWide: true });
      const got = r.hotKeys.map((k) => [k.key, k.frequency, k.instances]);
      return JSON.stringify(got, (_, v) => (typeof v === "bigint" ? Number(v) : v)) ===
        JSON.stringify(expected, (_, v) => (typeof v === "bigint" ? Number(v) : v))
        ? r
        : undefined;
    }, "the merged fleet ranking");
    expect(answer.hotKeys.every((k) => k.namespace === "products")).toBe(true);
    // Across namespaces, users/a (100 on one instance) leads, once its last publish is in.
    const all = await eventually(async () => {
      const r = await (fleet[0] as Observed).client.inspect({ hotKeys: 1, fleetWide: true });
      return r.hotKeys[0]?.namespace === "users" && r.hotKeys[0].frequency === 100n ? r : undefined;
    }, "users/a to lead the fleet");
    expect(all.hotKeys.map((k) => [k.namespace, k.key, k.frequency, k.instances])).toEqual([["users", "a", 100n, 1]]);
    // Local answers stay local.
    const local = await (fleet[2] as Observed).client.inspect({ namespace: "products", hotKeys: 10 });
    expect(local.hotKeys.map((k) => [k.key, k.frequency])).toEqual([
      ["b", 15n],
      ["c", 5n],
      ["d", 1n],
    ]);
  });

  it("is refused without Redis", async () => {
    const o = await startObserved({ instanceId: "alone", loader: slowOrigin(0) });
    opened.push(o);
    await expect(o.client.inspect({ hotKeys: 5, fleetWide: true })).rejects.toMatchObject({ code: 9 });
  });
});

describe("anomalies", () => {
  it("flag a key that suddenly becomes hot within the configured window", async () => {
    const windowMs = 300;
    const o = await startObserved({
      instanceId: "anomalies",
      loader: slowOrigin(0),
      telemetry: { windowMs, anomalies: { warmupWindows: 3, minCount: 20, threshold: 4 } },
    });
    opened.push(o);
    const ns = "orders";
    let steady = true;
    // About 5 accesses per key per window: under minCount, never an anomaly.
    const background = (async () => {
      while (steady) {
        await Promise.all(Array.from({ length: 10 }, (_, k) => o.client.get({ namespace: ns, key: `steady-${k}` })));
        await sleep(60);
      }
    })();
    try {
      await sleep(windowMs * 6);
      const burstStart = Date.now();
      await Promise.all(Array.from({ length: 300 }, () => o.client.get({ namespace: ns, key: "sudden" })));
      const burstEnd = Date.now();
      const stream = o.client.watchStats({ interval: durationFromMs(100), namespaces: [ns] });
      const iterator = stream[Symbol.asyncIterator]();
      let anomaly: NonNullable<WatchStatsResponse["snapshot"]>["anomalies"][number] | undefined;
      try {
        for (let i = 0; i < 50 && !anomaly; i++) {
          const { snapshot } = await nextWithin(iterator, 5_000);
          anomaly = snapshot?.anomalies.find((a) => a.kind === AnomalyKind.HOT_KEY);
        }
      } finally {
        await iterator.return?.();
      }
      expect(anomaly).toMatchObject({ namespace: ns, key: "sudden" });
      const detectedAt = timestampMs(anomaly?.detectedAt ?? ({ seconds: 0n, nanos: 0 } as never));
      expect(detectedAt).toBeGreaterThanOrEqual(burstStart);
      // Flagged when the window holding the burst closes, one window after it ends; the bound
      // is loose on purpose (a busy machine delays timers), a sanity check rather than timing.
      expect(detectedAt).toBeLessThanOrEqual(burstEnd + 10 * windowMs);
      expect(sample(await o.scrape(), "cache_anomalies_total", { cache: ns, kind: "hot_key" })).toBe(1);
    } finally {
      steady = false;
      await background;
    }
  });
});

describe("the service started by startService", () => {
  let service: RunningService;
  let client: GrpcJsClient<typeof CacheService>;
  beforeAll(async () => {
    service = await startTestService();
    client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
  });

  it("has telemetry wired: per-key stats, top-K hot keys and the load histogram", async () => {
    await client.set({ namespace: "wired", key: "x", value: encode("1") });
    for (let i = 0; i < 7; i++) await client.get({ namespace: "wired", key: "x" });
    const inspected = await client.inspect({ namespace: "wired", keys: ["x"], hotKeys: 1 });
    expect(inspected.keyStats[0]).toMatchObject({ hits: 7n, misses: 0n });
    // The top-K counts every access (the L1 sketch saturates at 15 and ranks present keys only).
    expect(inspected.hotKeys[0]).toMatchObject({ key: "x", frequency: 7n });
    const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    expect(text).toContain("# TYPE cache_load_duration_seconds histogram");
    expect(text).toContain("# TYPE cache_anomalies_total counter");
  });

  it("exports the per-key raw counters as NDJSON through AdminService.ExportStats", async () => {
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "exported", key: "k", value: encode("1") });
      for (let i = 0; i < 3; i++) await client.get({ namespace: "exported", key: "k" });
      let text = "";
      for await (const chunk of admin.exportStats({ namespaces: ["exported"] })) {
        text += new TextDecoder().decode(chunk.ndjson);
      }
      const records = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records[0]).toMatchObject({ type: "namespace", namespace: "exported", l1: { hits: 3 } });
      expect(records.find((r) => r.type === "key")).toMatchObject({
        key: "k",
        l1Hits: 3,
        l1Misses: 0,
        accesses: 3,
        layers: { l1: { accesses: 3, hits: 3, misses: 0 } },
        loadLatencyMs: { timedLoads: 0 },
      });
    } finally {
      admin.close();
    }
  });
});
