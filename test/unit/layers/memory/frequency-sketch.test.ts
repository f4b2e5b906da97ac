import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Doorkeeper } from "../../../../src/layers/memory/doorkeeper.js";
import { FrequencySketch, MAX_FREQUENCY } from "../../../../src/layers/memory/frequency-sketch.js";
import { hashKey } from "../../../../src/layers/memory/hash.js";

describe("FrequencySketch", () => {
  it.each([true, false])("never under-estimates before a reset (conservative=%s)", (conservative) => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 2000 }), (keys) => {
        // Sample size large enough that no halving happens during the run.
        const sketch = new FrequencySketch({ maximumSize: 64, sampleSize: 1 << 30, conservative });
        const counts = new Map<number, number>();
        for (const key of keys) {
          sketch.increment(hashKey(String(key)));
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        for (const [key, count] of counts) {
          expect(sketch.frequency(hashKey(String(key)))).toBeGreaterThanOrEqual(Math.min(count, MAX_FREQUENCY));
        }
      }),
    );
  });

  it("saturates at 15", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 15, max: 200 }), (key, times) => {
        const sketch = new FrequencySketch({ maximumSize: 16, sampleSize: 1 << 30 });
        const hash = hashKey(key);
        for (let i = 0; i < times; i++) sketch.increment(hash);
        expect(sketch.frequency(hash)).toBe(MAX_FREQUENCY);
      }),
    );
  });

  it("halving halves every estimate", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 500 }), (keys) => {
        const sketch = new FrequencySketch({ maximumSize: 256, sampleSize: 1 << 30 });
        for (const key of keys) sketch.increment(hashKey(String(key)));
        const before = new Map(keys.map((k) => [k, sketch.frequency(hashKey(String(k)))]));
        sketch.reset();
        for (const [key, frequency] of before) {
          expect(sketch.frequency(hashKey(String(key)))).toBe(frequency >>> 1);
        }
      }),
    );
  });

  it("resets by itself after sampleSize samples and notifies", () => {
    let resets = 0;
    const sketch = new FrequencySketch({ maximumSize: 10, onReset: () => resets++ });
    expect(sketch.sampleSize).toBe(100);
    const hash = hashKey("hot");
    for (let i = 0; i < 99; i++) sketch.increment(hash);
    expect(resets).toBe(0);
    expect(sketch.frequency(hash)).toBe(15);
    sketch.increment(hash);
    expect(resets).toBe(1);
    expect(sketch.frequency(hash)).toBe(7);
    expect(sketch.size).toBeLessThan(100);
  });

  it("keeps unrelated keys near zero", () => {
    const sketch = new FrequencySketch({ maximumSize: 1024, sampleSize: 1 << 30 });
    for (let i = 0; i < 1000; i++) sketch.increment(hashKey(`k${i}`));
    let overestimated = 0;
    for (let i = 0; i < 1000; i++) if (sketch.frequency(hashKey(`absent${i}`)) > 0) overestimated++;
    expect(overestimated).toBeLessThan(50);
  });
});

describe("Doorkeeper", () => {
  it("contains what was put, until cleared", () => {
    const doorkeeper = new Doorkeeper({ expectedInsertions: 100 });
    const hashes = Array.from({ length: 100 }, (_, i) => hashKey(`key${i}`));
    for (const h of hashes) doorkeeper.put(h);
    for (const h of hashes) expect(doorkeeper.contains(h)).toBe(true);
    doorkeeper.clear();
    expect(hashes.filter((h) => doorkeeper.contains(h))).toHaveLength(0);
  });

  it("reports a second put as already present", () => {
    const doorkeeper = new Doorkeeper({ expectedInsertions: 1000, bitsPerKey: 16 });
    const hash = hashKey("x");
    expect(doorkeeper.put(hash)).toBe(false);
    expect(doorkeeper.put(hash)).toBe(true);
  });
});
