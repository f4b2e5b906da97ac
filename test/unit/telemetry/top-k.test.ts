import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TopK } from "../../../src/telemetry/top-k.js";

describe("TopK (Space-Saving)", () => {
  it("counts exactly while the distinct keys fit", () => {
    const top = new TopK(8);
    for (const [key, times] of [
      ["a", 5],
      ["b", 3],
      ["c", 9],
    ] as const) {
      for (let i = 0; i < times; i++) top.add(key);
    }
    expect(top.top(2).map((k) => [k.key, k.count, k.error])).toEqual([
      ["c", 9, 0],
      ["a", 5, 0],
    ]);
    expect(top.estimate("b")).toBe(3);
    expect(top.estimate("zzz")).toBe(0);
  });

  it("never holds more than its capacity, however many distinct keys pass", () => {
    const top = new TopK(16);
    for (let i = 0; i < 100_000; i++) top.add(`k${i}`);
    expect(top.size).toBe(16);
    expect(top.entries()).toHaveLength(16);
  });

  it("keeps every heavy hitter under a flood of one-off keys, with bounded over-estimates", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        // mulberry32: a small, well-mixed PRNG, so a failing seed replays.
        let state = seed;
        const random = () => {
          state = (state + 0x6d2b79f5) | 0;
          let t = Math.imul(state ^ (state >>> 15), 1 | state);
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
        };
        const capacity = 32;
        const top = new TopK(capacity);
        const truth = new Map<string, number>();
        let total = 0;
        for (let i = 0; i < 5_000; i++) {
          // A fifth of the traffic on three keys, the rest on fresh keys.
          const key = random() < 0.2 ? `hot${Math.floor(random() * 3)}` : `cold${i}`;
          top.add(key);
          truth.set(key, (truth.get(key) ?? 0) + 1);
          total++;
        }
        for (const [key, count] of truth) {
          if (count > total / capacity) expect(top.estimate(key)).toBeGreaterThanOrEqual(count);
        }
        for (const k of top.entries()) {
          const real = truth.get(k.key) ?? 0;
          expect(k.count).toBeGreaterThanOrEqual(real);
          expect(k.count - k.error).toBeLessThanOrEqual(real);
        }
        // A newcomer's estimate is at most total/capacity + 1, so keys clearly above that rank first.
        const hot = ["hot0", "hot1", "hot2"];
        if (hot.every((k) => (truth.get(k) ?? 0) > total / capacity + 1)) {
          expect(
            top
              .top(3)
              .map((k) => k.key)
              .sort(),
          ).toEqual(hot);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("counts per window without inherited error, and decays at the end of a window", () => {
    const top = new TopK(2);
    for (let i = 0; i < 10; i++) top.add("a");
    top.add("b");
    top.endWindow(0.5);
    expect(top.estimate("a")).toBe(5);
    expect(top.entries().every((k) => k.windowCount === 0)).toBe(true);
    // "c" takes over "b"'s slot (count 0.5) and is counted from there.
    for (let i = 0; i < 4; i++) top.add("c");
    const c = top.entries().find((k) => k.key === "c");
    expect(c).toMatchObject({ count: 4.5, error: 0.5, windowCount: 4 });
    expect(top.estimate("b")).toBe(0);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new TopK(0)).toThrow(RangeError);
  });
});
