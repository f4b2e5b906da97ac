import type { SnapshotFileConfig } from "./snapshot-file.js";
import { type UsageConfig, usageDefaults } from "./usage/analyzer.js";

/** Settings of the telemetry (every field has a default; see `telemetryDefaults`). */
export interface TelemetryConfig {
  /** Keys the bounded top-K holds per namespace (hot keys, Inspect, WatchStats). */
  topK: number;
  /** Keys whose per-key counters are kept (least recently used forgotten first). */
  maxTrackedKeys: number;
  /** Length of a rate window: anomaly checks and hot-key decay happen once per window. */
  windowMs: number;
  /** Hot-key counts are multiplied by this at the end of each window (1: never forget). */
  hotKeyDecay: number;
  anomalies: {
    /** Standard deviations above the EWMA that make an anomaly. */
    threshold: number;
    /** Weight of the newest window in the EWMA (0..1). */
    alpha: number;
    /** Windows a namespace must have been watched before it can flag. */
    warmupWindows: number;
    /** A window count below this is never an anomaly. */
    minCount: number;
    /** Only keys among this many hottest of a window can be flagged as suddenly hot. */
    hotKeyRanks: number;
    /** Anomalies stay in WatchStats snapshots this long. */
    retentionMs: number;
  };
  /** Fleet-wide hot keys (needs Redis): each instance publishes its top keys this often. */
  fleet: {
    publishIntervalMs: number;
    /** Keys published per namespace. */
    publishTop: number;
  };
  /** Raw counters written periodically as NDJSON; off when absent. */
  snapshotFile?: SnapshotFileConfig | undefined;
  /** Usage-pattern analysis: arrival sampling bounds, classification, TTL advice bounds. */
  usage: UsageConfig;
}

/** The defaults of every telemetry setting. */
export const telemetryDefaults: TelemetryConfig = {
  topK: 256,
  maxTrackedKeys: 10_000,
  windowMs: 10_000,
  hotKeyDecay: 0.5,
  anomalies: { threshold: 4, alpha: 0.3, warmupWindows: 5, minCount: 20, hotKeyRanks: 10, retentionMs: 300_000 },
  fleet: { publishIntervalMs: 10_000, publishTop: 100 },
  usage: usageDefaults,
};

/** Settings as given: any field may be left out. */
export interface TelemetrySettings extends Partial<Omit<TelemetryConfig, "anomalies" | "fleet" | "usage">> {
  anomalies?: Partial<TelemetryConfig["anomalies"]> | undefined;
  fleet?: Partial<TelemetryConfig["fleet"]> | undefined;
  usage?: Partial<UsageConfig> | undefined;
}

/** The settings given, over the defaults (a field given as undefined keeps its default). */
export function resolveTelemetryConfig(given: TelemetrySettings = {}): TelemetryConfig {
  return {
    ...telemetryDefaults,
    ...stripUndefined(given),
    anomalies: { ...telemetryDefaults.anomalies, ...stripUndefined(given.anomalies ?? {}) },
    fleet: { ...telemetryDefaults.fleet, ...stripUndefined(given.fleet ?? {}) },
    usage: { ...telemetryDefaults.usage, ...stripUndefined(given.usage ?? {}) },
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
