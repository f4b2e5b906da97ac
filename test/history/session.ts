// One check of the fleet, end to end: the origin and the fleet started, the seeded workload run
// and judged, a failure shrunk, and everything stopped again whatever happens.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { now } from "./clock.js";
import type { Fleet } from "./fleet.js";
import { type History, historyToJson } from "./history.js";
import { checkHistory, type InvariantName, type Violation } from "./invariants/index.js";
import { HistoryOrigin } from "./origin.js";
import {
  ClientWorkload,
  DEFAULT_KEYS,
  defaultShape,
  type FaultKind,
  type PlannedFault,
  type PlannedOp,
  planFaults,
} from "./plan.js";
import { formatHistory, formatStats, formatViolations } from "./report.js";
import { listSource, type OpSource, type RunResult, runWorkload, warmUp } from "./runner.js";
import type { ServicePauser } from "./services.js";
import { type Subject, shrink } from "./shrink.js";

/** What a check runs. */
/** The write-behind namespace is the main one's name with this suffix. */
const WRITE_BEHIND_SUFFIX = "-wb";

export interface CheckOptions {
  seed: number;
  /** Length of the run (no operation starts after it). */
  minutes: number;
  /** At most this many operations in all (split among the clients); unset: as many as fit. */
  ops?: number | undefined;
  clients: number;
  instances: number;
  /** Size of the key space (default DEFAULT_KEYS): a small one makes operations collide more. */
  keys?: number | undefined;
  /**
   * The write-behind namespace's origin answers without versions (its loads are then versioned
   * by when they began). Off by default: see the README's known limit "loads while the origin is
   * behind", which such runs show (the checker's origin never takes the sink's writes).
   */
  unversionedOrigin?: boolean | undefined;
  faults: readonly FaultKind[];
  propagationBoundMs: number;
  /** Time for shrinking a failure (0: no shrinking). */
  shrinkMinutes: number;
  /** Replay only these planned operations ("<client>.<seq>"), e.g. a shrunk plan. */
  only?: readonly string[] | undefined;
  /** Fault times × this (a shrunk run is shorter; its faults moved in proportion). Default 1. */
  faultScale?: number | undefined;
  /** The invariant to shrink a failure for (default: the first broken in SHRINK_PRIORITY). */
  shrinkTarget?: InvariantName | undefined;
  /** Where the history files go. */
  outDir: string;
  log: (line: string) => void;
  signal?: AbortSignal | undefined;
  /** Starts the fleet for `origin` (the real one: ./fleet.ts's ProcessFleet). */
  startFleet: (origin: HistoryOrigin, size: number) => Promise<{ fleet: Fleet; pauser?: ServicePauser | undefined }>;
}

/** What a check found. */
export interface CheckResult {
  history: History;
  violations: Violation[];
  executed: PlannedOp[];
  /** The smallest failing run found by shrinking (when there was a failure to shrink). */
  shrunk?: { history: History; violations: Violation[]; executed: PlannedOp[]; attempts: number };
  /** The command that replays the (shrunk) failure. */
  replay?: string;
  /** Files written. */
  files: string[];
}

/** The order in which invariants are chosen as the shrinking target (clearest evidence first). */
const SHRINK_PRIORITY: readonly InvariantName[] = [
  "invalidation",
  "set-versions",
  "monotonic-reads",
  "write-behind",
  "policy",
  "single-load",
];

/** A short random tag: isolates this check's namespaces, Redis keys and Kafka topics. */
export function runTag(): string {
  return `h${Math.floor(Math.random() * 36 ** 5)
    .toString(36)
    .padStart(5, "0")}`;
}

/**
 * The command line that replays `options`, restricted to `executed` when given, with faults
 * moved by `faultScale` (undefined: no faults).
 */
export function replayCommand(
  options: CheckOptions,
  executed?: readonly PlannedOp[],
  faultScale: number | undefined = options.faultScale ?? 1,
): string {
  const faults = faultScale !== undefined;
  const parts = [
    "npm run check:history --",
    `--seed ${options.seed}`,
    `--minutes ${options.minutes}`,
    `--clients ${options.clients}`,
    `--instances ${options.instances}`,
    `--faults ${faults && options.faults.length ? options.faults.join(",") : "none"}`,
    `--bound ${options.propagationBoundMs}ms`,
  ];
  if (options.ops !== undefined) parts.push(`--ops ${options.ops}`);
  if (options.keys !== undefined && options.keys !== DEFAULT_KEYS) parts.push(`--keys ${options.keys}`);
  if (options.unversionedOrigin) parts.push("--unversioned-origin");
  if (faults && options.faults.length && faultScale !== 1) parts.push(`--fault-scale ${faultScale.toFixed(4)}`);
  if (executed) parts.push(`--only ${executed.map((op) => op.id).join(",")}`);
  return parts.join(" ");
}

/** The planned operations of a run: per client, a seeded stream (or the `only` ones). */
function clientSources(options: CheckOptions): OpSource[] {
  const shape = defaultShape(options.instances, options.keys);
  const perClient = options.ops === undefined ? undefined : Math.ceil(options.ops / options.clients);
  return Array.from({ length: options.clients }, (_, client) => {
    const workload = new ClientWorkload(options.seed, client, shape);
    if (options.only) {
      const wanted = options.only.filter((id) => id.startsWith(`${client}.`));
      const last = Math.max(-1, ...wanted.map((id) => Number(id.split(".")[1])));
      const keep = new Set(wanted);
      return listSource(workload.take(last + 1).filter((op) => keep.has(op.id)));
    }
    if (perClient !== undefined) return listSource(workload.take(perClient));
    return { next: () => workload.next() };
  });
}

/** Subject ops grouped per client, in order, as sources. */
function sourcesOf(ops: readonly PlannedOp[], clients: number): OpSource[] {
  return Array.from({ length: clients }, (_, client) => listSource(ops.filter((op) => op.client === client)));
}

/** Faults moved in proportion to a shortened run, so they land among the operations left. */
function scaleFaults(faults: readonly PlannedFault[], ratio: number): PlannedFault[] {
  return faults.map((fault) => ({ ...fault, atMs: Math.round(fault.atMs * ratio) }));
}

/**
 * The executed operations up to the last one a violation involves (the earliest such cut over
 * `violations`): what happened later cannot have caused it.
 */
export function prefixUpTo(executed: readonly PlannedOp[], violations: readonly Violation[]): PlannedOp[] {
  const position = new Map(executed.map((op, i) => [op.id, i]));
  let cut = executed.length;
  for (const violation of violations) {
    const last = Math.max(...violation.ops.map((id) => position.get(id) ?? executed.length));
    cut = Math.min(cut, last + 1);
  }
  return executed.slice(0, cut);
}

/** Runs the check described by `options`. */
export async function checkFleet(options: CheckOptions): Promise<CheckResult> {
  const { log } = options;
  const tag = runTag();
  const dir = join(options.outDir, `seed-${options.seed}-${tag}`);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const save = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    files.push(file);
  };
  const origin = new HistoryOrigin(
    25,
    (namespace) => options.unversionedOrigin === true && namespace.endsWith(WRITE_BEHIND_SUFFIX),
  );
  await origin.start();
  let attempt = 0;
  let started: Awaited<ReturnType<CheckOptions["startFleet"]>> | undefined;
  try {
    log(`starting ${options.instances} instances and a write-behind sink (run tag ${tag})`);
    started = await options.startFleet(origin, options.instances);
    const { fleet, pauser } = started;
    await warmUp(fleet, `${tag}-warm-up`);
    const run = (clients: OpSource[], faults: readonly PlannedFault[], stopAfterMs?: number): Promise<RunResult> => {
      const namespace = `${tag}-${attempt++}`;
      return runWorkload(
        { clients, faults, ...(stopAfterMs === undefined ? {} : { stopAfterMs }) },
        {
          seed: options.seed,
          fleet,
          origin,
          pauser,
          namespaces: { main: namespace, writeBehind: `${namespace}${WRITE_BEHIND_SUFFIX}` },
          keys: defaultShape(options.instances, options.keys).keys,
          propagationBoundMs: options.propagationBoundMs,
          log,
          signal: options.signal,
        },
      );
    };
    const runMs = options.minutes * 60_000;
    const faults = scaleFaults(
      planFaults(options.seed, options.faults, runMs, options.instances),
      options.faultScale ?? 1,
    );
    log(`seed ${options.seed}: running ${options.clients} clients for up to ${options.minutes} min`);
    const first = await run(clientSources(options), faults, runMs);
    // Saved before it is judged: a history can always be judged again (--judge).
    save("history.json", historyToJson(first.history));
    const judgeStarted = performance.now();
    const violations = checkHistory(first.history);
    log(`judged ${first.history.ops.length} operations in ${((performance.now() - judgeStarted) / 1000).toFixed(1)} s`);
    log(formatStats(first.history));
    const result: CheckResult = { history: first.history, violations, executed: first.executed, files };
    if (violations.length === 0 || options.signal?.aborted) return result;
    save("violations.txt", formatViolations(violations, 20));
    result.replay = replayCommand(options, options.only ? first.executed : undefined);
    if (options.shrinkMinutes <= 0) return result;

    const target =
      options.shrinkTarget && violations.some((v) => v.invariant === options.shrinkTarget)
        ? options.shrinkTarget
        : (SHRINK_PRIORITY.find((name) => violations.some((v) => v.invariant === name)) as InvariantName);
    log(`shrinking towards a smaller run that still breaks "${target}" (up to ${options.shrinkMinutes} min)`);
    let smallest: (RunResult & { violations: Violation[] }) | undefined;
    /** How much shorter a subject is than the first run: its faults move in proportion. */
    const ratio = (subject: Subject) => subject.ops.length / Math.max(1, first.executed.length);
    const reproduces = async (subject: Subject) => {
      if (options.signal?.aborted) return false;
      const attemptRun = await run(
        sourcesOf(subject.ops, options.clients),
        scaleFaults(subject.faults, ratio(subject)),
      );
      const found = checkHistory(attemptRun.history).filter((v) => v.invariant === target);
      log(
        `  ${subject.ops.length} operations, ${subject.faults.length} faults: ${found.length ? "still fails" : "passes"}`,
      );
      if (found.length > 0 && (!smallest || attemptRun.executed.length <= smallest.executed.length)) {
        smallest = { ...attemptRun, violations: checkHistory(attemptRun.history) };
      }
      return found.length > 0;
    };
    const shrunk = await shrink(
      { ops: first.executed, faults },
      reproduces,
      { deadline: now() + options.shrinkMinutes * 60_000, maxAttempts: 40 },
      [
        {
          ops: prefixUpTo(
            first.executed,
            violations.filter((v) => v.invariant === target),
          ),
          faults,
        },
      ],
    );
    if (smallest) {
      result.shrunk = { ...smallest, attempts: shrunk.attempts };
      const faultScale =
        shrunk.subject.faults.length > 0 ? (options.faultScale ?? 1) * ratio(shrunk.subject) : undefined;
      result.replay = replayCommand(options, smallest.executed, faultScale);
      save("shrunk-history.json", historyToJson(smallest.history));
      save(
        "shrunk.txt",
        `${formatHistory(smallest.history, smallest.violations)}\n\n${formatViolations(smallest.violations, 20)}\n`,
      );
    }
    return result;
  } finally {
    await started?.fleet.close();
    started?.pauser?.resumeAll();
    await origin.close();
  }
}
