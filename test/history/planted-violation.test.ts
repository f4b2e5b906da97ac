// The whole checker pipeline — seeded workload, recording origin, clients, history, invariants,
// shrinking — against a fleet with a planted bug: fake instances (./fake-fleet.ts) that keep
// the contract, except one that ignores invalidations made on the others. Needs no services.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeFleet } from "./fake-fleet.js";
import { formatViolations } from "./report.js";
import { checkFleet } from "./session.js";

describe("a planted violation", () => {
  it("an instance that ignores other instances' invalidations is reported, shrunk, and only it is blamed", async () => {
    const result = await checkFleet({
      seed: 7,
      minutes: 0.5,
      ops: 300,
      clients: 4,
      instances: 3,
      faults: [],
      propagationBoundMs: 500,
      shrinkMinutes: 0.4,
      outDir: mkdtempSync(join(tmpdir(), "mlcache-history-")),
      log: () => {},
      startFleet: async (origin, size) => ({ fleet: await FakeFleet.start({ size, origin, forgetful: [1] }) }),
    });
    const report = formatViolations(result.violations);
    const invalidation = result.violations.filter((v) => v.invariant === "invalidation");
    expect(invalidation.length, report).toBeGreaterThan(0);
    expect(
      invalidation.every((v) => v.summary.startsWith("fake-1 returned")),
      report,
    ).toBe(true);
    // Whatever else breaks follows from the stale values fake-1 served: every violation involves it.
    const instanceOf = new Map(result.history.ops.map((op) => [op.id, op.instance]));
    for (const violation of result.violations) {
      expect(
        violation.ops.some((id) => instanceOf.get(id) === "fake-1"),
        `${violation.summary}\n${violation.evidence.join("\n")}`,
      ).toBe(true);
    }
    expect(result.replay).toContain("--seed 7");
    expect(result.shrunk, "shrinking found a smaller failing run").toBeDefined();
    expect(result.shrunk?.executed.length).toBeLessThan(result.executed.length);
    expect(result.shrunk?.violations.some((v) => v.invariant === "invalidation")).toBe(true);
  }, 120_000);
});
