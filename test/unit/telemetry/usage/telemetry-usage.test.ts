// The usage analysis wired into the telemetry: fed by the stats sink on the read path, read back
// through keyStats (Inspect) and advise (Advise), with telemetry.usage settings in force.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../src/config/config.js";
import { CacheManager } from "../../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../../src/engine/clock.js";
import { MemoryLayer } from "../../../../src/layers/memory-layer.js";
import { createTelemetry, type Telemetry, type TelemetrySettings } from "../../../../src/telemetry/telemetry.js";

let open: Telemetry[] = [];
afterEach(async () => {
  for (const t of open) await t.close();
  open = [];
});

function setup(config: TelemetrySettings) {
  const clock = new ManualClock(1_700_000_000_000);
  const telemetry = createTelemetry({ instanceId: "unit", logger: pino({ level: "silent" }), config, clock });
  open.push(telemetry);
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
    clock,
    statsSink: telemetry.statsSink,
    loaderFor: () => ({ load: async () => ({ found: true, value: new Uint8Array([1]) }) }),
  });
  telemetry.start(manager);
  /** `count` reads of a key, `every` ms apart. */
  const reads = async (key: string, count: number, every: number) => {
    for (let i = 0; i < count; i++) {
      await manager.get("ns", key);
      clock.advance(every);
    }
  };
  return { telemetry, reads };
}

describe("usage analysis in the telemetry", () => {
  it("samples a key outside the hash sample once the top-K is sure it is hot", async () => {
    const { telemetry, reads } = setup({ usage: { sampleOneIn: 2 ** 31 - 1 } });
    await reads("hot", 10, 1000);
    await reads("cold", 1, 1000);
    // Sampled from its 8th certain access on: the 8th, 9th and 10th reads.
    expect(telemetry.keyStats("ns", "hot")?.usage?.evidence.arrivals).toBe(3);
    expect(telemetry.keyStats("ns", "cold")?.usage).toBeUndefined();
  });

  it("classifies and advises through keyStats and advise, clamped to maxTtlMs", async () => {
    const { telemetry, reads } = setup({ usage: { sampleOneIn: 1, maxTtlMs: 10_000 } });
    for (let i = 0; i < 12; i++) {
      await reads("feed:1", 1, 10_000);
      await reads("feed:2", 1, 10_000);
    }
    const usage = telemetry.keyStats("ns", "feed:1")?.usage;
    expect(usage?.pattern).toBe("regular");
    expect(usage?.evidence.periodMs).toBe(20_000);
    expect(usage?.advice).toMatchObject({ ttlMs: 10_000, clamped: true, refresh: "ahead" });
    const advice = telemetry.advise("ns");
    expect(advice.sampledKeys).toBe(2);
    expect(advice.families).toMatchObject([{ family: "feed:*", pattern: "regular", keys: 2 }]);
    expect(advice.rules).toMatchObject([{ match: { kind: "glob", value: "feed:*" }, ttlMs: 10_000 }]);
    expect(advice.context).toMatchObject({ ttlMs: 5 * 60_000, earlyRefresh: false });
  });

  it("samples nothing when switched off", async () => {
    const { telemetry, reads } = setup({ usage: { enabled: false, sampleOneIn: 1 } });
    await reads("feed:1", 12, 20_000);
    expect(telemetry.keyStats("ns", "feed:1")?.usage).toBeUndefined();
    expect(telemetry.advise("ns").sampledKeys).toBe(0);
  });

  it("bounds the keys tracked by maxKeys", async () => {
    const { telemetry, reads } = setup({ usage: { sampleOneIn: 1, maxKeys: 4 } });
    for (let i = 0; i < 20; i++) await reads(`k${i}`, 1, 10);
    expect(telemetry.advise("ns").sampledKeys).toBeLessThanOrEqual(4);
  });
});

describe("telemetry.usage configuration", () => {
  const parse = (usage: Record<string, unknown>) =>
    parseConfig({ log: { level: "silent" }, telemetry: { usage } }, "test");

  it("reads durations and refuses bounds the wrong way round or unknown fields", () => {
    expect(parse({ maxTtlMs: "5m", ringSize: 32, enabled: false }).telemetry?.usage).toMatchObject({
      maxTtlMs: 300_000,
      ringSize: 32,
      enabled: false,
    });
    expect(() => parse({ minTtlMs: "1m", maxTtlMs: "30s" })).toThrow(/minTtlMs must not exceed/);
    expect(() => parse({ ringSize: 2 })).toThrow(/ringSize/);
    expect(() => parse({ sampleRate: 2 })).toThrow(/sampleRate/);
  });
});
