// The seeded parts of the history checker: the PRNG, the generated workload and faults (one
// seed, one plan), and shrinking (ddmin finds what a failure needs).

import { describe, expect, it } from "vitest";
import { now } from "../../history/clock.js";
import type { Violation } from "../../history/invariants/index.js";
import { ClientWorkload, defaultShape, type PlannedOp, planFaults } from "../../history/plan.js";
import { Random } from "../../history/prng.js";
import { type CheckOptions, prefixUpTo, replayCommand } from "../../history/session.js";
import { ddmin, shrink } from "../../history/shrink.js";

describe("Random", () => {
  it("gives the same sequence for the same seed and label, another for another label", () => {
    const draw = (label: string) => {
      const r = Random.from(42, label);
      return Array.from({ length: 5 }, () => r.int(0, 1_000_000));
    };
    expect(draw("a")).toEqual(draw("a"));
    expect(draw("a")).not.toEqual(draw("b"));
  });

  it("stays within bounds and reaches both ends", () => {
    const r = new Random(1);
    const seen = new Set(Array.from({ length: 2000 }, () => r.int(3, 7)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
    expect(r.sample(["a", "b", "c"], 5).sort()).toEqual(["a", "b", "c"]);
  });
});

describe("the generated workload", () => {
  it("--keys: a smaller key space, and the replay command keeps it", () => {
    const keysOf = (shape: ReturnType<typeof defaultShape>) =>
      new Set(
        new ClientWorkload(4, 1, shape)
          .take(400)
          .flatMap((op) => ("key" in op.action ? [op.action.key] : "keys" in op.action ? op.action.keys : [])),
      );
    expect([...keysOf(defaultShape(3, 3))].sort()).toEqual(["c:0:p:0", "c:1:p:0", "c:2:p:0"]);
    expect(keysOf(defaultShape(3)).size).toBe(30);
    const options: CheckOptions = {
      seed: 4,
      minutes: 1,
      clients: 2,
      instances: 3,
      faults: [],
      propagationBoundMs: 2000,
      shrinkMinutes: 0,
      outDir: "",
      log: () => {},
      startFleet: () => Promise.reject(new Error("not started here")),
    };
    expect(replayCommand({ ...options, keys: 6 })).toContain("--keys 6");
    expect(replayCommand({ ...options, keys: 30 })).not.toContain("--keys");
    expect(replayCommand({ ...options, unversionedOrigin: true })).toContain("--unversioned-origin");
  });

  it("is the same for the same seed, and covers every kind of operation", () => {
    const ops = (seed: number) => new ClientWorkload(seed, 2, defaultShape(3)).take(500);
    expect(ops(9)).toEqual(ops(9));
    expect(ops(9)).not.toEqual(ops(10));
    const kinds = new Set(ops(9).map((op) => op.action.kind));
    expect([...kinds].sort()).toEqual([
      "bulkGet",
      "changeOrigin",
      "get",
      "getPolicy",
      "invalidate",
      "pause",
      "set",
      "updatePolicy",
      "writeBehindSet",
    ]);
    for (const op of ops(9)) {
      expect(op.id).toBe(`2.${op.seq}`);
      expect(op.instance).toBeGreaterThanOrEqual(0);
      expect(op.instance).toBeLessThan(3);
      if (op.action.kind === "set" && op.action.version !== undefined)
        expect(op.action.version).toBeLessThanOrEqual(8000);
    }
  });

  it("plans each fault kind once in a short run, inside the run", () => {
    const faults = planFaults(5, ["redis", "kafka", "kill"], 60_000, 3);
    expect(faults.map((f) => f.kind).sort()).toEqual(["kafka", "kill", "redis"]);
    for (const fault of faults) {
      expect(fault.atMs).toBeGreaterThan(0);
      expect(fault.atMs + fault.durationMs).toBeLessThan(60_000);
    }
    expect(planFaults(5, ["redis", "kafka", "kill"], 60_000, 3)).toEqual(faults);
    expect(planFaults(5, [], 60_000, 3)).toEqual([]);
  });
});

describe("shrinking", () => {
  const budget = () => ({ deadline: now() + 10_000, maxAttempts: 200 });

  it("ddmin finds the two items a failure needs", async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const fails = async (subset: number[]) => subset.includes(7) && subset.includes(31);
    expect(await ddmin(items, fails, budget(), { count: 0 })).toEqual([7, 31]);
  });

  it("keeps a hint that still fails, drops faults, operations and clients the failure does not need", async () => {
    const ops: PlannedOp[] = [0, 1, 2].flatMap((client) => new ClientWorkload(3, client, defaultShape(3)).take(20));
    const needed = new Set(["1.4", "1.12"]);
    const faults = planFaults(3, ["redis"], 60_000, 3);
    const tried: number[] = [];
    const result = await shrink(
      { ops, faults },
      async ({ ops: subset }) => {
        tried.push(subset.length);
        return [...needed].every((id) => subset.some((op) => op.id === id));
      },
      budget(),
      [
        { ops: ops.slice(0, 10), faults },
        { ops: ops.filter((op) => op.client === 1), faults },
      ],
    );
    expect(tried.slice(0, 2)).toEqual([10, 20]); // the first hint fails, the second is kept
    expect(result.subject.faults).toEqual([]);
    expect(result.subject.ops.map((op) => op.id)).toEqual(["1.4", "1.12"]);
  });

  it("stops when the budget is spent", async () => {
    const items = Array.from({ length: 64 }, (_, i) => i);
    const attempts = { count: 0 };
    const found = await ddmin(
      items,
      async (subset) => subset.includes(5),
      { deadline: now() + 10_000, maxAttempts: 3 },
      attempts,
    );
    expect(attempts.count).toBe(3);
    expect(found.length).toBeGreaterThan(1);
  });

  it("cuts a run after the last operation a violation involves", () => {
    const ops = new ClientWorkload(3, 0, defaultShape(3)).take(10);
    const violation = (ids: string[]): Violation => ({ invariant: "policy", summary: "", ops: ids, evidence: [] });
    expect(prefixUpTo(ops, [violation(["0.2", "0.6"]), violation(["0.1", "0.4"])]).map((op) => op.id)).toEqual([
      "0.0",
      "0.1",
      "0.2",
      "0.3",
      "0.4",
    ]);
    expect(prefixUpTo(ops, [violation(["sweep.1"])])).toHaveLength(10);
  });
});
