import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/engine/clock.js";
import { AnomalyDetector, Ewma } from "../../../src/telemetry/anomaly.js";

describe("Ewma", () => {
  it("follows a constant series with no variance, and weighs new values by alpha", () => {
    const e = new Ewma(0.5);
    for (let i = 0; i < 10; i++) e.update(10);
    expect(e.mean).toBe(10);
    expect(e.variance).toBe(0);
    e.update(20);
    expect(e.mean).toBe(15);
    expect(e.variance).toBeCloseTo(0.5 * (0 + 10 * 5));
  });

  it("scores with a Poisson floor on the deviation", () => {
    const e = new Ewma(0.3);
    for (let i = 0; i < 10; i++) e.update(100);
    // σ floor √100 = 10: 150 is 5 deviations up.
    expect(e.score(150)).toBeCloseTo(5);
  });
});

describe("AnomalyDetector", () => {
  const steady = (detector: AnomalyDetector, clock: ManualClock, name: string, windows: number, value = 100) => {
    for (let i = 0; i < windows; i++) {
      expect(detector.observe(name, value + (i % 2 === 0 ? 5 : -5))).toBeUndefined();
      clock.advance(1000);
    }
  };

  it("flags a spike well above the average, not ordinary noise", () => {
    const clock = new ManualClock(1_000_000);
    const detector = new AnomalyDetector({ clock, threshold: 4, warmupWindows: 5, minCount: 20 });
    steady(detector, clock, "refresh:ns", 20);
    expect(detector.observe("refresh:ns", 118)).toBeUndefined();
    const spike = detector.observe("refresh:ns", 400);
    expect(spike).toBeDefined();
    expect(spike?.score).toBeGreaterThan(4);
    expect(spike?.at).toBe(clock.now());
    expect(spike?.mean).toBeGreaterThan(90);
  });

  it("stays quiet while warming up and below the minimum count", () => {
    const clock = new ManualClock(0);
    const detector = new AnomalyDetector({ clock, warmupWindows: 5, minCount: 20 });
    detector.observe("a", 0);
    expect(detector.observe("a", 1000)).toBeUndefined(); // 2 windows seen: still warming up
    const quiet = new AnomalyDetector({ clock, warmupWindows: 0, minCount: 20 });
    for (let i = 0; i < 10; i++) quiet.observe("b", 0);
    expect(quiet.observe("b", 19)).toBeUndefined(); // 19 deviations up, but under minCount
    expect(quiet.observe("b", 60)).toBeDefined();
  });

  it("lets the caller declare a new series warm (a key new to the hot set)", () => {
    const detector = new AnomalyDetector({ warmupWindows: 5, minCount: 20 });
    expect(detector.observe("key:new", 500, true)?.score).toBe(500);
    expect(detector.observe("key:other", 500, false)).toBeUndefined();
  });

  it("does not flag the same series again within the cooldown, and does after it", () => {
    const clock = new ManualClock(0);
    const detector = new AnomalyDetector({ clock, warmupWindows: 3, cooldownMs: 10_000, alpha: 0.1 });
    steady(detector, clock, "s", 10, 50);
    expect(detector.observe("s", 1000)).toBeDefined();
    clock.advance(1000);
    expect(detector.observe("s", 5000)).toBeUndefined();
    clock.advance(10_000);
    expect(detector.observe("s", 50_000)).toBeDefined();
  });

  it("forgets the least recently observed series beyond maxSeries", () => {
    const detector = new AnomalyDetector({ maxSeries: 100 });
    for (let i = 0; i < 10_000; i++) detector.observe(`k${i}`, 1);
    expect(detector.size).toBe(100);
    expect(detector.samples("k9999")).toBe(1);
    expect(detector.samples("k0")).toBe(0);
  });
});
