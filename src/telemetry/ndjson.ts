import type { CacheManager } from "../engine/cache-manager.js";
import type { LayerCounters } from "../engine/layer.js";
import type { KeyTracker } from "./key-tracker.js";

/** Which raw counters to export. */
export interface NdjsonRequest {
  /** Empty or absent: every namespace seen so far. */
  namespaces?: readonly string[];
  /** Per-key records per namespace, most accessed first (default 10,000). */
  maxKeys?: number;
}

/** What the export reads. */
export interface NdjsonSource {
  manager: CacheManager;
  instanceId: string;
  now: number;
  keys: KeyTracker;
  /** The top-K estimate of a key's decayed accesses. */
  frequency(namespace: string, key: string): number;
  /** The L1 sketch's estimate of a key's recent accesses. */
  l1Frequency(namespace: string, key: string): number;
  /** Which layers the instance has (a key line carries a block per layer). */
  hasL1: boolean;
  hasL2: boolean;
  anomalies: readonly {
    kind: string;
    namespace: string;
    key?: string;
    detectedAt: number;
    score: number;
    detail: string;
  }[];
  breakerState(namespace: string): string | undefined;
}

const CHUNK_BYTES = 64 * 1024;

function layer(hits: number, misses: number, puts: number, counters: LayerCounters | undefined) {
  return {
    hits,
    misses,
    puts,
    evictions: counters ? { ...counters.evictions } : {},
    entries: counters?.entries ?? 0,
    bytes: counters?.bytes ?? 0,
    admissionRejections: counters?.admissionRejections ?? 0,
  };
}

/**
 * The raw counters as NDJSON lines (without the newline), one JSON object each, `type` first:
 *
 *   {"type":"namespace","time":…,"instance":"a","namespace":"products","requests":…,"l1":{…},"loads":{…}}
 *   {"type":"key","time":…,"instance":"a","namespace":"products","key":"42","l1Hits":…,"lastLoadMs":…}
 *   {"type":"anomaly","time":…,"instance":"a","kind":"hot_key","namespace":"products","key":"42",…}
 *
 * Per-key lines come from the bounded key tracker (the keys touched most recently), the most
 * accessed first, at most `maxKeys` per namespace.
 */
export function ndjsonLines(source: NdjsonSource, request: NdjsonRequest = {}): string[] {
  const { manager, instanceId } = source;
  const time = new Date(source.now).toISOString();
  const maxKeys = request.maxKeys ?? 10_000;
  const wanted = request.namespaces && request.namespaces.length > 0 ? request.namespaces : manager.namespaceNames();
  const lines: string[] = [];
  for (const namespace of wanted) {
    const s = manager.stats(namespace);
    if (!s) continue;
    const [p50, p95, p99] = s.loadLatency.quantiles(0.5, 0.95, 0.99);
    const l2 = manager.layerCounters("l2", namespace);
    lines.push(
      JSON.stringify({
        type: "namespace",
        time,
        instance: instanceId,
        namespace,
        requests: s.requests,
        l1: layer(s.l1Hits, s.l1Misses, s.l1Puts, manager.layerCounters("l1", namespace)),
        ...(l2 ? { l2: layer(s.l2Hits, s.l2Misses, s.l2Puts, l2) } : {}),
        staleServed: s.staleServed,
        fallbackServed: s.fallbackServed,
        loads: {
          successes: s.loadSuccesses,
          failures: s.loadFailures,
          collapsed: s.loadsCollapsed,
          uncoordinated: s.loadsUncoordinated,
          earlyRefreshes: s.earlyRefreshes,
          backgroundRefreshes: s.backgroundRefreshes,
          latencyMs: { p50, p95, p99, last: s.loadLatency.last },
        },
        breakerState: source.breakerState(namespace) ?? null,
      }),
    );
    const records = source.keys
      .list(namespace)
      .sort((a, b) => b.l1Hits + b.l1Misses + b.l2Hits + b.l2Misses - (a.l1Hits + a.l1Misses + a.l2Hits + a.l2Misses))
      .slice(0, maxKeys);
    for (const r of records) {
      lines.push(
        JSON.stringify({
          type: "key",
          time,
          instance: instanceId,
          namespace,
          key: r.key,
          frequency: source.frequency(namespace, r.key),
          l1Hits: r.l1Hits,
          l1Misses: r.l1Misses,
          l2Hits: r.l2Hits,
          l2Misses: r.l2Misses,
          loads: r.loads,
          loadFailures: r.loadFailures,
          lastLoadMs: r.lastLoadMs,
          lastLoadAt: r.lastLoadAt ? new Date(r.lastLoadAt).toISOString() : null,
          earlyRefreshes: r.earlyRefreshes,
          backgroundRefreshes: r.backgroundRefreshes,
          lastRefreshAt: r.lastRefreshAt ? new Date(r.lastRefreshAt).toISOString() : null,
          // The same counters per layer (what a cache's per-key tables call accessCounts,
          // hitsPerKey, missesPerKey, frequencyTracker), and the key's load latency.
          accesses: source.hasL1 ? r.l1Hits + r.l1Misses : r.l2Hits + r.l2Misses,
          layers: {
            ...(source.hasL1
              ? {
                  l1: {
                    accesses: r.l1Hits + r.l1Misses,
                    hits: r.l1Hits,
                    misses: r.l1Misses,
                    sketchFrequency: source.l1Frequency(namespace, r.key),
                  },
                }
              : {}),
            ...(source.hasL2 ? { l2: { accesses: r.l2Hits + r.l2Misses, hits: r.l2Hits, misses: r.l2Misses } } : {}),
          },
          loadLatencyMs: {
            last: r.lastLoadMs,
            mean: r.timedLoads > 0 ? r.loadMsTotal / r.timedLoads : 0,
            max: r.loadMsMax,
            timedLoads: r.timedLoads,
          },
        }),
      );
    }
  }
  for (const a of source.anomalies) {
    if (!wanted.includes(a.namespace)) continue;
    lines.push(
      JSON.stringify({
        type: "anomaly",
        time,
        instance: instanceId,
        kind: a.kind,
        namespace: a.namespace,
        ...(a.key !== undefined ? { key: a.key } : {}),
        detectedAt: new Date(a.detectedAt).toISOString(),
        score: a.score,
        detail: a.detail,
      }),
    );
  }
  return lines;
}

/** The lines of `ndjsonLines` as UTF-8 chunks of about 64 KiB, each ending on a line boundary. */
export function* ndjsonChunks(source: NdjsonSource, request: NdjsonRequest = {}): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let size = 0;
  for (const line of ndjsonLines(source, request)) {
    pending.push(line);
    size += line.length + 1;
    if (size >= CHUNK_BYTES) {
      yield encoder.encode(`${pending.join("\n")}\n`);
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) yield encoder.encode(`${pending.join("\n")}\n`);
}
