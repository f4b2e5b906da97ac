import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";
import { prometheusProducer } from "./otel-metrics.js";
import { type KeyAttribute, setTracingActive, type TracingOptions } from "./tracing.js";

/** `telemetry.otel` as configured (every field optional). */
export interface OtelConfig {
  endpoint?: string | undefined;
  serviceName?: string | undefined;
  sampleRatio?: number | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  includeKeys?: KeyAttribute | undefined;
  metricsInterval?: number | undefined;
}

/** What the SDK runs with, once the config and the OTEL_* environment are merged. */
export interface OtelSettings {
  /** OTLP/HTTP base URL; undefined: the exporters read OTEL_EXPORTER_OTLP_*_ENDPOINT themselves. */
  endpoint: string | undefined;
  serviceName: string;
  sampleRatio: number;
  headers: Readonly<Record<string, string>>;
  includeKeys: KeyAttribute;
  /** 0: no metrics export. */
  metricsIntervalMs: number;
  /** Longest a finished span waits before it is sent in a batch (OTEL_BSP_SCHEDULE_DELAY, default 5 s). */
  spanExportDelayMs: number;
}

const DEFAULT_METRICS_INTERVAL_MS = 60_000;

/**
 * The settings OpenTelemetry runs with, or undefined when it is off. On when `telemetry.otel` is
 * configured, or when the environment names an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); OTEL_SDK_DISABLED=true turns it off either way. Config
 * fields win over OTEL_SERVICE_NAME and OTEL_TRACES_SAMPLER_ARG; OTEL_BSP_SCHEDULE_DELAY sets the
 * span batch delay.
 */
export function resolveOtelSettings(
  config: OtelConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): OtelSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const fromEnv = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!config && !fromEnv) return undefined;
  const envRatio = env.OTEL_TRACES_SAMPLER_ARG === undefined ? Number.NaN : Number(env.OTEL_TRACES_SAMPLER_ARG);
  const envDelay = env.OTEL_BSP_SCHEDULE_DELAY === undefined ? Number.NaN : Number(env.OTEL_BSP_SCHEDULE_DELAY);
  return {
    endpoint: config?.endpoint?.replace(/\/+$/, ""),
    serviceName: config?.serviceName ?? (env.OTEL_SERVICE_NAME || "mlcache"),
    sampleRatio: config?.sampleRatio ?? (envRatio >= 0 && envRatio <= 1 ? envRatio : 1),
    headers: config?.headers ?? {},
    includeKeys: config?.includeKeys ?? false,
    metricsIntervalMs: config?.metricsInterval ?? DEFAULT_METRICS_INTERVAL_MS,
    spanExportDelayMs: envDelay >= 0 && envDelay <= 3_600_000 ? envDelay : 5_000,
  };
}

/** A running OpenTelemetry SDK (see {@link startOtel}). */
export interface Otel {
  readonly settings: OtelSettings;
  /** What the instrumentation (RPC spans, loader spans, Kafka headers) needs. */
  readonly tracing: TracingOptions;
  /** Exports what is pending (spans, a last metrics collection), then stops and unregisters. */
  close(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK and registers it as the process's global tracer provider,
 * W3C trace-context propagator and AsyncLocalStorage context manager (the instrumentation only
 * uses `@opentelemetry/api`): spans batched to `<endpoint>/v1/traces`, sampled parent-based
 * with `sampleRatio` for new traces; and, unless `metricsIntervalMs` is 0, every series of the
 * Prometheus `registry` exported to `<endpoint>/v1/metrics` at that interval (one definition:
 * the registry, see {@link prometheusProducer}). One SDK per process: a second start while one
 * runs throws.
 *
 *   const otel = startOtel(settings, { registry: metrics.registry, logger });
 */
export function startOtel(settings: OtelSettings, options: { registry?: Registry; logger?: Logger } = {}): Otel {
  const resource = resourceFromAttributes({ "service.name": settings.serviceName });
  const headers = { ...settings.headers };
  const url = (signal: string) => (settings.endpoint ? { url: `${settings.endpoint}/v1/${signal}` } : {});
  const provider = new TracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ ...url("traces"), headers }),
        scheduledDelayMillis: settings.spanExportDelayMs,
      }),
    ],
  });
  const contextManager = new AsyncLocalStorageContextManager();
  if (!context.setGlobalContextManager(contextManager.enable())) {
    contextManager.disable();
    throw new Error("OpenTelemetry is already running in this process (a second startOtel without close)");
  }
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const meters =
    options.registry && settings.metricsIntervalMs > 0
      ? new MeterProvider({
          resource,
          readers: [
            new PeriodicExportingMetricReader({
              exporter: new OTLPMetricExporter({ ...url("metrics"), headers }),
              exportIntervalMillis: settings.metricsIntervalMs,
              exportTimeoutMillis: Math.min(30_000, settings.metricsIntervalMs),
              metricProducers: [prometheusProducer(options.registry)],
            }),
          ],
        })
      : undefined;
  const tracing: TracingOptions = {
    tracer: provider.getTracer("mlcache"),
    includeKeys: settings.includeKeys,
  };
  setTracingActive(true);
  options.logger?.info(
    {
      endpoint: settings.endpoint ?? "(from OTEL_EXPORTER_OTLP_*)",
      serviceName: settings.serviceName,
      sampleRatio: settings.sampleRatio,
      metricsIntervalMs: meters ? settings.metricsIntervalMs : 0,
    },
    "OpenTelemetry export on",
  );
  let closing: Promise<void> | undefined;
  return {
    settings,
    tracing,
    close() {
      closing ??= (async () => {
        setTracingActive(false);
        const failures = await Promise.allSettled([provider.shutdown(), meters?.shutdown()]);
        trace.disable();
        propagation.disable();
        context.disable();
        for (const failure of failures) {
          if (failure.status === "rejected") {
            options.logger?.warn({ err: failure.reason }, "OpenTelemetry: the last export failed");
          }
        }
      })();
      return closing;
    },
  };
}
