// Traces across processes' seams with real Redis and Kafka: a write-behind Set's trace travels in
// the Kafka record's headers and the sink's writer call continues it; a Get that waits for a
// peer's fleet lease shows the wait as an event on its span.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { StoreItemInput, Writer } from "../../src/engine/writer.js";
import { KafkaConnection } from "../../src/events/kafka.js";
import { WriteBehindSink } from "../../src/events/write-behind.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { Source } from "../../src/gen/mlcache/v1/common_pb.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { type TracingOptions, tracedWriter } from "../../src/telemetry/tracing.js";
import { requireEnv } from "../support/env.js";
import {
  eventually,
  eventuallyAsync,
  startGrpcOrigin,
  startHttpOrigin,
  type TestGrpcOrigin,
  type TestHttpOrigin,
} from "../support/origins.js";
import { type OtlpReceiver, startOtlpReceiver } from "../support/otlp-receiver.js";
import { createGrpcJsClient, testConfig } from "../support/service.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS").split(",");
const run = randomUUID().slice(0, 8);
process.env.OTEL_BSP_SCHEDULE_DELAY = "50";
const topics = {
  invalidations: `otel-${run}.inv`,
  writes: `otel-${run}.writes`,
  deadLetters: `otel-${run}.dl`,
  policies: `otel-${run}.pol`,
};

function callerTrace() {
  const traceId = randomUUID().replaceAll("-", "");
  const spanId = randomUUID().replaceAll("-", "").slice(0, 16);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

describe("traces through Kafka and the fleet lease", () => {
  let receiver: OtlpReceiver;
  let origin: TestGrpcOrigin;
  let httpOrigin: TestHttpOrigin;
  let sinkProcess: ChildProcess | undefined;
  let traced: RunningService;
  let peer: RunningService;
  let sink: WriteBehindSink;
  let connection: KafkaConnection;
  const stored: StoreItemInput[] = [];
  const writer: Writer = {
    async store(_ns, items) {
      stored.push(...items);
      return undefined;
    },
  };
  const config = (name: string, otel: boolean) =>
    parseConfig(
      testConfig({
        instanceId: `otel-${run}-${name}`,
        redis: { url: REDIS_URL, keyPrefix: `otel-${run}:` },
        kafka: { brokers: BROKERS, topics, clientId: `otel-${run}-${name}` },
        namespaces: {
          orders: { writeMode: "WRITE_MODE_WRITE_BEHIND" },
          // Written by a separate `mlcache sink` process into a real HTTP origin.
          invoices: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { http: { urlTemplate: httpOrigin.urlTemplate } } },
          products: { loader: { grpc: { target: origin.target }, retry: { maxAttempts: 1 } } },
        },
        ...(otel ? { telemetry: { otel: { endpoint: receiver.endpoint, metricsInterval: 0 } } } : {}),
      }),
    );

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    origin = await startGrpcOrigin();
    httpOrigin = await startHttpOrigin();
    traced = await startService(config("traced", true), { writerFor: () => writer });
    // The peer runs without tracing (one SDK per process): it only holds leases here.
    peer = await startService(config("peer", false));
    const sinkConfig = config("sink", false);
    connection = new KafkaConnection(sinkConfig.kafka as NonNullable<typeof sinkConfig.kafka>, createLogger("silent"));
    // The sink's spans go to the SDK the traced service registered (what `mlcache sink` starts for itself).
    const tracing: TracingOptions = { tracer: trace.getTracer("mlcache-sink"), includeKeys: false };
    sink = new WriteBehindSink({
      connection,
      writerFor: () => tracedWriter(writer, tracing),
      groupId: `otel-${run}-sink`,
      initialBackoffMs: 10,
      tracing,
    });
    await connection.start();
    await sink.start();
    // Both instances answer once they replayed the fleet's log.
    for (const service of [traced, peer]) {
      await eventuallyAsync(
        async () => (await fetch(`http://127.0.0.1:${service.httpPort}/readyz`)).ok,
        60_000,
        "the instance to be ready",
      );
    }
  }, 120_000);
  afterAll(async () => {
    sinkProcess?.kill("SIGTERM");
    if (sinkProcess && sinkProcess.exitCode === null)
      await new Promise((resolve) => sinkProcess?.once("exit", resolve));
    await httpOrigin?.close();
    await sink?.stop();
    await connection?.close();
    await peer?.close();
    await traced?.close();
    await origin?.close();
    await receiver?.close();
  });

  it("a write-behind Set's trace reaches the sink's writer call through the record's headers", async () => {
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${traced.grpcPort}`);
    try {
      const caller = callerTrace();
      await cache.set(
        { namespace: "orders", key: "o-1", value: new TextEncoder().encode("v") },
        { headers: { traceparent: caller.traceparent } },
      );
      await eventually(() => stored.some((i) => i.key === "o-1"), 30_000, "the sink to apply o-1");
      await eventually(
        () => receiver.spans.some((s) => s.traceId === caller.traceId && s.name === "mlcache.store"),
        15_000,
        "the sink's spans",
      );
      const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
      const set = spans.find((s) => s.name === "mlcache.v1.CacheService/Set");
      const apply = spans.find((s) => s.name === "mlcache.write_behind.apply");
      const store = spans.find((s) => s.name === "mlcache.store");
      expect(set?.parentSpanId).toBe(caller.spanId);
      // The Set's span was active when the record was published: the sink continues it.
      expect(apply?.parentSpanId).toBe(set?.spanId);
      expect(apply?.kind).toBe(5); // CONSUMER
      expect(apply?.attributes).toMatchObject({ "mlcache.namespace": "orders", "mlcache.keys": 1 });
      expect(store?.parentSpanId).toBe(apply?.spanId);
      expect(spans.flatMap((s) => Object.values(s.attributes).map(String)).some((v) => v.includes("o-1"))).toBe(false);
    } finally {
      cache.close();
    }
  });

  it("through a separate `mlcache sink` process: its apply and store spans continue the Set's trace, and the HTTP origin gets it", async () => {
    const root = join(import.meta.dirname, "..", "..");
    execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "pipe", timeout: 180_000 });
    const dir = mkdtempSync(join(tmpdir(), "mlcache-otel-sink-"));
    const configFile = join(dir, "sink.yaml");
    writeFileSync(
      configFile,
      JSON.stringify({
        instanceId: `otel-${run}-cli-sink`,
        log: { level: "warn" },
        kafka: { brokers: BROKERS, topics },
        namespaces: {
          invoices: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { http: { urlTemplate: httpOrigin.urlTemplate } } },
        },
        telemetry: { otel: { endpoint: receiver.endpoint, serviceName: "mlcache-sink" } },
      }),
    );
    sinkProcess = spawn(
      process.execPath,
      [join(root, "bin", "mlcache.js"), "sink", "--config", configFile, "--group", `otel-${run}-cli-sink`],
      { cwd: root, stdio: "ignore", env: { ...process.env, MLCACHE_REDIS_URL: "", MLCACHE_KAFKA_BROKERS: "" } },
    );
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${traced.grpcPort}`);
    try {
      const caller = callerTrace();
      await cache.set(
        { namespace: "invoices", key: "i-1", value: new TextEncoder().encode("paid") },
        { headers: { traceparent: caller.traceparent } },
      );
      await eventually(
        () => httpOrigin.state.data.get("invoices/i-1") === "paid",
        90_000,
        "the sink process to write i-1",
      );
      await eventually(
        () =>
          receiver.spans.some(
            (s) => s.traceId === caller.traceId && s.service === "mlcache-sink" && s.name === "mlcache.store",
          ),
        30_000,
        "the sink process's spans",
      );
      const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
      const set = spans.find((s) => s.name === "mlcache.v1.CacheService/Set");
      // (The in-process sink of the test above, another consumer group, applies it too: its spans
      // are the traced service's.)
      const apply = spans.find((s) => s.name === "mlcache.write_behind.apply" && s.service === "mlcache-sink");
      const store = spans.find((s) => s.name === "mlcache.store" && s.service === "mlcache-sink");
      expect(apply?.parentSpanId).toBe(set?.spanId);
      expect(store?.parentSpanId).toBe(apply?.spanId);
      // The writer's HTTP call carried the store span out.
      expect(httpOrigin.state.lastHeaders.traceparent).toBe(`00-${caller.traceId}-${store?.spanId}-01`);
    } finally {
      cache.close();
    }
  });

  it("a Get that waits for a peer's lease shows the wait, answered by the peer, and calls no loader", async () => {
    const tracedClient = createGrpcJsClient(CacheService, `127.0.0.1:${traced.grpcPort}`);
    const peerClient = createGrpcJsClient(CacheService, `127.0.0.1:${peer.grpcPort}`);
    origin.state.faults.latencyMs = 400;
    try {
      // Origin calls of any kind (the registry batches single loads into BulkLoad calls).
      const callsBefore = origin.state.calls.total;
      const peerGet = peerClient.get({ namespace: "products", key: "leased" });
      // The peer holds the lease once its origin call has arrived.
      await eventually(() => origin.state.calls.total > callsBefore, 10_000, "the peer's load");
      const caller = callerTrace();
      const answer = await tracedClient.get(
        { namespace: "products", key: "leased" },
        { headers: { traceparent: caller.traceparent } },
      );
      await peerGet;
      expect(answer.item?.source).toBe(Source.L2);
      expect(origin.state.calls.total).toBe(callsBefore + 1);
      await eventually(() => receiver.spans.some((s) => s.traceId === caller.traceId), 15_000, "the Get span");
      const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
      expect(spans.map((s) => s.name)).toEqual(["mlcache.v1.CacheService/Get"]);
      const wait = spans[0]?.events.find((e) => e.name === "mlcache.lease_wait");
      expect(wait?.attributes).toMatchObject({
        "mlcache.lease_wait.keys": 1,
        "mlcache.lease_wait.answered_by_peers": 1,
      });
    } finally {
      origin.state.faults.latencyMs = 0;
      tracedClient.close();
      peerClient.close();
    }
  });
});
