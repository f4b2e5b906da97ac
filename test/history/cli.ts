// `npm run check:history -- --seed S --minutes M [--ops N]`: a randomized, seeded check of the
// consistency contract on a real fleet (3 `mlcache serve` processes and a sink, real Redis and
// Kafka). Exit code 0: no violations; 1: violations (printed with the seed, a replay command
// and the shortest failing history found); 2: bad arguments or the fleet could not run.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseDuration } from "../../src/config/units.js";
import { now } from "./clock.js";
import { startProcessFleet } from "./fleet.js";
import { historyFromJson } from "./history.js";
import { checkHistory, INVARIANTS, type InvariantName } from "./invariants/index.js";
import { FAULT_KINDS, type FaultKind } from "./plan.js";
import { PROJECT_ROOT } from "./project.js";
import { formatHistory, formatStats, formatViolations } from "./report.js";
import { type CheckOptions, checkFleet } from "./session.js";

const USAGE = `npm run check:history -- [options]
  --seed N            workload seed (default: random, printed)
  --minutes M         length of the run (default 1)
  --ops N             at most N operations in all (default: as many as fit)
  --clients N         concurrent clients (default 4)
  --instances N       service instances (default 3)
  --keys N            size of the key space (default 30; fewer keys, more collisions)
  --unversioned-origin  the write-behind namespace's origin answers without versions
  --faults LIST       redis,kafka,kill or none (default all three)
  --bound DURATION    propagation bound B the contract promises (default 2s)
  --shrink-minutes M  time to shrink a failure (default 3; 0: none)
  --only IDS          replay only these operations (as printed for a shrunk failure)
  --fault-scale X     fault times × X (as printed for a shrunk failure; default 1)
  --shrink-target INV shrink for this invariant (default: the first broken of invalidation,
                      set-versions, monotonic-reads, write-behind, policy, single-load)
  --out DIR           where histories go (default .cache/history)
  --judge FILE        only judge a saved history.json again (no fleet)`;

interface ServicesModule {
  env(which?: string[]): Record<string, string>;
  up(which?: string[]): Promise<{ env: Record<string, string>; started: string[] }>;
  down(which?: string[]): Promise<void>;
}

type CliOptions = Omit<CheckOptions, "log" | "startFleet" | "signal"> & { judge?: string | undefined };

function parseOptions(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: "string" },
      minutes: { type: "string", default: "1" },
      ops: { type: "string" },
      clients: { type: "string", default: "4" },
      instances: { type: "string", default: "3" },
      keys: { type: "string", default: "30" },
      "unversioned-origin": { type: "boolean", default: false },
      faults: { type: "string", default: FAULT_KINDS.join(",") },
      bound: { type: "string", default: "2s" },
      "shrink-minutes": { type: "string", default: "3" },
      only: { type: "string" },
      "fault-scale": { type: "string", default: "1" },
      "shrink-target": { type: "string" },
      out: { type: "string", default: join(PROJECT_ROOT, ".cache", "history") },
      judge: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const number = (name: string, raw: string, min: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} ${raw}: expected a number ≥ ${min}`);
    return n;
  };
  const faults = values.faults === "none" ? [] : values.faults.split(",").map((f) => f.trim());
  for (const fault of faults) {
    if (!FAULT_KINDS.includes(fault as FaultKind))
      throw new Error(`--faults: unknown fault "${fault}" (redis, kafka, kill or none)`);
  }
  return {
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Math.floor(number("seed", values.seed, 0)),
    minutes: number("minutes", values.minutes, 0.05),
    ops: values.ops === undefined ? undefined : Math.floor(number("ops", values.ops, 1)),
    clients: Math.floor(number("clients", values.clients, 1)),
    instances: Math.floor(number("instances", values.instances, 1)),
    keys: Math.floor(number("keys", values.keys, 3)),
    unversionedOrigin: values["unversioned-origin"],
    faults: faults as FaultKind[],
    propagationBoundMs: parseDuration(values.bound),
    shrinkMinutes: number("shrink-minutes", values["shrink-minutes"], 0),
    only: values.only?.split(",").map((id) => id.trim()),
    faultScale: number("fault-scale", values["fault-scale"], 0),
    shrinkTarget: invariantName(values["shrink-target"]),
    outDir: values.out,
    judge: values.judge,
  };
}

function invariantName(name: string | undefined): InvariantName | undefined {
  if (name === undefined) return undefined;
  if (!(name in INVARIANTS)) throw new Error(`--shrink-target ${name}: one of ${Object.keys(INVARIANTS).join(", ")}`);
  return name as InvariantName;
}

/** Judges a saved history again: the checker's verdict without running anything. */
function judge(file: string): number {
  const history = historyFromJson(readFileSync(file, "utf8"));
  const violations = checkHistory(history);
  process.stdout.write(`${formatStats(history)}\n${formatViolations(violations)}\n`);
  return violations.length === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`check:history: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.judge) return judge(options.judge);
  const log = (line: string) => process.stderr.write(`[history] ${line}\n`);
  const services = (await import(pathToFileURL(join(PROJECT_ROOT, "scripts", "services.mjs")).href)) as ServicesModule;
  let redisUrl = process.env.MLCACHE_REDIS_URL;
  let kafka = process.env.MLCACHE_KAFKA_BROKERS;
  let startedServices: string[] = [];
  if (!redisUrl || !kafka) {
    log("MLCACHE_REDIS_URL / MLCACHE_KAFKA_BROKERS not set: using scripts/services (redis, kafka)");
    const { env, started } = await services.up(["redis", "kafka"]);
    startedServices = started;
    redisUrl = env.MLCACHE_REDIS_URL;
    kafka = env.MLCACHE_KAFKA_BROKERS;
  }
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(130); // exit handlers still kill and resume what we started
    log("interrupted: stopping the run and cleaning up (again to quit at once)");
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const began = now();
  try {
    const result = await checkFleet({
      ...options,
      log,
      signal: interrupt.signal,
      startFleet: (origin, size) =>
        startProcessFleet(origin, size, {
          redisUrl: redisUrl as string,
          kafkaBrokers: (kafka as string).split(","),
          propagationBoundMs: options.propagationBoundMs,
          dir: join(options.outDir, "fleets"),
          pausable: options.faults.some((f) => f === "redis" || f === "kafka"),
        }),
    });
    const minutes = ((now() - began) / 60_000).toFixed(1);
    if (result.violations.length === 0) {
      process.stdout.write(
        `seed ${options.seed}: no violations (${result.history.ops.length} operations, ${minutes} min)\n`,
      );
      return 0;
    }
    const out = [
      `seed ${options.seed}: ${result.violations.length} violations (${minutes} min)`,
      formatViolations(result.violations),
      "",
    ];
    if (result.shrunk) {
      out.push(
        `shortest failing run found (${result.shrunk.executed.length} operations, ${result.shrunk.attempts} shrinking attempts):`,
        formatHistory(result.shrunk.history, result.shrunk.violations),
        formatViolations(result.shrunk.violations),
        "",
      );
    } else {
      out.push(formatHistory(result.history, result.violations), "");
    }
    out.push(
      `replay (same generated operations; which call reaches the fleet first is up to the scheduler):`,
      `  ${result.replay}`,
      `files: ${result.files.join(" ")}`,
    );
    process.stdout.write(`${out.join("\n")}\n`);
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (startedServices.length > 0) await services.down(startedServices);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`check:history: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
