import { describe, expect, it } from "vitest";
import { usageTrace } from "../../../../bench/usage-traces.js";
import { ArrivalSampler, sampled } from "../../../../src/telemetry/usage/arrivals.js";
import { classify, type UsagePattern } from "../../../../src/telemetry/usage/classify.js";

const settings = { hotRatePerSecond: 1 };

/** Per true pattern: how many keys were classified as each pattern. */
function confusion(seed: number, jitter: number): Map<UsagePattern, Map<UsagePattern, number>> {
  const trace = usageTrace({ seed, durationMs: 3_600_000, keysPerPattern: 30, jitter });
  const sampler = new ArrivalSampler({ maxKeys: 4096, ringSize: 64, sampleOneIn: 1 });
  for (const a of trace.arrivals) sampler.observe("ns", a.key, a.at);
  const table = new Map<UsagePattern, Map<UsagePattern, number>>();
  for (const { key, times, arrivals } of sampler.keysOf("ns")) {
    const truth = trace.truth.get(key) as UsagePattern;
    const { pattern } = classify(times, arrivals, trace.durationMs, settings);
    const row = table.get(truth) ?? new Map<UsagePattern, number>();
    row.set(pattern, (row.get(pattern) ?? 0) + 1);
    table.set(truth, row);
  }
  return table;
}

describe("usage classifier on synthetic traces (known truth)", () => {
  it.each([
    [11, 0.1],
    [12, 0.2],
    [13, 0.3],
  ])("classifies at least 90 percent of each pattern (seed %i, jitter ±%s)", (seed, jitter) => {
    const table = confusion(seed, jitter);
    expect([...table.keys()].sort()).toEqual(["bursty", "declining", "one-hit", "regular", "steady-hot"]);
    for (const [truth, row] of table) {
      const total = [...row.values()].reduce((a, b) => a + b, 0);
      expect(total, truth).toBe(30);
      expect((row.get(truth) ?? 0) / total, `${truth}: ${JSON.stringify([...row])}`).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("reads a period, burstiness and a slowdown from the gaps", () => {
    const periodic = Array.from({ length: 20 }, (_, i) => i * 40_000);
    const regular = classify(periodic, 20, 19 * 40_000 + 1_000, settings);
    expect(regular.pattern).toBe("regular");
    expect(regular.evidence.periodMs).toBe(40_000);
    expect(regular.evidence.cv).toBe(0);
    expect(regular.evidence.burstiness).toBe(-1);

    const bursts = [0, 1_000, 2_000, 3_000, 600_000, 601_000, 602_000, 603_000, 1_200_000, 1_201_000, 1_202_000];
    const bursty = classify(bursts, bursts.length, 1_203_000, settings);
    expect(bursty.pattern).toBe("bursty");
    expect(bursty.evidence.burstLengthMs).toBe(3_000);
    expect(bursty.evidence.burstGapMs).toBe(597_000);
    expect(bursty.evidence.burstiness).toBeGreaterThan(0.25);

    const slowing: number[] = [0];
    for (let gap = 1_000; slowing.length < 20; gap *= 1.3) slowing.push((slowing.at(-1) as number) + gap);
    const declining = classify(slowing, 20, (slowing.at(-1) as number) + 1, settings);
    expect(declining.pattern).toBe("declining");
    expect(declining.evidence.trend).toBe(1);
    expect(declining.evidence.slowdown).toBeGreaterThan(2.5);
  });

  it("needs evidence: one read is one-hit, a few are unknown, and silence turns a key declining", () => {
    expect(classify([5], 1, 100_000, settings).pattern).toBe("one-hit");
    expect(classify([0, 10, 20], 3, 30, settings).pattern).toBe("unknown");
    const periodic = Array.from({ length: 10 }, (_, i) => i * 2_000);
    expect(classify(periodic, 10, 19_000, settings).pattern).toBe("regular");
    expect(classify(periodic, 10, 18_000 + 6_001, settings).pattern).toBe("declining");
  });

  it("calls a key steady-hot from the configured rate on", () => {
    const times = Array.from({ length: 30 }, (_, i) => i * 500 + (i % 2) * 50);
    expect(classify(times, 30, 15_000, { hotRatePerSecond: 1 }).pattern).toBe("steady-hot");
    expect(classify(times, 30, 15_000, { hotRatePerSecond: 5 }).pattern).toBe("regular");
  });
});

describe("ArrivalSampler", () => {
  it("keeps at most maxKeys keys and ringSize times per key, newest last", () => {
    const sampler = new ArrivalSampler({ maxKeys: 10, ringSize: 4, sampleOneIn: 1 });
    for (let i = 0; i < 1_000; i++) sampler.observe("ns", `k${i}`, i);
    expect(sampler.size).toBeLessThanOrEqual(10);
    for (let t = 0; t < 9; t++) sampler.observe("ns", "hot", 2_000 + t);
    expect(sampler.arrivalsOf("ns", "hot")).toEqual({ times: [2_005, 2_006, 2_007, 2_008], arrivals: 9 });
    expect(sampler.arrivalsOf("ns", "k0")).toBeUndefined();
  });

  it("samples keys by hash, and keys the caller calls hot", () => {
    let hotNow = false;
    const sampler = new ArrivalSampler({ maxKeys: 10_000, ringSize: 4, sampleOneIn: 8 }, () => hotNow);
    for (let i = 0; i < 8_000; i++) sampler.observe("ns", `k${i}`, i);
    // About one in eight, the same ones every time (a hash, not a coin).
    expect(sampler.size).toBeGreaterThan(800);
    expect(sampler.size).toBeLessThan(1_200);
    const key = Array.from({ length: 100 }, (_, i) => `u${i}`).find((k) => !sampled(k, 8)) ?? "";
    sampler.observe("ns", key, 1);
    expect(sampler.arrivalsOf("ns", key)).toBeUndefined();
    hotNow = true;
    sampler.observe("ns", key, 2);
    expect(sampler.arrivalsOf("ns", key)).toEqual({ times: [2], arrivals: 1 });
  });

  it("refuses settings that would not bound it", () => {
    expect(() => new ArrivalSampler({ maxKeys: 1, ringSize: 4, sampleOneIn: 1 })).toThrow(/maxKeys/);
    expect(() => new ArrivalSampler({ maxKeys: 10, ringSize: 2, sampleOneIn: 1 })).toThrow(/ringSize/);
    expect(() => new ArrivalSampler({ maxKeys: 10, ringSize: 4, sampleOneIn: 0 })).toThrow(/sampleOneIn/);
  });
});
