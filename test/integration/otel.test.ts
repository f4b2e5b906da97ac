// OpenTelemetry against a real OTLP/HTTP receiver: the span tree of a miss-then-load on both
// ports (RPC server span → layer events → loader span), the trace id reaching a real gRPC and a
// real HTTP origin, no key in any attribute unless asked, the Prometheus series arriving over
// OTLP under their /metrics names, and no export traffic at all when tracing is off.
import { randomUUID } from "node:crypto";
import { type ContextManager, context, propagation, ROOT_CONTEXT } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { Source } from "../../src/gen/mlcache/v1/common_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { hashKey } from "../../src/telemetry/tracing.js";
import { requireEnv } from "../support/env.js";
import {
  eventually,
  startGrpcOrigin,
  startHttpOrigin,
  type TestGrpcOrigin,
  type TestHttpOrigin,
} from "../support/origins.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "../support/otlp-receiver.js";
import { createConnectClient, createGrpcJsClient, testConfig } from "../support/service.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const run = randomUUID().slice(0, 8);
// Spans leave in batches at most this often (the standard variable, read at start).
process.env.OTEL_BSP_SCHEDULE_DELAY = "50";

/** A W3C traceparent of a caller's sampled span. */
function callerTrace() {
  const traceId = randomUUID().replaceAll("-", "");
  const spanId = randomUUID().replaceAll("-", "").slice(0, 16);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Every attribute value of every span and event, as strings. */
function allAttributeValues(spans: readonly ReceivedSpan[]): string[] {
  return spans.flatMap((s) => [
    ...Object.values(s.attributes).map(String),
    ...s.events.flatMap((e) => Object.values(e.attributes).map(String)),
  ]);
}

let grpcOrigin: TestGrpcOrigin;
let httpOrigin: TestHttpOrigin;
let receiver: OtlpReceiver;

beforeAll(async () => {
  grpcOrigin = await startGrpcOrigin();
  httpOrigin = await startHttpOrigin();
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await grpcOrigin?.close();
  await httpOrigin?.close();
});

function start(otel: Record<string, unknown> | undefined, prefix: string): Promise<RunningService> {
  return startService(
    parseConfig(
      testConfig({
        redis: { url: REDIS_URL, keyPrefix: `${prefix}:` },
        namespaces: {
          products: { loader: { grpc: { target: grpcOrigin.target }, retry: { maxAttempts: 1 } } },
          pages: { loader: { http: { urlTemplate: httpOrigin.urlTemplate }, retry: { maxAttempts: 1 } } },
        },
        ...(otel ? { telemetry: { otel: { endpoint: receiver.endpoint, serviceName: "mlcache-test", ...otel } } } : {}),
      }),
    ),
  );
}

describe("tracing on (telemetry.otel)", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await start({ metricsInterval: "200ms" }, `otel-${run}`);
  });
  afterAll(async () => {
    await service?.close();
  });

  /** The spans of one trace, once its server span named `rpc` and a loader span have arrived. */
  async function treeOf(traceId: string) {
    await eventually(
      () => receiver.spans.filter((s) => s.traceId === traceId).length >= 2,
      15_000,
      `the spans of trace ${traceId}`,
    );
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    const server = spans.find((s) => s.name === "mlcache.v1.CacheService/Get");
    const load = spans.find((s) => s.name === "mlcache.load");
    return { spans, server, load };
  }

  it("a miss then load through the gRPC port: RPC span → L1/L2 events → loader span → traceparent at the gRPC origin", async () => {
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      const caller = callerTrace();
      const answer = await cache.get(
        { namespace: "products", key: "secret-p1" },
        { headers: { traceparent: caller.traceparent } },
      );
      expect(answer.item?.source).toBe(Source.LOADER);
      const { server, load, spans } = await treeOf(caller.traceId);
      expect(server).toBeDefined();
      expect(load).toBeDefined();
      if (!server || !load) return;
      // The caller's span is the server span's parent; the loader span hangs below the server span.
      expect(server.parentSpanId).toBe(caller.spanId);
      expect(server.kind).toBe(2); // SERVER
      expect(load.parentSpanId).toBe(server.spanId);
      expect(load.kind).toBe(3); // CLIENT
      expect(server.events.map((e) => e.name)).toEqual(["mlcache.l1", "mlcache.l2"]);
      expect(server.events.every((e) => e.attributes["mlcache.hit"] === false)).toBe(true);
      expect(server.attributes).toMatchObject({
        "rpc.system": "grpc",
        "rpc.method": "Get",
        "mlcache.namespace": "products",
        "mlcache.source": "loader",
        "mlcache.stale": false,
        "mlcache.result": "found",
        "rpc.grpc.status_code": 0,
      });
      expect(load.attributes).toMatchObject({
        "mlcache.namespace": "products",
        "mlcache.breaker.state": "closed",
        "mlcache.result": "found",
      });
      // The origin call carried the trace out, with the loader span as its parent.
      expect(grpcOrigin.lastMetadata().traceparent).toBe(`00-${caller.traceId}-${load.spanId}-01`);
      // No key anywhere by default.
      expect(allAttributeValues(spans).some((v) => v.includes("secret-p1"))).toBe(false);
      expect(Object.keys(server.attributes)).not.toContain("mlcache.key");
    } finally {
      cache.close();
    }
  });

  it("a miss through the HTTP (Connect) port: the same tree, traceparent at the HTTP origin; then an L1 hit", async () => {
    const cache = createConnectClient(CacheService, service.httpPort);
    const caller = callerTrace();
    await cache.get({ namespace: "pages", key: "secret-home" }, { headers: { traceparent: caller.traceparent } });
    const { server, load } = await treeOf(caller.traceId);
    if (!server || !load) throw new Error("missing spans");
    expect(server.parentSpanId).toBe(caller.spanId);
    expect(load.parentSpanId).toBe(server.spanId);
    expect(httpOrigin.state.lastHeaders.traceparent).toBe(`00-${caller.traceId}-${load.spanId}-01`);

    const again = callerTrace();
    const hit = await cache.get(
      { namespace: "pages", key: "secret-home" },
      { headers: { traceparent: again.traceparent } },
    );
    expect(hit.item?.source).toBe(Source.L1);
    await eventually(() => receiver.spans.some((s) => s.traceId === again.traceId), 15_000, "the hit's span");
    const hitSpan = receiver.spans.find((s) => s.traceId === again.traceId);
    expect(hitSpan?.events).toEqual([{ name: "mlcache.l1", attributes: { "mlcache.hit": true } }]);
    expect(hitSpan?.attributes["mlcache.source"]).toBe("l1");
    expect(receiver.spans.filter((s) => s.traceId === again.traceId && s.name === "mlcache.load")).toEqual([]);
  });

  it("concurrent misses of one key: the joining call's span says collapsed", async () => {
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    grpcOrigin.state.faults.latencyMs = 300;
    try {
      const first = callerTrace();
      const second = callerTrace();
      await Promise.all([
        cache.get({ namespace: "products", key: "together" }, { headers: { traceparent: first.traceparent } }),
        cache.get({ namespace: "products", key: "together" }, { headers: { traceparent: second.traceparent } }),
      ]);
      await eventually(
        () => [first, second].every((c) => receiver.spans.some((s) => s.traceId === c.traceId && s.kind === 2)),
        15_000,
        "both server spans",
      );
      const collapsed = [first, second].map(
        (c) => receiver.spans.find((s) => s.traceId === c.traceId && s.kind === 2)?.attributes["mlcache.collapsed"],
      );
      expect(collapsed.filter((v) => v === true)).toHaveLength(1);
    } finally {
      grpcOrigin.state.faults.latencyMs = 0;
      cache.close();
    }
  });

  it("a server stream (WatchStats) is one span, ended when the caller stops reading, its messages in its context", async () => {
    const cache = createConnectClient(CacheService, service.httpPort);
    const caller = callerTrace();
    const stop = new AbortController();
    const stream = cache.watchStats(
      { interval: { seconds: 0n, nanos: 100_000_000 } },
      { headers: { traceparent: caller.traceparent }, signal: stop.signal },
    );
    let messages = 0;
    try {
      for await (const _ of stream) {
        if (++messages === 2) stop.abort();
      }
    } catch {
      // ended by the abort
    }
    expect(messages).toBe(2);
    await eventually(() => receiver.spans.some((s) => s.traceId === caller.traceId), 15_000, "the stream's span");
    const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
    expect(spans.map((s) => s.name)).toEqual(["mlcache.v1.CacheService/WatchStats"]);
    expect(spans[0]?.parentSpanId).toBe(caller.spanId);
  });

  it("exports the Prometheus series over OTLP under the names /metrics shows", async () => {
    const cache = createConnectClient(CacheService, service.httpPort);
    await cache.get({ namespace: "pages", key: "counted" });
    await cache.get({ namespace: "pages", key: "counted" }); // an L1 hit
    const scrape = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    const scraped = new Set(
      [...scrape.matchAll(/^# TYPE (\S+) (counter|gauge|histogram)$/gm)].map((m) => m[1] as string),
    );
    const ours = [...scraped].filter((n) => /^(cache|mlcache)_/.test(n));
    expect(ours.length).toBeGreaterThan(5);
    const exportsBefore = receiver.metricExports.length;
    await eventually(() => receiver.metricExports.length > exportsBefore, 15_000, "a metrics export");
    const exported = receiver.metricExports.at(-1) ?? [];
    const names = new Set(exported.map((m) => m.name));
    for (const name of ours) expect(names, name).toContain(name);
    // Same labels and values: the gets the tests above made, by layer and result.
    const gets = exported.find((m) => m.name === "cache_gets_total");
    expect(gets?.kind).toBe("sum");
    expect(
      gets?.points.some(
        (p) =>
          p.attributes.cache === "pages" &&
          p.attributes.layer === "l1" &&
          p.attributes.result === "hit" &&
          p.value >= 1,
      ),
    ).toBe(true);
    const histogram = exported.find((m) => m.name === "grpc_server_handling_seconds");
    expect(histogram?.kind).toBe("histogram");
    const point = histogram?.points.find((p) => p.attributes.grpc_method === "Get");
    expect(point?.bucketCounts?.reduce((a, b) => a + b, 0)).toBe(point?.value);
  });
});

describe("includeKeys", () => {
  it.each([
    ["hash", (key: string) => hashKey(key)],
    [true, (key: string) => key],
  ] as const)("includeKeys: %s puts the key on the RPC and loader spans", async (includeKeys, expected) => {
    const service = await start({ includeKeys, metricsInterval: 0 }, `otel-keys-${run}-${String(includeKeys)}`);
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      const caller = callerTrace();
      await cache.get({ namespace: "products", key: "k-visible" }, { headers: { traceparent: caller.traceparent } });
      await eventually(
        () => receiver.spans.filter((s) => s.traceId === caller.traceId).length >= 2,
        15_000,
        "the spans with keys",
      );
      const spans = receiver.spans.filter((s) => s.traceId === caller.traceId);
      for (const name of ["mlcache.v1.CacheService/Get", "mlcache.load"]) {
        expect(spans.find((s) => s.name === name)?.attributes["mlcache.key"]).toBe(expected("k-visible"));
      }
    } finally {
      cache.close();
      await service.close();
    }
  });
});

describe("sampleRatio, serviceName, headers, metricsInterval", () => {
  it("at 0 records no new trace but follows a sampled caller; sends the name and headers; 0 s: no metrics", async () => {
    const service = await start(
      { sampleRatio: 0, serviceName: "cache-eu", headers: { "x-collector-key": "k1" }, metricsInterval: 0 },
      `otel-ratio-${run}`,
    );
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const pathsBefore = receiver.paths.length;
    const spansBefore = receiver.spans.length;
    try {
      const caller = callerTrace();
      await cache.get({ namespace: "products", key: "ratio-1" }); // a new trace: not sampled
      await cache.get({ namespace: "products", key: "ratio-2" }, { headers: { traceparent: caller.traceparent } });
      await eventually(() => receiver.spans.some((s) => s.traceId === caller.traceId), 15_000, "the followed trace");
      expect(receiver.lastHeaders()["x-collector-key"]).toBe("k1");
    } finally {
      cache.close();
      await service.close();
    }
    const spans = receiver.spans.slice(spansBefore);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    expect(spans.every((s) => s.service === "cache-eu")).toBe(true);
    expect(receiver.paths.slice(pathsBefore).every((p) => p === "/v1/traces")).toBe(true);
  });
});

describe("tracing off (no telemetry.otel, no OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("sends nothing to the receiver and no traceparent to the origin", async () => {
    expect(process.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    // Any OpenTelemetry API call on the Get path (a span, a context lookup, a propagation) would
    // reach these counting globals: none may.
    const calls = { context: 0, propagation: 0 };
    const counting: ContextManager = {
      active: () => {
        calls.context++;
        return ROOT_CONTEXT;
      },
      with: (_ctx, fn, thisArg, ...args) => {
        calls.context++;
        return fn.call(thisArg, ...args);
      },
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    expect(context.setGlobalContextManager(counting)).toBe(true);
    propagation.setGlobalPropagator({
      inject: () => {
        calls.propagation++;
      },
      extract: (ctx) => {
        calls.propagation++;
        return ctx;
      },
      fields: () => ["traceparent"],
    });
    const service = await start(undefined, `otel-off-${run}`);
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const before = receiver.requests;
    try {
      const caller = callerTrace();
      const answer = await cache.get(
        { namespace: "products", key: "off-1" },
        { headers: { traceparent: caller.traceparent } },
      );
      expect(answer.item?.source).toBe(Source.LOADER);
      expect(grpcOrigin.lastMetadata().traceparent).toBeUndefined();
      await cache.get({ namespace: "products", key: "off-1" });
      expect(calls).toEqual({ context: 0, propagation: 0 });
    } finally {
      cache.close();
      await service.close();
      context.disable();
      propagation.disable();
    }
    // Closing flushes whatever an SDK would have had pending: nothing arrived.
    expect(receiver.requests).toBe(before);
  });
});
