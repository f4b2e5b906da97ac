import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { parseConfig, redactConfig } from "../../../src/config/config.js";
import { resolveOtelSettings } from "../../../src/telemetry/otel.js";
import { prometheusProducer } from "../../../src/telemetry/otel-metrics.js";
import { hashKey, keyAttributes, withTraceContext } from "../../../src/telemetry/tracing.js";

describe("telemetry.otel settings", () => {
  it("is off with neither the config section nor an OTLP endpoint in the environment", () => {
    expect(resolveOtelSettings(undefined, {})).toBeUndefined();
    expect(resolveOtelSettings(undefined, { OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER_ARG: "0.5" })).toBeUndefined();
  });

  it("turns on from OTEL_EXPORTER_OTLP_ENDPOINT and reads the standard variables", () => {
    const settings = resolveOtelSettings(undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_SERVICE_NAME: "cache-eu",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_BSP_SCHEDULE_DELAY: "200",
    });
    expect(settings).toMatchObject({
      endpoint: undefined, // the exporters read the variable themselves
      serviceName: "cache-eu",
      sampleRatio: 0.25,
      spanExportDelayMs: 200,
      includeKeys: false,
      metricsIntervalMs: 60_000,
    });
    expect(
      resolveOtelSettings(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }),
    ).toBeDefined();
  });

  it("config fields win over the environment; OTEL_SDK_DISABLED turns it off either way", () => {
    const env = { OTEL_SERVICE_NAME: "from-env", OTEL_TRACES_SAMPLER_ARG: "0.5" };
    const settings = resolveOtelSettings(
      { endpoint: "http://c:4318/", serviceName: "from-config", sampleRatio: 0 },
      env,
    );
    expect(settings).toMatchObject({ endpoint: "http://c:4318", serviceName: "from-config", sampleRatio: 0 });
    expect(resolveOtelSettings({ endpoint: "http://c:4318" }, { OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    // A sampler argument outside 0..1 is ignored (every trace recorded).
    expect(resolveOtelSettings({}, { OTEL_TRACES_SAMPLER_ARG: "7" })?.sampleRatio).toBe(1);
  });

  it("is validated in the config file, and its headers never shown", () => {
    const config = parseConfig({
      telemetry: {
        otel: {
          endpoint: "https://otlp.example:4318",
          sampleRatio: 0.1,
          includeKeys: "hash",
          metricsInterval: "15s",
          headers: { "x-honeycomb-team": "abc123" },
        },
      },
    });
    expect(config.telemetry?.otel).toMatchObject({ includeKeys: "hash", metricsInterval: 15_000, sampleRatio: 0.1 });
    expect(JSON.stringify(redactConfig(config))).not.toContain("abc123");
    expect(() => parseConfig({ telemetry: { otel: { endpoint: "collector:4318" } } })).toThrow(
      /http:\/\/ or https:\/\//,
    );
    expect(() => parseConfig({ telemetry: { otel: { sampleRatio: 2 } } })).toThrow(/sampleRatio/);
    expect(() => parseConfig({ telemetry: { otel: { includeKeys: "yes" } } })).toThrow(/includeKeys/);
    expect(() => parseConfig({ telemetry: { otel: { exporter: "zipkin" } } })).toThrow(/exporter/);
  });
});

describe("keys on spans", () => {
  it("never by default, hashed or in clear when asked", () => {
    expect(keyAttributes(false, "user:42")).toEqual({});
    expect(keyAttributes("hash", "user:42")).toEqual({ "mlcache.key": hashKey("user:42") });
    expect(hashKey("user:42")).toMatch(/^[0-9a-f]{16}$/);
    expect(hashKey("user:42")).not.toBe(hashKey("user:43"));
    expect(keyAttributes(true, "user:42")).toEqual({ "mlcache.key": "user:42" });
  });

  it("outgoing headers are passed as they are while no SDK runs", () => {
    const headers = { authorization: "Bearer x" };
    expect(withTraceContext(headers)).toBe(headers);
    expect(headers).toEqual({ authorization: "Bearer x" });
  });
});

describe("Prometheus registry as an OTel metric producer", () => {
  it("converts counters, gauges and histograms under the same names and labels", async () => {
    const registry = new Registry();
    const registers = [registry];
    new Counter({ name: "cache_gets_total", help: "gets", labelNames: ["cache", "result"], registers }).inc(
      { cache: "users", result: "hit" },
      3,
    );
    new Gauge({ name: "cache_size", help: "size", labelNames: ["cache"], registers }).set({ cache: "users" }, 7);
    const histogram = new Histogram({
      name: "cache_load_duration_seconds",
      help: "loads",
      labelNames: ["cache"],
      buckets: [0.1, 1],
      registers,
    });
    for (const seconds of [0.05, 0.5, 0.7, 5]) histogram.observe({ cache: "users" }, seconds);

    const { resourceMetrics, errors } = await prometheusProducer(registry).collect();
    expect(errors).toEqual([]);
    const metrics = resourceMetrics.scopeMetrics[0]?.metrics ?? [];
    const byName = new Map(metrics.map((m) => [m.descriptor.name, m]));
    expect([...byName.keys()].sort()).toEqual(["cache_gets_total", "cache_load_duration_seconds", "cache_size"]);
    const gets = byName.get("cache_gets_total");
    expect(gets).toMatchObject({ dataPointType: 3, isMonotonic: true }); // SUM
    expect(gets?.dataPoints[0]).toMatchObject({ attributes: { cache: "users", result: "hit" }, value: 3 });
    expect(byName.get("cache_size")?.dataPoints[0]).toMatchObject({ attributes: { cache: "users" }, value: 7 });
    const loads = byName.get("cache_load_duration_seconds");
    expect(loads?.dataPointType).toBe(0); // HISTOGRAM
    expect(loads?.dataPoints[0]).toMatchObject({
      attributes: { cache: "users" },
      value: { buckets: { boundaries: [0.1, 1], counts: [1, 2, 1] }, count: 4, sum: 6.25 },
    });
  });
});
