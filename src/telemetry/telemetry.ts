import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CacheManager, StatsSink } from "../engine/cache-manager.js";
import { type Clock, systemClock } from "../engine/clock.js";
import type { BreakerState } from "../engine/health.js";
import type { KeyFrequency } from "../engine/layer.js";
import { CacheError, Status } from "../errors.js";
import type { Logger } from "../logger.js";
import { AnomalyDetector } from "./anomaly.js";
import { type FleetHotKey, type HotKeyBoard, type HotKeyBoardFactory, mergeHotKeys } from "./fleet-hot-keys.js";
import { type KeyRecord, KeyTracker } from "./key-tracker.js";
import { type NdjsonRequest, ndjsonChunks, ndjsonLines } from "./ndjson.js";
import { SnapshotFile, type SnapshotFileConfig } from "./snapshot-file.js";
import { TopK } from "./top-k.js";

export type { FleetHotKey, HotKeyBoard, HotKeyBoardFactory } from "./fleet-hot-keys.js";
export type { SnapshotFileConfig } from "./snapshot-file.js";

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
}

/** The defaults of every telemetry setting. */
export const telemetryDefaults: TelemetryConfig = {
  topK: 256,
  maxTrackedKeys: 10_000,
  windowMs: 10_000,
  hotKeyDecay: 0.5,
  anomalies: { threshold: 4, alpha: 0.3, warmupWindows: 5, minCount: 20, hotKeyRanks: 10, retentionMs: 300_000 },
  fleet: { publishIntervalMs: 10_000, publishTop: 100 },
};

/** Settings as given: any field may be left out. */
export interface TelemetrySettings extends Partial<Omit<TelemetryConfig, "anomalies" | "fleet">> {
  anomalies?: Partial<TelemetryConfig["anomalies"]> | undefined;
  fleet?: Partial<TelemetryConfig["fleet"]> | undefined;
}

/** What `createTelemetry` needs. */
export interface TelemetryOptions {
  instanceId: string;
  logger: Logger;
  config?: TelemetrySettings | undefined;
  /**
   * Makes the board the fleet's hot keys are shared on (Redis in the service: its own
   * connection); without it Inspect answers locally only.
   */
  hotKeyBoard?: HotKeyBoardFactory | undefined;
  clock?: Clock;
}

/** What `start` binds the telemetry to. */
export interface TelemetryStartOptions {
  /** Registers the load histogram, breaker state and anomaly metrics here. */
  registry?: Registry;
  /** Breaker state of a namespace's loader, when it has one. */
  breakerState?: (namespace: string) => BreakerState | undefined;
}

/** Kinds of anomaly, as in metrics and logs. */
export type AnomalyKind = "hot_key" | "refresh_spike" | "load_failure_spike";

/** An unusual rate, flagged by the EWMA detector. */
export interface AnomalyRecord {
  kind: AnomalyKind;
  namespace: string;
  /** Set for hot-key anomalies. */
  key?: string;
  detectedAt: number;
  /** Standard deviations above the recent average. */
  score: number;
  detail: string;
}

/** Per-key statistics as Inspect reports them. */
export interface KeyStatsView {
  hits: number;
  misses: number;
  lastLoadMs: number;
  lastRefreshAt: number;
  /** The top-K estimate (decayed accesses), 0 when the key is not among the hot ones. */
  frequency: number;
  record: KeyRecord;
}

/** What the RPC handlers read from the telemetry (WatchStats, Inspect). */
export interface TelemetryView {
  hotKeys(n: number, namespace?: string): KeyFrequency[];
  /** True when fleet-wide hot keys are available (Redis configured). */
  readonly fleetWide: boolean;
  fleetHotKeys(n: number, namespace?: string): Promise<FleetHotKey[]>;
  keyStats(namespace: string, key: string): KeyStatsView | undefined;
  anomalies(namespaces?: readonly string[]): AnomalyRecord[];
}

const MAX_ANOMALIES_KEPT = 256;
const MAX_FLEET_PUBLISHED = 1000;
// Key series watched per namespace, beyond the ranks that can flag: enough history that a key
// moving between rank 3 and rank 12 is not "new" each time.
const KEY_SERIES_PER_RANK = 4;

/**
 * Everything observability needs beyond the engine's own counters: the per-key stats sink
 * (top-K hot keys, per-key counters), the load-duration histogram, anomaly detection, the
 * fleet-wide hot keys and raw snapshots. Created before the manager (the sink goes into its
 * options), then started with it:
 *
 *   const telemetry = createTelemetry({ instanceId, logger });
 *   const manager = new CacheManager({ …, statsSink: telemetry.statsSink });
 *   telemetry.start(manager, { registry: metrics.registry });
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  return new Telemetry(options);
}

/** See {@link createTelemetry}. */
export class Telemetry implements TelemetryView {
  readonly config: TelemetryConfig;
  readonly statsSink: StatsSink;
  private readonly keys: KeyTracker;
  private readonly tops = new Map<string, TopK>();
  private readonly detector: AnomalyDetector;
  private readonly windows = new Map<string, { earlyRefreshes: number; loadFailures: number; windows: number }>();
  private readonly recent: AnomalyRecord[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly instanceId: string;
  private readonly fleet: HotKeyBoard | undefined;
  private readonly snapshotFile: SnapshotFile | undefined;
  private manager: CacheManager | undefined;
  private breakerState: (namespace: string) => BreakerState | undefined = () => undefined;
  private countLayer: "l1" | "l2" = "l1";
  private hasL2 = false;
  private loadDuration: Histogram<"cache" | "result"> | undefined;
  private readonly loadDurationOf = new Map<
    string,
    { success: Histogram.Internal<"cache" | "result">; failure: Histogram.Internal<"cache" | "result"> }
  >();
  private anomalyCounter: Counter<"cache" | "kind"> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private publishing: Promise<void> | undefined;

  constructor(options: TelemetryOptions) {
    const given = options.config ?? {};
    this.config = {
      ...telemetryDefaults,
      ...stripUndefined(given),
      anomalies: { ...telemetryDefaults.anomalies, ...stripUndefined(given.anomalies ?? {}) },
      fleet: { ...telemetryDefaults.fleet, ...stripUndefined(given.fleet ?? {}) },
    };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.instanceId = options.instanceId;
    this.keys = new KeyTracker(this.config.maxTrackedKeys);
    const a = this.config.anomalies;
    this.detector = new AnomalyDetector({
      alpha: a.alpha,
      threshold: a.threshold,
      minCount: a.minCount,
      warmupWindows: a.warmupWindows,
      cooldownMs: a.retentionMs,
      clock: this.clock,
      maxSeries: 100_000,
    });
    this.fleet = options.hotKeyBoard?.({
      instanceId: options.instanceId,
      // Three missed publishes and the instance drops out of the fleet view.
      ttlMs: this.config.fleet.publishIntervalMs * 3,
      maxPublished: MAX_FLEET_PUBLISHED,
    });
    this.snapshotFile = this.config.snapshotFile ? new SnapshotFile(this.config.snapshotFile) : undefined;
    this.statsSink = this.sink();
  }

  /** The per-key hook of the read path: O(1) work and bounded memory per call. */
  private sink(): StatsSink {
    const keys = this.keys;
    return {
      access: (namespace, key, layer, hit) => {
        if (layer === this.countLayer) this.topOf(namespace).add(key);
        const record = keys.touch(namespace, key);
        if (layer === "l1") {
          if (hit) record.l1Hits++;
          else record.l1Misses++;
        } else if (hit) record.l2Hits++;
        else record.l2Misses++;
      },
      load: (namespace, key, ms, ok) => {
        const record = keys.touch(namespace, key);
        record.loads++;
        if (!ok) record.loadFailures++;
        record.lastLoadMs = ms;
        record.lastLoadAt = this.clock.now();
        if (this.loadDuration) this.loadDurationChildren(namespace)[ok ? "success" : "failure"].observe(ms / 1000);
      },
      refresh: (namespace, key, kind) => {
        const record = keys.touch(namespace, key);
        if (kind === "early") record.earlyRefreshes++;
        else record.backgroundRefreshes++;
        record.lastRefreshAt = this.clock.now();
      },
    };
  }

  /**
   * Binds to the manager: registers metrics, starts the window ticks, the fleet publisher and
   * the snapshot file. Call once.
   */
  start(manager: CacheManager, options: TelemetryStartOptions = {}): void {
    if (this.manager) throw new Error("telemetry already started");
    this.manager = manager;
    if (options.breakerState) this.breakerState = options.breakerState;
    this.hasL2 = manager.layerCounters("l2") !== undefined;
    this.countLayer = manager.layerCounters("l1") !== undefined ? "l1" : "l2";
    if (options.registry) this.registerMetrics(options.registry);
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.windowMs, () => this.tick());
    if (this.fleet) every(this.config.fleet.publishIntervalMs, () => void this.publishHotKeys());
    const file = this.config.snapshotFile;
    if (this.snapshotFile && file) {
      every(file.intervalMs, () => {
        this.writeSnapshotFile().catch((error: unknown) =>
          this.logger.warn({ err: error, path: file.path }, "writing the stats snapshot file failed"),
        );
      });
    }
  }

  /** Stops the timers, withdraws this instance's fleet hot keys and closes the Redis connection. */
  async close(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.publishing?.catch(() => {});
    await this.snapshotFile?.idle();
    await this.fleet?.close();
  }

  /** The `n` hottest keys by the top-K (of one namespace, or all), frequency = decayed accesses. */
  hotKeys(n: number, namespace?: string): KeyFrequency[] {
    const of = (ns: string, top: TopK) =>
      top.top(n).map((k) => ({ namespace: ns, key: k.key, frequency: Math.round(k.count) }));
    if (namespace !== undefined) {
      const top = this.tops.get(namespace);
      return top ? of(namespace, top) : [];
    }
    const all = [...this.tops].flatMap(([ns, top]) => of(ns, top));
    return all.sort((a, b) => b.frequency - a.frequency).slice(0, n);
  }

  get fleetWide(): boolean {
    return this.fleet !== undefined;
  }

  /** The fleet's hottest keys, merged from every instance's published set. */
  async fleetHotKeys(n: number, namespace?: string): Promise<FleetHotKey[]> {
    if (!this.fleet) {
      throw new CacheError(Status.FAILED_PRECONDITION, "fleet-wide hot keys need Redis; this instance runs without it");
    }
    return mergeHotKeys(await this.fleet.sets(), n, namespace);
  }

  /** Publishes this instance's hot keys to Redis now (the timer does it every publish interval). */
  publishHotKeys(): Promise<void> {
    const fleet = this.fleet;
    if (!fleet || this.publishing) return this.publishing ?? Promise.resolve();
    const keys = [...this.tops.keys()]
      .flatMap((ns) => this.hotKeys(this.config.fleet.publishTop, ns))
      .sort((a, b) => b.frequency - a.frequency)
      .slice(0, MAX_FLEET_PUBLISHED);
    this.publishing = fleet
      .publish(keys)
      .catch((error: unknown) => this.logger.debug({ err: error }, "publishing hot keys failed; next interval retries"))
      .finally(() => {
        this.publishing = undefined;
      });
    return this.publishing;
  }

  /** Per-key counters of a tracked key. */
  keyStats(namespace: string, key: string): KeyStatsView | undefined {
    const record = this.keys.get(namespace, key);
    if (!record) return undefined;
    return {
      hits: record.l1Hits + record.l2Hits,
      // A Get missed when its last layer missed (L2 when there is one).
      misses: this.hasL2 ? record.l2Misses : record.l1Misses,
      lastLoadMs: record.lastLoadMs,
      lastRefreshAt: record.lastRefreshAt,
      frequency: Math.round(this.tops.get(namespace)?.estimate(key) ?? 0),
      record,
    };
  }

  /** Anomalies flagged within the retention, newest last (of some namespaces, or all). */
  anomalies(namespaces?: readonly string[]): AnomalyRecord[] {
    const since = this.clock.now() - this.config.anomalies.retentionMs;
    return this.recent.filter(
      (a) => a.detectedAt >= since && (!namespaces || namespaces.length === 0 || namespaces.includes(a.namespace)),
    );
  }

  /**
   * Closes a rate window: checks each namespace's early refreshes and load failures, and its
   * hottest keys' accesses, against their EWMA; decays the hot-key counts. Runs every
   * `windowMs`; callable directly (tests). Returns the anomalies it flagged.
   */
  tick(): AnomalyRecord[] {
    const manager = this.manager;
    if (!manager) return [];
    const flagged: AnomalyRecord[] = [];
    const { hotKeyRanks, warmupWindows } = this.config.anomalies;
    for (const namespace of manager.namespaceNames()) {
      const stats = manager.stats(namespace);
      if (!stats) continue;
      const previous = this.windows.get(namespace) ?? { earlyRefreshes: 0, loadFailures: 0, windows: 0 };
      const early = stats.earlyRefreshes - previous.earlyRefreshes;
      const failures = stats.loadFailures - previous.loadFailures;
      const refreshSpike = this.detector.observe(`refresh\u0000${namespace}`, early);
      if (refreshSpike) {
        flagged.push({
          kind: "refresh_spike",
          namespace,
          detectedAt: refreshSpike.at,
          score: refreshSpike.score,
          detail: `${early} early refreshes in the last window (average ${refreshSpike.mean.toFixed(1)})`,
        });
      }
      const failureSpike = this.detector.observe(`failures\u0000${namespace}`, failures);
      if (failureSpike) {
        flagged.push({
          kind: "load_failure_spike",
          namespace,
          detectedAt: failureSpike.at,
          score: failureSpike.score,
          detail: `${failures} load failures in the last window (average ${failureSpike.mean.toFixed(1)})`,
        });
      }
      const top = this.tops.get(namespace);
      if (top) {
        const warm = previous.windows >= warmupWindows;
        const ranked = top.entries().sort((a, b) => b.windowCount - a.windowCount);
        ranked.slice(0, hotKeyRanks * KEY_SERIES_PER_RANK).forEach((counted, rank) => {
          const hot = this.detector.observe(
            `key\u0000${namespace}\u0000${counted.key}`,
            counted.windowCount,
            warm && rank < hotKeyRanks,
          );
          if (hot) {
            flagged.push({
              kind: "hot_key",
              namespace,
              key: counted.key,
              detectedAt: hot.at,
              score: hot.score,
              detail: `${Math.round(counted.windowCount)} accesses in the last window (average ${hot.mean.toFixed(1)})`,
            });
          }
        });
        top.endWindow(this.config.hotKeyDecay);
      }
      this.windows.set(namespace, {
        earlyRefreshes: stats.earlyRefreshes,
        loadFailures: stats.loadFailures,
        windows: previous.windows + 1,
      });
    }
    for (const anomaly of flagged) this.report(anomaly);
    return flagged;
  }

  /** Raw counters as NDJSON lines (no newlines): namespaces, per-key records, recent anomalies. */
  exportNdjson(request: NdjsonRequest = {}): string[] {
    return ndjsonLines(this.exportSource(), request);
  }

  /** The same lines in chunks that end on line boundaries (AdminService.ExportStats). */
  exportChunks(request: NdjsonRequest = {}): Generator<Uint8Array> {
    return ndjsonChunks(this.exportSource(), request);
  }

  /** Writes one snapshot of the raw counters to the snapshot file now (rotating it when full). */
  async writeSnapshotFile(): Promise<void> {
    if (!this.snapshotFile) return;
    await this.snapshotFile.write(this.exportNdjson({ maxKeys: this.snapshotFile.maxKeys }));
  }

  private exportSource() {
    const manager = this.manager;
    if (!manager) throw new Error("telemetry not started");
    return {
      manager,
      instanceId: this.instanceId,
      now: this.clock.now(),
      keys: this.keys,
      frequency: (namespace: string, key: string) => Math.round(this.tops.get(namespace)?.estimate(key) ?? 0),
      anomalies: this.anomalies(),
      breakerState: this.breakerState,
    };
  }

  private report(anomaly: AnomalyRecord): void {
    this.recent.push(anomaly);
    if (this.recent.length > MAX_ANOMALIES_KEPT) this.recent.splice(0, this.recent.length - MAX_ANOMALIES_KEPT);
    this.anomalyCounter?.inc({ cache: anomaly.namespace, kind: anomaly.kind });
    this.logger.warn(
      {
        anomaly: anomaly.kind,
        namespace: anomaly.namespace,
        ...(anomaly.key !== undefined ? { key: anomaly.key } : {}),
        score: Number(anomaly.score.toFixed(2)),
      },
      `anomaly: ${anomaly.detail}`,
    );
  }

  private topOf(namespace: string): TopK {
    let top = this.tops.get(namespace);
    if (!top) {
      top = new TopK(this.config.topK);
      this.tops.set(namespace, top);
    }
    return top;
  }

  private loadDurationChildren(namespace: string) {
    let children = this.loadDurationOf.get(namespace);
    if (!children) {
      const histogram = this.loadDuration as Histogram<"cache" | "result">;
      children = {
        success: histogram.labels({ cache: namespace, result: "success" }),
        failure: histogram.labels({ cache: namespace, result: "failure" }),
      };
      this.loadDurationOf.set(namespace, children);
    }
    return children;
  }

  private registerMetrics(registry: Registry): void {
    const registers = [registry];
    const manager = this.manager as CacheManager;
    const breakerState = () => this.breakerState;
    this.loadDuration = new Histogram({
      name: "cache_load_duration_seconds",
      help: "Loader call durations, by result (success, failure); a key of a bulk call counts 0.",
      labelNames: ["cache", "result"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.anomalyCounter = new Counter({
      name: "cache_anomalies_total",
      help: "Anomalies flagged: keys suddenly hot, spikes of early refreshes or load failures.",
      labelNames: ["cache", "kind"],
      registers,
    });
    new Gauge({
      name: "cache_breaker_state",
      help: "State of a namespace's loader breaker: 1 for the current state (closed, open, half_open), 0 otherwise.",
      labelNames: ["cache", "state"],
      registers,
      collect() {
        this.reset();
        const stateOf = breakerState();
        for (const name of manager.namespaceNames()) {
          const state = stateOf(name);
          if (!state) continue;
          for (const candidate of ["closed", "open", "half-open"] as const) {
            this.set({ cache: name, state: candidate.replace("-", "_") }, candidate === state ? 1 : 0);
          }
        }
      },
    });
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
