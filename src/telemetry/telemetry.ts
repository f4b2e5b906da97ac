import type { Registry } from "prom-client";
import type { CacheManager, StatsSink } from "../engine/cache-manager.js";
import { type Clock, systemClock } from "../engine/clock.js";
import type { KeyFrequency } from "../engine/layer.js";
import { CacheError, Status } from "../errors.js";
import type { Logger } from "../logger.js";
import { type AnomalyRecord, AnomalyWatch } from "./anomaly-watch.js";
import type { FleetHotKey, HotKeyBoardFactory } from "./fleet-hot-keys.js";
import { FleetPublisher } from "./fleet-publisher.js";
import { HotKeyRanks } from "./hot-key-ranks.js";
import { type KeyRecord, KeyTracker } from "./key-tracker.js";
import { type BreakerName, type LoadObserver, registerTelemetryMetrics } from "./metrics.js";
import { type NdjsonRequest, ndjsonChunks, ndjsonLines } from "./ndjson.js";
import { resolveTelemetryConfig, type TelemetryConfig, type TelemetrySettings } from "./settings.js";
import { SnapshotFile } from "./snapshot-file.js";
import { type AdviceContext, type KeyUsage, type NamespaceAdvice, UsageAnalyzer } from "./usage/analyzer.js";

export type { AnomalyKind, AnomalyRecord } from "./anomaly-watch.js";
export type { FleetHotKey, HotKeyBoard, HotKeyBoardFactory } from "./fleet-hot-keys.js";
export { type TelemetryConfig, type TelemetrySettings, telemetryDefaults } from "./settings.js";
export type { SnapshotFileConfig } from "./snapshot-file.js";
export type { KeyUsage, NamespaceAdvice, UsageConfig } from "./usage/analyzer.js";

/** Accesses a key must certainly have in the top-K to have its arrivals sampled though its hash is not. */
const HOT_FOR_SAMPLING = 8;

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
  breakerState?: (namespace: string) => BreakerName | undefined;
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
  /** The key's usage pattern and TTL advice, when its arrivals are sampled. */
  usage?: KeyUsage | undefined;
}

/** What the RPC handlers read from the telemetry (WatchStats, Inspect). */
export interface TelemetryView {
  hotKeys(n: number, namespace?: string): KeyFrequency[];
  /** True when fleet-wide hot keys are available (Redis configured). */
  readonly fleetWide: boolean;
  fleetHotKeys(n: number, namespace?: string): Promise<FleetHotKey[]>;
  keyStats(namespace: string, key: string): KeyStatsView | undefined;
  anomalies(namespaces?: readonly string[]): AnomalyRecord[];
  /** The usage patterns of a namespace's sampled keys, and the TTL advice and rules they lead to. */
  advise(namespace: string): NamespaceAdvice;
}

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
  private readonly ranks: HotKeyRanks;
  private readonly watch: AnomalyWatch;
  private readonly usage: UsageAnalyzer;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly instanceId: string;
  private readonly fleet: FleetPublisher | undefined;
  private readonly snapshotFile: SnapshotFile | undefined;
  private manager: CacheManager | undefined;
  private breakerState: (namespace: string) => BreakerName | undefined = () => undefined;
  private countLayer: "l1" | "l2" = "l1";
  private hasL2 = false;
  private observeLoad: LoadObserver | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(options: TelemetryOptions) {
    this.config = resolveTelemetryConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.instanceId = options.instanceId;
    this.keys = new KeyTracker(this.config.maxTrackedKeys);
    this.ranks = new HotKeyRanks(this.config.topK);
    const ranks = this.ranks;
    this.usage = new UsageAnalyzer(
      this.config.usage,
      (namespace, key) => (ranks.of(namespace)?.guaranteed(key) ?? 0) >= HOT_FOR_SAMPLING,
    );
    this.watch = new AnomalyWatch(this.config.anomalies, this.clock, this.logger);
    this.fleet = options.hotKeyBoard
      ? new FleetPublisher({
          board: options.hotKeyBoard,
          instanceId: options.instanceId,
          config: this.config.fleet,
          ranks: this.ranks,
          logger: this.logger,
        })
      : undefined;
    this.snapshotFile = this.config.snapshotFile ? new SnapshotFile(this.config.snapshotFile) : undefined;
    this.statsSink = this.sink();
  }

  /** The per-key hook of the read path: O(1) work and bounded memory per call. */
  private sink(): StatsSink {
    const keys = this.keys;
    const ranks = this.ranks;
    const sampling = this.config.usage.enabled;
    return {
      access: (namespace, key, layer, hit) => {
        if (layer === this.countLayer) {
          ranks.add(namespace, key);
          if (sampling) this.usage.observe(namespace, key, this.clock.now());
        }
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
        if (ms > 0) {
          record.timedLoads++;
          record.loadMsTotal += ms;
          if (ms > record.loadMsMax) record.loadMsMax = ms;
        }
        this.observeLoad?.(namespace, ms, ok);
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
    if (options.registry) {
      this.observeLoad = registerTelemetryMetrics(options.registry, {
        manager,
        breakerState: (namespace) => this.breakerState(namespace),
        anomalyCounts: (namespace) => this.watch.countsOf(namespace),
      });
    }
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
    await this.snapshotFile?.idle();
    await this.fleet?.close();
  }

  /** The `n` hottest keys by the top-K (of one namespace, or all), frequency = decayed accesses. */
  hotKeys(n: number, namespace?: string): KeyFrequency[] {
    return this.ranks.hottest(n, namespace);
  }

  get fleetWide(): boolean {
    return this.fleet !== undefined;
  }

  /** The fleet's hottest keys, merged from every instance's published set. */
  async fleetHotKeys(n: number, namespace?: string): Promise<FleetHotKey[]> {
    if (!this.fleet) {
      throw new CacheError(Status.FAILED_PRECONDITION, "fleet-wide hot keys need Redis; this instance runs without it");
    }
    return this.fleet.read(n, namespace);
  }

  /** Publishes this instance's hot keys to Redis now (the timer does it every publish interval). */
  publishHotKeys(): Promise<void> {
    return this.fleet?.publish() ?? Promise.resolve();
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
      frequency: this.ranks.frequency(namespace, key),
      record,
      usage: this.manager
        ? this.usage.keyUsage(namespace, key, this.clock.now(), this.adviceContext(namespace, record.lastLoadMs))
        : undefined,
    };
  }

  /** See {@link TelemetryView.advise}. */
  advise(namespace: string): NamespaceAdvice {
    return this.usage.advise(namespace, this.clock.now(), this.adviceContext(namespace, 0));
  }

  /** The namespace's policy in the layer that counts reads, and a typical load (the key's last, else the p50). */
  private adviceContext(namespace: string, lastLoadMs: number): AdviceContext {
    const manager = this.manager;
    if (!manager) throw new Error("telemetry not started");
    const settings = manager.policies.get(namespace);
    const layer = settings[this.countLayer];
    const [p50] = manager.stats(namespace)?.loadLatency.quantiles(0.5) ?? [0];
    return {
      ttlMs: layer.ttlMs,
      freshForMs: layer.freshForMs,
      earlyRefresh: settings.earlyRefresh.enabled,
      loadMs: lastLoadMs > 0 ? lastLoadMs : (p50 ?? 0),
    };
  }

  /** Anomalies flagged within the retention, newest last (of some namespaces, or all). */
  anomalies(namespaces?: readonly string[]): AnomalyRecord[] {
    return this.watch.anomalies(namespaces);
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
    for (const namespace of manager.namespaceNames()) {
      const stats = manager.stats(namespace);
      if (!stats) continue;
      const top = this.ranks.of(namespace);
      flagged.push(...this.watch.observe(namespace, stats, top));
      top?.endWindow(this.config.hotKeyDecay);
    }
    for (const anomaly of flagged) this.watch.report(anomaly);
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
      frequency: (namespace: string, key: string) => this.ranks.frequency(namespace, key),
      l1Frequency: (namespace: string, key: string) => manager.l1Frequency(namespace, key),
      hasL1: manager.layerCounters("l1") !== undefined,
      hasL2: this.hasL2,
      anomalies: this.anomalies(),
      breakerState: this.breakerState,
    };
  }
}
