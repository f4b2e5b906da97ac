// The dashboard page: streams WatchStats, keeps the last minutes of rates, hit ratios and load
// latencies, and draws them with uPlot next to tables of namespaces, hot keys, dependencies and
// anomalies. Everything the server sends is shown through textContent, never parsed as HTML.
import { CallError, watchStats } from "./stream.js";
import uPlot from "./uPlot.esm.js";

const STORE = {
  token: "mlcache.dashboard.token",
  interval: "mlcache.dashboard.interval",
  hotKeys: "mlcache.dashboard.hotKeys",
};
/** How far back the charts reach. */
const WINDOW_SECONDS = 300;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const PALETTE = ["#2f6fde", "#d9822b", "#4aa96c", "#b5489a", "#c0392b", "#6c5ce7", "#16a2b8", "#8a6d3b", "#555f6b"];

const $ = (id) => document.getElementById(id);

// ─────────────────────────── settings ───────────────────────────

function settings() {
  const interval = Number(localStorage.getItem(STORE.interval) ?? "1");
  const hotKeys = Number(localStorage.getItem(STORE.hotKeys) ?? "10");
  return {
    token: localStorage.getItem(STORE.token) ?? "",
    intervalSeconds: [1, 2, 5, 10].includes(interval) ? interval : 1,
    hotKeys: Number.isInteger(hotKeys) && hotKeys >= 1 && hotKeys <= 100 ? hotKeys : 10,
  };
}

function showSettings(open) {
  $("settings").hidden = !open;
  if (open) {
    const current = settings();
    $("token").value = current.token;
    $("interval").value = String(current.intervalSeconds);
    $("hot-keys").value = String(current.hotKeys);
    $("token").focus();
  }
}

// ─────────────────────────── state line ───────────────────────────

function setState(state, label, message, kind = "info") {
  const status = $("status");
  status.dataset.state = state;
  status.textContent = label;
  const box = $("message");
  box.hidden = !message;
  box.textContent = message ?? "";
  box.dataset.kind = kind;
  // Figures stay on screen while the stream is down, dimmed: they are no longer live.
  $("panels").classList.toggle("stale", state !== "live");
}

// ─────────────────────────── history ───────────────────────────

/** Time points (seconds) and, per series name, one value per point (null where unknown). */
class History {
  constructor() {
    this.times = [];
    this.series = new Map();
  }
  push(time, values) {
    this.times.push(time);
    for (const [name, column] of this.series) column.push(values.has(name) ? values.get(name) : null);
    for (const [name, value] of values) {
      if (this.series.has(name)) continue;
      const column = new Array(this.times.length - 1).fill(null);
      column.push(value);
      this.series.set(name, column);
    }
    let cut = 0;
    while (cut < this.times.length && this.times[cut] < time - WINDOW_SECONDS) cut++;
    if (cut > 0) {
      this.times.splice(0, cut);
      for (const column of this.series.values()) column.splice(0, cut);
    }
  }
  data(names) {
    return [this.times, ...names.map((name) => this.series.get(name) ?? this.times.map(() => null))];
  }
}

// ─────────────────────────── charts ───────────────────────────

/** One uPlot chart in a container, rebuilt when its set of series changes. */
class Chart {
  constructor(container, format) {
    this.container = container;
    this.format = format;
    this.names = [];
    this.plot = undefined;
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }
  size() {
    return { width: Math.max(300, this.container.clientWidth), height: 220 };
  }
  draw(names, data) {
    if (!this.plot || names.join("\u0000") !== this.names.join("\u0000")) {
      this.plot?.destroy();
      this.names = names;
      this.plot = new uPlot(
        {
          ...this.size(),
          scales: { x: { time: true } },
          axes: [{}, { values: (_, ticks) => ticks.map(this.format), size: 60 }],
          series: [
            {},
            ...names.map((name, i) => ({
              label: name,
              stroke: PALETTE[i % PALETTE.length],
              width: 1.5,
              spanGaps: false,
              value: (_, v) => (v === null || v === undefined ? "–" : this.format(v)),
            })),
          ],
        },
        data,
        this.container,
      );
    } else {
      this.plot.setData(data);
    }
    // For tests and curious readers: how much the chart shows.
    this.container.dataset.points = String(data[0].length);
    this.container.dataset.series = names.join(",");
  }
}

// ─────────────────────────── reading snapshots ───────────────────────────

const count = (value) => Number(value ?? 0);
const millis = (duration) => (duration ? Number.parseFloat(duration) * 1000 : 0);
const layerName = (layer) => String(layer ?? "").replace("CACHE_LAYER_", "");
const breakerName = (state) =>
  String(state ?? "BREAKER_STATE_UNSPECIFIED")
    .replace("BREAKER_STATE_", "")
    .toLowerCase();
const kindName = (kind) =>
  String(kind ?? "")
    .replace("ANOMALY_KIND_", "")
    .toLowerCase()
    .replaceAll("_", " ");
const ratio = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`);
const fixed = (value, digits = 1) => (value === null || value === undefined ? "–" : value.toFixed(digits));
const bytes = (n) =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;

function row(tbody, cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    const { text, className } = typeof cell === "object" && cell !== null ? cell : { text: cell };
    td.textContent = String(text);
    if (className) td.className = className;
    tr.append(td);
  }
  tbody.append(tr);
}

function fill(tableId, rows, emptyText) {
  const tbody = $(tableId).tBodies[0];
  tbody.replaceChildren();
  if (rows.length === 0) {
    const columns = $(tableId).tHead.rows[0].cells.length;
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = emptyText;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const cells of rows) row(tbody, cells);
}

// ─────────────────────────── the page ───────────────────────────

const rates = new History();
const hitRatios = new History();
const latencies = new Map(); // namespace → History of p50/p95/p99
let previous; // the last snapshot's counters, for per-interval rates
const charts = {};

function countersOf(snapshot) {
  const out = new Map();
  for (const ns of snapshot.namespaces ?? []) {
    const layers = new Map();
    for (const layer of ns.layers ?? []) {
      layers.set(layerName(layer.layer), { hits: count(layer.hits), misses: count(layer.misses) });
    }
    out.set(ns.namespace, { requests: count(ns.requests), layers });
  }
  return out;
}

/** Takes one WatchStatsResponse into the history and redraws. */
function take(message) {
  const snapshot = message.snapshot ?? {};
  const time = Date.parse(snapshot.time ?? new Date().toISOString()) / 1000;
  const counters = countersOf(snapshot);
  const rateNow = new Map();
  const hitNow = new Map();
  const perNamespaceRate = new Map();
  const elapsed = previous ? time - previous.time : 0;
  for (const [namespace, current] of counters) {
    const before = previous?.counters.get(namespace);
    // No earlier snapshot, or counters went backwards (another instance answered): no rate yet.
    const rate =
      before && elapsed > 0 && current.requests >= before.requests
        ? (current.requests - before.requests) / elapsed
        : null;
    rateNow.set(namespace, rate);
    perNamespaceRate.set(namespace, rate);
    for (const [layer, now] of current.layers) {
      const then = before?.layers.get(layer);
      const hits = then ? now.hits - then.hits : 0;
      const misses = then ? now.misses - then.misses : 0;
      hitNow.set(
        `${namespace} · ${layer}`,
        then && hits >= 0 && misses >= 0 && hits + misses > 0 ? hits / (hits + misses) : null,
      );
    }
  }
  previous = { time, counters };
  rates.push(time, rateNow);
  hitRatios.push(time, hitNow);
  for (const ns of snapshot.namespaces ?? []) {
    if (!latencies.has(ns.namespace)) latencies.set(ns.namespace, new History());
    const loads = ns.loads ?? {};
    latencies.get(ns.namespace).push(
      time,
      new Map([
        ["p50", millis(loads.latencyP50)],
        ["p95", millis(loads.latencyP95)],
        ["p99", millis(loads.latencyP99)],
      ]),
    );
  }

  $("instance").textContent = `instance ${snapshot.instanceId ?? "?"} · ${new Date(time * 1000).toLocaleTimeString()}`;
  const rateNames = [...rates.series.keys()].sort();
  charts.rate.draw(rateNames, rates.data(rateNames));
  const hitNames = [...hitRatios.series.keys()].sort();
  charts.hits.draw(hitNames, hitRatios.data(hitNames));
  drawLatency();

  fill(
    "namespaces",
    (snapshot.namespaces ?? []).map((ns) => {
      const layer = (name) => (ns.layers ?? []).find((l) => layerName(l.layer) === name);
      const l1 = layer("L1");
      const l2 = layer("L2");
      const loads = ns.loads ?? {};
      const breaker = breakerName(loads.breakerState);
      return [
        ns.namespace,
        fixed(perNamespaceRate.get(ns.namespace)),
        ratio(l1 ? (l1.hitRatio ?? 0) : null),
        ratio(l2 ? (l2.hitRatio ?? 0) : null),
        count(l1?.entries),
        bytes(count(l1?.bytes)),
        `${count(loads.successes)} / ${count(loads.failures)}`,
        count(loads.inFlight),
        count(loads.collapsed),
        `${fixed(millis(loads.latencyP50))} / ${fixed(millis(loads.latencyP95))} / ${fixed(millis(loads.latencyP99))}`,
        `${count(ns.staleServed)} / ${count(ns.fallbackServed)}`,
        { text: breaker === "unspecified" ? "no loader" : breaker, className: breaker },
      ];
    }),
    "no namespace has seen traffic yet",
  );
  fill(
    "hot-keys-table",
    (snapshot.namespaces ?? [])
      .flatMap((ns) => (ns.hotKeys ?? []).map((hot) => ({ ...hot, namespace: hot.namespace || ns.namespace })))
      .sort((a, b) => count(b.frequency) - count(a.frequency))
      .map((hot) => [hot.namespace, { text: hot.key, className: "key" }, count(hot.frequency)]),
    "no hot keys",
  );
  fill(
    "dependencies",
    (snapshot.dependencies ?? []).map((d) => [
      d.name,
      { text: d.up ? "up" : "down", className: d.up ? "up" : "down" },
      count(d.queued),
      count(d.consumerLag),
      { text: breakerName(d.breakerState), className: breakerName(d.breakerState) },
      { text: d.detail ?? "", className: "detail" },
    ]),
    "no remote dependencies (L1 only)",
  );
  fill(
    "anomalies",
    (snapshot.anomalies ?? []).map((a) => [
      a.detectedAt ? new Date(a.detectedAt).toLocaleTimeString() : "",
      kindName(a.kind),
      a.namespace,
      { text: a.key ?? "", className: "key" },
      fixed(a.score ?? 0),
      { text: a.detail ?? "", className: "detail" },
    ]),
    "none",
  );
  const dropped = count(message.snapshotsDropped);
  $("footer").textContent = dropped
    ? `${dropped} snapshot(s) skipped: this page read too slowly`
    : `window: last ${WINDOW_SECONDS / 60} minutes`;
}

function drawLatency() {
  const select = $("latency-namespace");
  const names = [...latencies.keys()].sort();
  if ([...select.options].map((o) => o.value).join("\u0000") !== names.join("\u0000")) {
    const chosen = select.value;
    select.replaceChildren(...names.map((name) => new Option(name, name)));
    if (names.includes(chosen)) select.value = chosen;
  }
  const history = latencies.get(select.value);
  if (history) charts.latency.draw(["p50", "p95", "p99"], history.data(["p50", "p95", "p99"]));
}

// ─────────────────────────── the stream, with reconnects ───────────────────────────

let current; // { controller } of the running stream
let wake = () => {};

function sleepUnlessWoken(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

/** Restarts the stream now (new settings). */
function restart() {
  current?.controller.abort();
  wake();
}

async function run() {
  let failures = 0;
  for (;;) {
    const { token, intervalSeconds, hotKeys } = settings();
    const controller = new AbortController();
    current = { controller };
    let streaming = false;
    // A stream that goes quiet (a half-open connection) counts as dropped.
    let watchdog;
    const kick = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () => controller.abort(new Error("no snapshot came in time")),
        intervalSeconds * 3000 + 5000,
      );
    };
    if (failures === 0) setState("connecting", "connecting…");
    let reason;
    try {
      kick();
      await watchStats({
        request: { interval: `${intervalSeconds}s`, hotKeys },
        token,
        signal: controller.signal,
        onMessage: (message) => {
          kick();
          if (!streaming) {
            streaming = true;
            failures = 0;
            setState("live", "live");
          }
          take(message);
        },
      });
      reason = "the server ended the stream";
    } catch (error) {
      if (error instanceof CallError && (error.code === "unauthenticated" || error.code === "permission_denied")) {
        clearTimeout(watchdog);
        const needsToken = error.code === "unauthenticated";
        setState(
          needsToken ? "unauthenticated" : "denied",
          needsToken ? "token needed" : "not allowed",
          needsToken
            ? `This service needs a bearer token with the read right: open Settings and enter it. (${error.message})`
            : `The token may not watch these stats: ${error.message}`,
          "error",
        );
        await sleepUnlessWoken(2 ** 31 - 1); // until the settings change
        failures = 0;
        continue;
      }
      if (error instanceof CallError && error.code === "invalid_argument") {
        clearTimeout(watchdog);
        setState("failed", "refused", `The service refused the request: ${error.message}`, "error");
        await sleepUnlessWoken(2 ** 31 - 1);
        continue;
      }
      reason = controller.signal.aborted ? String(controller.signal.reason?.message ?? "restarted") : error.message;
    } finally {
      clearTimeout(watchdog);
    }
    if (controller.signal.aborted && controller.signal.reason?.name === "AbortError") {
      failures = 0; // restarted on purpose (settings): connect again now
      continue;
    }
    failures++;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
    const delay = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
    setState(
      "reconnecting",
      "reconnecting…",
      `The stream dropped (${reason}). Reconnecting… attempt ${failures}, next in ${(delay / 1000).toFixed(1)} s. The figures below are from before the drop.`,
    );
    await sleepUnlessWoken(delay);
  }
}

// ─────────────────────────── start ───────────────────────────

charts.rate = new Chart($("chart-rate"), (v) => (v === null ? "" : v.toFixed(v < 10 ? 1 : 0)));
charts.hits = new Chart($("chart-hits"), (v) => (v === null ? "" : `${Math.round(v * 100)} %`));
charts.latency = new Chart($("chart-latency"), (v) => (v === null ? "" : v.toFixed(v < 10 ? 1 : 0)));
$("latency-namespace").addEventListener("change", drawLatency);
$("settings-toggle").addEventListener("click", () => showSettings($("settings").hidden));
$("settings-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (token) localStorage.setItem(STORE.token, token);
  else localStorage.removeItem(STORE.token);
  localStorage.setItem(STORE.interval, $("interval").value);
  localStorage.setItem(STORE.hotKeys, $("hot-keys").value);
  showSettings(false);
  restart();
});
$("forget").addEventListener("click", () => {
  localStorage.removeItem(STORE.token);
  $("token").value = "";
  restart();
});
run();
