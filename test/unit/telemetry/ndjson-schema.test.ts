// docs/ndjson.md against the export, both ways: every field written is documented, every
// documented field is written (L1- and L2-only fields when the instance has that layer).
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { createTelemetry, type Telemetry } from "../../../src/telemetry/telemetry.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

interface Documented {
  path: string;
  only?: "L1" | "L2" | "optional";
}

/** The field tables of docs/ndjson.md, by line type. */
function documented(): Map<string, Documented[]> {
  const text = readFileSync(new URL("../../../docs/ndjson.md", import.meta.url), "utf8");
  const sections = new Map<string, Documented[]>();
  let current: Documented[] | undefined;
  for (const line of text.split("\n")) {
    const heading = /^## `(\w+)` lines/.exec(line);
    if (heading) {
      current = [];
      sections.set(heading[1] as string, current);
      continue;
    }
    const row = /^\|\s*`([\w.]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (row && current) {
      const only = /[*_](L1|L2|optional)[*_]/.exec(row[2] as string)?.[1] as Documented["only"];
      current.push({ path: row[1] as string, ...(only ? { only } : {}) });
    }
  }
  return sections;
}

/** Dotted paths of an object's leaves. */
function paths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([name, inner]) => paths(inner, prefix ? `${prefix}.${name}` : name));
}

const encode = (s: string) => new TextEncoder().encode(s);
let open: Telemetry[] = [];
afterEach(async () => {
  for (const t of open) await t.close();
  open = [];
});

async function exported(withL1: boolean, withL2: boolean): Promise<Record<string, unknown>[]> {
  const clock = new ManualClock(1_700_000_000_000);
  const telemetry = createTelemetry({
    instanceId: "schema",
    logger: pino({ level: "silent" }),
    config: { windowMs: 3_600_000, anomalies: { warmupWindows: 2, minCount: 5 } },
    clock,
  });
  open.push(telemetry);
  const manager = new CacheManager({
    ...(withL1 ? { l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }) } : {}),
    ...(withL2 ? { l2: new SharedMemoryLayer(new SharedMemoryStore(clock)) } : {}),
    clock,
    statsSink: telemetry.statsSink,
    loaderFor: (ns) =>
      ns === "failing"
        ? { load: async () => Promise.reject(new Error("origin down")) }
        : {
            load: async (_ns, key) => {
              clock.advance(25); // a load that takes 25 ms of the manual clock
              return { found: true, value: encode(`v:${key}`) };
            },
          },
  });
  telemetry.start(manager);
  for (let i = 0; i < 3; i++) await manager.get("products", "a");
  for (let window = 0; window < 3; window++) {
    await manager.get("failing", `k${window}`).catch(() => {});
    telemetry.tick();
    clock.advance(1000);
  }
  for (let i = 0; i < 30; i++) await manager.get("failing", `burst${i}`).catch(() => {});
  expect(telemetry.tick().length).toBeGreaterThan(0);
  return telemetry.exportNdjson().map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("NDJSON export schema (docs/ndjson.md)", () => {
  const schema = documented();

  it("documents the three line types", () => {
    expect([...schema.keys()]).toEqual(["namespace", "key", "anomaly"]);
  });

  it.each([
    [true, true],
    [true, false],
    [false, true],
  ])("every field written is documented, and every field documented is written (L1 %s, L2 %s)", async (l1, l2) => {
    const records = await exported(l1, l2);
    for (const [type, fields] of schema) {
      const lines = records.filter((r) => r.type === type);
      expect(lines.length, type).toBeGreaterThan(0);
      const known = new Set(fields.map((f) => f.path));
      const written = new Set(lines.flatMap((r) => paths(r)));
      expect(
        [...written].filter((p) => !known.has(p)),
        `${type}: written, not documented`,
      ).toEqual([]);
      const expected = fields.filter(
        (f) => f.only !== "optional" && (f.only !== "L1" || l1) && (f.only !== "L2" || l2),
      );
      expect(
        expected.map((f) => f.path).filter((p) => !written.has(p)),
        `${type}: documented, not written`,
      ).toEqual([]);
    }
  });

  it("carries the per-key counters per layer, and the key's load latency", async () => {
    const records = await exported(true, true);
    const key = records.find((r) => r.type === "key" && r.key === "a");
    expect(key).toMatchObject({
      accesses: 3,
      layers: { l1: { accesses: 3, hits: 2, misses: 1 }, l2: { accesses: 1, hits: 0, misses: 1 } },
      loads: 1,
      loadLatencyMs: { last: 25, mean: 25, max: 25, timedLoads: 1 },
    });
    const layers = key?.layers as { l1: { sketchFrequency: number } } | undefined;
    expect(layers?.l1.sketchFrequency).toBeGreaterThan(0);
  });
});
