// The consistency contract on a real fleet: three `mlcache serve` processes and a write-behind
// sink on the real Redis and Kafka, a minute of seeded random operations from four clients with
// one Redis pause, one Kafka pause and one instance kill, judged by the history checker.
// HISTORY_SEED=N replays a seed; a failure prints the seed, the violations and a replay command
// (`npm run check:history -- …` also shrinks the failure).

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { requireEnv } from "../support/env.js";
import { startProcessFleet } from "./fleet.js";
import { FAULT_KINDS } from "./plan.js";
import { PROJECT_ROOT } from "./project.js";
import { formatStats, formatViolations } from "./report.js";
import { checkFleet } from "./session.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const KAFKA_BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS").split(",");
const SEED = process.env.HISTORY_SEED ? Number(process.env.HISTORY_SEED) : Math.floor(Math.random() * 2 ** 31);
const BOUND_MS = 2000;

describe("the fleet's history", () => {
  beforeAll(() => {
    // The instances run the compiled service.
    execFileSync("npm", ["run", "build", "--silent"], { cwd: PROJECT_ROOT, stdio: "ignore" });
  }, 120_000);

  it(`a minute of random operations with a Redis pause, a Kafka pause and a kill breaks no invariant (seed ${SEED})`, async () => {
    const outDir = join(PROJECT_ROOT, ".cache", "history");
    const result = await checkFleet({
      seed: SEED,
      minutes: 1,
      clients: 4,
      instances: 3,
      faults: FAULT_KINDS,
      propagationBoundMs: BOUND_MS,
      shrinkMinutes: 0,
      outDir,
      log: (line) => process.stderr.write(`[history] ${line}\n`),
      startFleet: (origin, size) =>
        startProcessFleet(origin, size, {
          redisUrl: REDIS_URL,
          kafkaBrokers: KAFKA_BROKERS,
          propagationBoundMs: BOUND_MS,
          dir: join(outDir, "fleets"),
          pausable: true,
        }),
    });
    expect(result.history.faults.map((f) => f.kind).sort()).toEqual(["instance-down", "kafka-paused", "redis-paused"]);
    const report = [
      `seed ${SEED}: ${result.violations.length} violations`,
      formatStats(result.history),
      formatViolations(result.violations),
      `replay and shrink: ${result.replay}`,
      `history: ${result.files.join(" ")}`,
    ].join("\n");
    expect(result.violations.length, report).toBe(0);
  }, 300_000);
});
