import { z } from "zod";
import { bytes, duration } from "./fields.js";

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
  })
  .strict();
