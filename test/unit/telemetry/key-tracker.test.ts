import { describe, expect, it } from "vitest";
import { KeyTracker } from "../../../src/telemetry/key-tracker.js";

describe("KeyTracker", () => {
  it("keeps at most its capacity, forgetting keys not touched for a generation", () => {
    const keys = new KeyTracker(4); // generations of 2
    keys.touch("ns", "a").l1Hits++;
    keys.touch("ns", "b").l1Hits++;
    keys.touch("ns", "c").l1Hits++; // {a, b} become the previous generation
    keys.touch("ns", "a").l1Hits++; // a moves up, keeping its counts
    keys.touch("ns", "d"); // {c, a} become previous: b is dropped
    expect(keys.size).toBeLessThanOrEqual(4);
    expect(keys.get("ns", "b")).toBeUndefined();
    expect(keys.get("ns", "a")?.l1Hits).toBe(2);
    expect(
      keys
        .list()
        .map((r) => r.key)
        .sort(),
    ).toEqual(["a", "c", "d"]);
  });

  it("keeps a key touched often whatever else passes", () => {
    const keys = new KeyTracker(100);
    for (let i = 0; i < 100_000; i++) {
      keys.touch("ns", "hot").l1Hits++;
      keys.touch("ns", `cold${i}`);
      expect(keys.size).toBeLessThanOrEqual(100);
    }
    expect(keys.get("ns", "hot")?.l1Hits).toBe(100_000);
  });

  it("stays bounded under a million distinct keys", () => {
    const keys = new KeyTracker(1000);
    for (let i = 0; i < 1_000_000; i++) keys.touch(`ns${i % 7}`, `k${i}`).l1Misses++;
    expect(keys.size).toBeLessThanOrEqual(1000);
    expect(keys.size).toBeGreaterThanOrEqual(500);
  });

  it("tells namespaces apart, even when a key contains the separator", () => {
    const keys = new KeyTracker(10);
    keys.touch("a", "x").l2Hits++;
    keys.touch("b", "x").l2Misses++;
    keys.touch("a", "x\u0000y").loads++;
    expect(keys.get("a", "x")).toMatchObject({ l2Hits: 1, l2Misses: 0 });
    expect(keys.get("b", "x")).toMatchObject({ l2Hits: 0, l2Misses: 1 });
    expect(keys.list("a")).toHaveLength(2);
  });
});
