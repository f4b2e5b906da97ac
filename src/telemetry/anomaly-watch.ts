import type { Clock } from "../engine/clock.js";
import type { NamespaceStats } from "../engine/stats.js";
import type { Logger } from "../logger.js";
import { AnomalyDetector } from "./anomaly.js";
import type { TelemetryConfig } from "./settings.js";
import type { TopK } from "./top-k.js";

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

const MAX_ANOMALIES_KEPT = 256;
// Key series watched per namespace, beyond the ranks that can flag: enough history that a key
// moving between rank 3 and rank 12 is not "new" each time.
const KEY_SERIES_PER_RANK = 4;

/**
 * Watches each namespace's window rates — early refreshes, load failures, its hottest keys'
 * accesses — against their EWMA, and keeps what it flagged: the recent anomalies (for
 * snapshots) and a count per namespace and kind (for metrics).
 */
export class AnomalyWatch {
  private readonly detector: AnomalyDetector;
  /** Per namespace: the engine counters at the end of the last window, and windows watched. */
  private readonly windows = new Map<string, { earlyRefreshes: number; loadFailures: number; windows: number }>();
  private readonly recent: AnomalyRecord[] = [];
  /** Anomalies flagged since the start, by namespace and kind. */
  private readonly counts = new Map<string, Map<AnomalyKind, number>>();

  constructor(
    private readonly config: TelemetryConfig["anomalies"],
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.detector = new AnomalyDetector({
      alpha: config.alpha,
      threshold: config.threshold,
      minCount: config.minCount,
      warmupWindows: config.warmupWindows,
      cooldownMs: config.retentionMs,
      clock,
      maxSeries: 100_000,
    });
  }

  /**
   * Closes a namespace's window: its counters now, and its top-K (whose window counts are the
   * keys' accesses in the window). Returns what it flags; {@link report} records them.
   */
  observe(namespace: string, stats: NamespaceStats, top: TopK | undefined): AnomalyRecord[] {
    const flagged: AnomalyRecord[] = [];
    const { hotKeyRanks, warmupWindows } = this.config;
    const previous = this.windows.get(namespace) ?? { earlyRefreshes: 0, loadFailures: 0, windows: 0 };
    const early = stats.earlyRefreshes - previous.earlyRefreshes;
    const failures = stats.loadFailures - previous.loadFailures;
    const spike = (kind: AnomalyKind, series: string, count: number, what: string) => {
      const deviation = this.detector.observe(series, count);
      if (!deviation) return;
      flagged.push({
        kind,
        namespace,
        detectedAt: deviation.at,
        score: deviation.score,
        detail: `${count} ${what} in the last window (average ${deviation.mean.toFixed(1)})`,
      });
    };
    spike("refresh_spike", `refresh\u0000${namespace}`, early, "early refreshes");
    spike("load_failure_spike", `failures\u0000${namespace}`, failures, "load failures");
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
    }
    this.windows.set(namespace, {
      earlyRefreshes: stats.earlyRefreshes,
      loadFailures: stats.loadFailures,
      windows: previous.windows + 1,
    });
    return flagged;
  }

  /** Keeps an anomaly (the newest {@link MAX_ANOMALIES_KEPT}), counts it and logs it. */
  report(anomaly: AnomalyRecord): void {
    this.recent.push(anomaly);
    if (this.recent.length > MAX_ANOMALIES_KEPT) this.recent.splice(0, this.recent.length - MAX_ANOMALIES_KEPT);
    let kinds = this.counts.get(anomaly.namespace);
    if (!kinds) {
      kinds = new Map();
      this.counts.set(anomaly.namespace, kinds);
    }
    kinds.set(anomaly.kind, (kinds.get(anomaly.kind) ?? 0) + 1);
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

  /** Anomalies flagged within the retention, oldest first (of some namespaces, or all). */
  anomalies(namespaces?: readonly string[]): AnomalyRecord[] {
    const since = this.clock.now() - this.config.retentionMs;
    return this.recent.filter(
      (a) => a.detectedAt >= since && (!namespaces || namespaces.length === 0 || namespaces.includes(a.namespace)),
    );
  }

  /** Anomalies flagged so far in a namespace, by kind. */
  countsOf(namespace: string): Iterable<readonly [AnomalyKind, number]> {
    return this.counts.get(namespace) ?? [];
  }
}
