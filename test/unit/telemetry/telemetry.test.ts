import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { createTelemetry, type Telemetry, type TelemetrySettings } from "../../../src/telemetry/telemetry.js";

const silent = pino({ level: "silent" });
const encode = (s: string) => new TextEncoder().encode(s);
let open: Telemetry[] = [];

afterEach(async () => {
  for (const t of open) await t.close();
  open = [];
});

function setup(config: TelemetrySettings = {}, clock = new ManualClock(1_700_000_000_000)) {
  const telemetry = createTelemetry({
    instanceId: "unit",
    logger: silent,
    config: { windowMs: 3_600_000, ...config },
    clock,
  });
  open.push(telemetry);
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 16 << 20, maxEntries: 10_000, clock }),
    clock,
    statsSink: telemetry.statsSink,
    loaderFor: (ns) =>
      ns === "failing"
        ? { load: async () => Promise.reject(new Error("origin down")) }
        : { load: async (_ns, key) => ({ found: true, value: encode(`v:${key}`) }) },
  });
  const registry = new Registry();
  telemetry.start(manager, { registry, breakerState: (ns) => (ns === "products" ? "open" : undefined) });
  return { telemetry, manager, registry, clock };
}

async function gets(manager: CacheManager, ns: string, key: string, times: number) {
  for (let i = 0; i < times; i++) await manager.get(ns, key);
}

describe("telemetry sink and views", () => {
  it("ranks hot keys by the top-K and keeps per-key hits, misses and load latency", async () => {
    const { telemetry, manager } = setup();
    await gets(manager, "products", "a", 30);
    await gets(manager, "products", "b", 10);
    await gets(manager, "products", "c", 20);
    await gets(manager, "users", "u", 5);
    expect(telemetry.hotKeys(2, "products")).toEqual([
      { namespace: "products", key: "a", frequency: 30 },
      { namespace: "products", key: "c", frequency: 20 },
    ]);
    expect(telemetry.hotKeys(10).map((k) => k.key)).toEqual(["a", "c", "b", "u"]);
    // First Get missed and loaded; the other 29 hit L1.
    expect(telemetry.keyStats("products", "a")).toMatchObject({ hits: 29, misses: 1, frequency: 30 });
    expect(telemetry.keyStats("products", "a")?.record.loads).toBe(1);
    expect(telemetry.keyStats("products", "nope")).toBeUndefined();
  });

  it("observes load durations and exposes breaker state and anomalies as metrics", async () => {
    const { manager, registry } = setup();
    await gets(manager, "products", "a", 3);
    await manager.get("failing", "x").catch(() => {});
    const text = await registry.metrics();
    expect(text).toMatch(/cache_load_duration_seconds_count\{cache="products",result="success"\} 1/);
    expect(text).toMatch(/cache_load_duration_seconds_count\{cache="failing",result="failure"\} 1/);
    expect(text).toMatch(/cache_breaker_state\{cache="products",state="open"\} 1/);
    expect(text).toMatch(/cache_breaker_state\{cache="products",state="closed"\} 0/);
    expect(text).not.toMatch(/cache_breaker_state\{cache="failing"/);
    expect(text).not.toMatch(/key=/);
  });

  it("flags a key that suddenly becomes hot, once the namespace is warmed up", async () => {
    const { telemetry, manager, registry, clock } = setup({
      hotKeyDecay: 0.5,
      anomalies: { warmupWindows: 3, minCount: 20, threshold: 4 },
    });
    for (let window = 0; window < 6; window++) {
      for (let k = 0; k < 10; k++) await gets(manager, "products", `steady${k}`, 10);
      expect(telemetry.tick()).toEqual([]);
      clock.advance(1000);
    }
    for (let k = 0; k < 10; k++) await gets(manager, "products", `steady${k}`, 10);
    await gets(manager, "products", "sudden", 200);
    const flagged = telemetry.tick();
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ kind: "hot_key", namespace: "products", key: "sudden" });
    expect(telemetry.anomalies(["products"])).toHaveLength(1);
    expect(telemetry.anomalies(["users"])).toHaveLength(0);
    expect(await registry.metrics()).toMatch(/cache_anomalies_total\{cache="products",kind="hot_key"\} 1/);
  });

  it("flags a spike of load failures", async () => {
    const { telemetry, manager, clock } = setup({ anomalies: { warmupWindows: 3, minCount: 20 } });
    for (let window = 0; window < 5; window++) {
      await manager.get("failing", `k${window}`).catch(() => {});
      telemetry.tick();
      clock.advance(1000);
    }
    for (let i = 0; i < 50; i++) await manager.get("failing", `burst${i}`).catch(() => {});
    expect(telemetry.tick().map((a) => a.kind)).toEqual(["load_failure_spike"]);
  });
});

describe("raw snapshots", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("exports namespace, per-key and anomaly records as NDJSON", async () => {
    const { telemetry, manager } = setup();
    await gets(manager, "products", "a", 4);
    await gets(manager, "products", "b", 2);
    await gets(manager, "users", "u", 1);
    const lines = telemetry.exportNdjson({ namespaces: ["products"], maxKeys: 1 });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.type)).toEqual(["namespace", "key"]);
    expect(records[0]).toMatchObject({
      instance: "unit",
      namespace: "products",
      requests: 6,
      l1: { hits: 4, misses: 2 },
      loads: { successes: 2, failures: 0 },
      breakerState: "open",
    });
    expect(records[1]).toMatchObject({
      namespace: "products",
      key: "a",
      l1Hits: 3,
      l1Misses: 1,
      loads: 1,
      frequency: 4,
    });
    const chunks = [...telemetry.exportChunks()];
    const text = chunks.map((c) => new TextDecoder().decode(c)).join("");
    expect(text.endsWith("\n")).toBe(true);
    expect(
      text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type),
    ).toEqual(["namespace", "key", "key", "namespace", "key"]);
  });

  it("writes snapshots to a file that rotates instead of growing past maxBytes", async () => {
    dir = mkdtempSync(join(tmpdir(), "mlcache-snap-"));
    const path = join(dir, "stats.ndjson");
    const { telemetry, manager } = setup({ snapshotFile: { path, intervalMs: 3_600_000, maxBytes: 4096, maxKeys: 5 } });
    for (let k = 0; k < 5; k++) await gets(manager, "products", `key-${k}`, 3);
    for (let i = 0; i < 40; i++) await telemetry.writeSnapshotFile();
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(4096);
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line).type).toMatch(/namespace|key/);
  });
});
