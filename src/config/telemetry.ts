import { z } from "zod";
import { bytes, duration } from "./fields.js";

/**
 * OpenTelemetry export. `endpoint` is the OTLP/HTTP base URL (`/v1/traces` and `/v1/metrics`
 * are appended); fields left out fall back to the standard OTEL_* environment variables.
 */
export const otelSection = z
  .object({
    endpoint: z
      .string()
      .regex(
        /^https?:\/\/[^/\s]+/,
        "endpoint must be an http:// or https:// URL (the OTLP/HTTP base, e.g. http://collector:4318)",
      )
      .optional(),
    serviceName: z.string().min(1).max(256).optional(),
    /** Share of new traces recorded (0..1); a sampled incoming `traceparent` is always followed. */
    sampleRatio: z.number().min(0).max(1).optional(),
    /** Sent with every export (e.g. an API key of the collector); never logged. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, "a header name"), z.string()).optional(),
    /** Whether spans carry the cache key: false (default), "hash" (SHA-256, 16 hex), or true. */
    includeKeys: z.union([z.literal(false), z.literal(true), z.literal("hash")]).optional(),
    /** Metrics export interval; 0 exports no metrics (traces only). Default 60 s. */
    metricsInterval: duration.optional(),
  })
  .strict();

/** Hot keys, per-key stats, anomalies and snapshot files (src/telemetry). */
export const telemetrySection = z
  .object({
    topK: z.number().int().min(1).max(10_000).optional(),
    maxTrackedKeys: z.number().int().min(2).optional(),
    windowMs: duration.optional(),
    hotKeyDecay: z.number().gt(0).max(1).optional(),
    anomalies: z
      .object({
        threshold: z.number().positive(),
        alpha: z.number().gt(0).max(1),
        warmupWindows: z.number().int().min(0),
        minCount: z.number().min(0),
        hotKeyRanks: z.number().int().min(1),
        retentionMs: duration,
      })
      .partial()
      .strict()
      .optional(),
    fleet: z
      .object({ publishIntervalMs: duration, publishTop: z.number().int().min(1).max(1000) })
      .partial()
      .strict()
      .optional(),
    usage: z
      .object({
        enabled: z.boolean(),
        maxKeys: z.number().int().min(2).max(1_000_000),
        ringSize: z.number().int().min(4).max(1024),
        sampleOneIn: z.number().int().min(1),
        hotRatePerSecond: z.number().positive(),
        minTtlMs: duration,
        maxTtlMs: duration,
        maxRules: z.number().int().min(0).max(10_000),
        apply: z.boolean(),
      })
      .partial()
      .strict()
      .refine(
        (u) => !(u.minTtlMs && u.maxTtlMs && u.minTtlMs > u.maxTtlMs),
        "usage.minTtlMs must not exceed usage.maxTtlMs",
      )
      .optional(),
    snapshotFile: z
      .object({
        path: z.string().min(1),
        intervalMs: duration,
        maxBytes: bytes,
        maxKeys: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** OpenTelemetry traces and metrics over OTLP/HTTP (protobuf); off when absent (see src/telemetry/otel.ts). */
    otel: otelSection.optional(),
  })
  .strict();
