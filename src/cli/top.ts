import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { durationFromMs, durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { parseDuration } from "../config/units.js";
import { statusName } from "../errors.js";
import { BreakerState, CacheLayer } from "../gen/mlcache/v1/common_pb.js";
import { AnomalyKind, type StatsSnapshot } from "../gen/mlcache/v1/stats_pb.js";
import { CONNECTION_OPTIONS, cacheClient } from "./connection.js";

const USAGE =
  "usage: mlcache top [--server HOST:PORT] [--token T] [--ca FILE] [--cert FILE --cert-key FILE] [-n NS]... [--interval 1s] [--hot-keys 5]";

// Cursor home, and "erase to end of line / of screen": redraw in place without flicker.
const HOME = "\x1b[H";
const EOL = "\x1b[K";
const EOS = "\x1b[J";
const ENTER = "\x1b[?1049h\x1b[?25l"; // alternate screen, cursor hidden (like top)
const LEAVE = "\x1b[?25h\x1b[?1049l";

const breakerNames: Record<number, string> = {
  [BreakerState.UNSPECIFIED]: "-",
  [BreakerState.CLOSED]: "closed",
  [BreakerState.OPEN]: "OPEN",
  [BreakerState.HALF_OPEN]: "half-open",
};
const anomalyNames: Record<number, string> = {
  [AnomalyKind.UNSPECIFIED]: "anomaly",
  [AnomalyKind.HOT_KEY]: "hot key",
  [AnomalyKind.REFRESH_SPIKE]: "refresh spike",
  [AnomalyKind.LOAD_FAILURE_SPIKE]: "load failure spike",
};

/** What the screen shows besides the snapshot. */
export interface TopFrame {
  server: string;
  snapshot: StatsSnapshot | undefined;
  /** The snapshot before, for rates over the last interval. */
  previous: StatsSnapshot | undefined;
  dropped: number;
  intervalMs: number;
  status?: string;
  width: number;
}

const pad = (text: string, width: number) =>
  text.length >= width ? `${text.slice(0, width - 1)} ` : text.padEnd(width);
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(1)}ms`);

/**
 * The screen for one snapshot, as lines: per namespace and layer the hit ratio and lookups
 * per second over the last interval (cumulative when there was no traffic), p99 load,
 * entries, evictions and breaker state; then hot keys, anomalies and dependencies.
 */
export function renderTop(frame: TopFrame): string[] {
  const { snapshot, previous } = frame;
  const when = snapshot?.time ? new Date(timestampMs(snapshot.time)).toISOString().slice(11, 19) : "--:--:--";
  const lines = [
    `mlcache top — ${frame.server}  instance ${snapshot?.instanceId ?? "?"}  ${when}  every ${ms(frame.intervalMs)}  (q quits)`,
  ];
  if (frame.status) lines.push(frame.status);
  lines.push("");
  if (!snapshot) return lines.map((l) => l.slice(0, frame.width));
  const seconds =
    previous?.time && snapshot.time ? (timestampMs(snapshot.time) - timestampMs(previous.time)) / 1000 : 0;
  lines.push(
    pad("NAMESPACE", 18) +
      pad("LAYER", 6) +
      pad("HIT%", 8) +
      pad("GETS/S", 9) +
      pad("P99 LOAD", 10) +
      pad("ENTRIES", 10) +
      pad("EVICTIONS", 11) +
      pad("COLLAPSED", 11) +
      "BREAKER",
  );
  for (const ns of snapshot.namespaces) {
    const before = previous?.namespaces.find((p) => p.namespace === ns.namespace);
    const reqRate = before && seconds > 0 ? Number(ns.requests - before.requests) / seconds : 0;
    const p99 = ns.loads?.latencyP99 ? durationMs(ns.loads.latencyP99) : 0;
    ns.layers.forEach((layer, i) => {
      const was = before?.layers.find((l) => l.layer === layer.layer);
      const hits = was ? Number(layer.hits - was.hits) : 0;
      const misses = was ? Number(layer.misses - was.misses) : 0;
      const ratio = hits + misses > 0 ? hits / (hits + misses) : layer.hitRatio;
      const rate = seconds > 0 ? (hits + misses) / seconds : 0;
      const ev = layer.evictions;
      const evictions = ev ? ev.size + ev.expired + ev.explicit + ev.replaced : 0n;
      lines.push(
        pad(i === 0 ? ns.namespace : "", 18) +
          pad(layer.layer === CacheLayer.L1 ? "L1" : "L2", 6) +
          pad(percent(ratio), 8) +
          pad(rate.toFixed(0), 9) +
          pad(i === 0 ? ms(p99) : "", 10) +
          pad(String(layer.entries), 10) +
          pad(String(evictions), 11) +
          pad(i === 0 ? String(ns.loads?.collapsed ?? 0n) : "", 11) +
          (i === 0 ? (breakerNames[ns.loads?.breakerState ?? 0] ?? "-") : ""),
      );
    });
    if (ns.layers.length === 0) lines.push(`${pad(ns.namespace, 18)}(no layers)  ${reqRate.toFixed(0)} req/s`);
  }
  lines.push("", "HOT KEYS");
  for (const ns of snapshot.namespaces) {
    if (ns.hotKeys.length === 0) continue;
    lines.push(`  ${pad(ns.namespace, 16)}${ns.hotKeys.map((k) => `${k.key} (${k.frequency})`).join("  ")}`);
  }
  if (snapshot.anomalies.length > 0) {
    lines.push("", "ANOMALIES");
    for (const a of snapshot.anomalies.slice(-5)) {
      const at = a.detectedAt ? new Date(timestampMs(a.detectedAt)).toISOString().slice(11, 19) : "";
      lines.push(
        `  ${at}  ${anomalyNames[a.kind] ?? "anomaly"}  ${a.namespace}${a.key ? `/${a.key}` : ""}  ${a.score.toFixed(1)}σ  ${a.detail}`,
      );
    }
  }
  if (snapshot.dependencies.length > 0) {
    lines.push(
      "",
      `DEPENDENCIES  ${snapshot.dependencies.map((d) => `${d.name} ${d.up ? "up" : "DOWN"}${d.queued ? ` (${d.queued} queued)` : ""}`).join("  ")}`,
    );
  }
  if (frame.dropped > 0) lines.push("", `${frame.dropped} snapshots skipped (screen slower than the interval)`);
  return lines.map((l) => l.slice(0, frame.width));
}

/** `mlcache top`: a live view of WatchStats, redrawn in place; `q` or Ctrl-C quits. */
export async function top(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...CONNECTION_OPTIONS,
      namespace: { type: "string", short: "n", multiple: true, default: [] },
      interval: { type: "string", default: "1s" },
      "hot-keys": { type: "string", default: "5" },
    },
    strict: true,
  });
  const intervalMs = parseDuration(values.interval);
  const hotKeys = Number(values["hot-keys"]);
  if (!Number.isInteger(hotKeys) || hotKeys < 0 || hotKeys > 100 || intervalMs < 100) {
    process.stderr.write(`${USAGE}\n(--interval at least 100ms, --hot-keys 0..100)\n`);
    return 2;
  }
  const server = values.server;
  const client = cacheClient(values);
  const out = process.stdout;
  const quit = new AbortController();

  const onKey = (data: Buffer) => {
    const key = data.toString("utf8");
    if (key === "q" || key === "Q" || key === "\x03") quit.abort();
  };
  const onSignal = () => quit.abort();
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on("data", onKey);
  process.stdin.resume();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  out.write(ENTER);

  let previous: StatsSnapshot | undefined;
  let dropped = 0;
  const draw = (snapshot: StatsSnapshot | undefined, status?: string) => {
    const lines = renderTop({
      server,
      snapshot,
      previous,
      dropped,
      intervalMs,
      width: out.columns ?? 120,
      ...(status ? { status } : {}),
    });
    out.write(`${HOME}${lines.map((l) => `${l}${EOL}`).join("\n")}\n${EOS}`);
  };
  try {
    draw(undefined, `connecting to ${server}…`);
    while (!quit.signal.aborted) {
      try {
        const stream = client.watchStats(
          { interval: durationFromMs(intervalMs), namespaces: values.namespace, hotKeys },
          { signal: quit.signal },
        );
        for await (const message of stream) {
          dropped += message.snapshotsDropped;
          draw(message.snapshot);
          previous = message.snapshot;
        }
      } catch (error) {
        if (quit.signal.aborted) break;
        const why = error instanceof ConnectError ? `${statusName(error.code)}: ${error.rawMessage}` : String(error);
        draw(previous, `not connected (${why}); retrying…`);
        await sleep(intervalMs, undefined, { signal: quit.signal }).catch(() => {});
      }
    }
  } finally {
    out.write(LEAVE);
    process.stdin.off("data", onKey);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}
