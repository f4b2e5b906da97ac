import { describe, expect, it } from "vitest";
import { KeyTracker } from "../../../src/telemetry/key-tracker.js";

describe("KeyTracker", () => {
  it("keeps at most its capacity, forgetting the least recently touched key", () => {
    const keys = new KeyTracker(3);
    keys.touch("ns", "a").l1Hits++;
    keys.touch("ns", "b").l1Hits++;
    keys.touch("ns", "c").l1Hits++;
    keys.touch("ns", "a").l1Hits++; // a is recent again: b is now the oldest
    keys.touch("ns", "d");
    expect(keys.size).toBe(3);
    expect(keys.get("ns", "b")).toBeUndefined();
    expect(keys.get("ns", "a")?.l1Hits).toBe(2);
    expect(keys.list().map((r) => r.key)).toEqual(["d", "a", "c"]);
  });

  it("stays bounded under a million distinct keys", () => {
    const keys = new KeyTracker(1000);
    for (let i = 0; i < 1_000_000; i++) keys.touch(`ns${i % 7}`, `k${i}`).l1Misses++;
    expect(keys.size).toBe(1000);
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
