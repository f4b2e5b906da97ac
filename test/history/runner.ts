// Runs a workload against a fleet and records its history: several clients, each calling one
// operation after another on the instance its plan names (./recorder.ts); a fault track beside
// them (./fault-track.ts); then a final sweep (every key read on every instance once B has
// passed) and a wait for the write-behind sink to go quiet.

import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { createGrpcJsClient } from "../support/grpc-client.js";
import { now, sleep, waitFor } from "./clock.js";
import { runFaults } from "./fault-track.js";
import type { Fleet } from "./fleet.js";
import type { FaultWindow, History, SetOp } from "./history.js";
import type { PlannedFault, PlannedOp } from "./plan.js";
import { CHANNEL_OPTIONS, Recorder, type RecorderContext } from "./recorder.js";
import type { ServicePauser } from "./services.js";

/** Where one client's operations come from; undefined when it has no more. */
export interface OpSource {
  next(): PlannedOp | undefined;
}

/** An OpSource over a fixed list (a replayed or shrunk plan). */
export function listSource(ops: readonly PlannedOp[]): OpSource {
  let i = 0;
  return { next: () => ops[i++] };
}

/** What one run does. */
export interface RunSpec {
  clients: OpSource[];
  faults: readonly PlannedFault[];
  /** No operation starts after this many ms (a time-boxed run); unset: until the sources end. */
  stopAfterMs?: number;
}

/** What a run works with. */
export interface RunContext extends RecorderContext {
  seed: number;
  /** Absent: Redis and Kafka faults are skipped. */
  pauser?: ServicePauser | undefined;
  /** All the keys of the workload (read by the final sweep). */
  keys: readonly string[];
  propagationBoundMs: number;
  /** Longest wait for the write-behind sink to deliver once the workload is over. */
  quiescenceTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a run produced. */
export interface RunResult {
  history: History;
  /** The planned operations the clients executed, in each client's order. */
  executed: PlannedOp[];
}

/** Waits until every acknowledged write-behind Set reached the writer, or it stayed quiet a while. */
async function awaitQuiescence(recorder: Recorder, context: RunContext): Promise<void> {
  const { origin } = context;
  const acknowledged = recorder.ops.filter(
    (op): op is SetOp => op.kind === "set" && op.writeMode === "write-behind" && op.status === "OK",
  );
  let lastCount = -1;
  let quietSince = now();
  await waitFor(
    () => {
      const received = new Set(origin.writes.map((w) => w.valueId));
      if (acknowledged.every((set) => received.has(set.valueId))) return true;
      if (origin.writeCount !== lastCount) {
        lastCount = origin.writeCount;
        quietSince = now();
      }
      return now() - quietSince > 5_000;
    },
    context.quiescenceTimeoutMs ?? 60_000,
    250,
  );
}

/**
 * One Set (cache-only and write-behind) and one Invalidate on every instance, unrecorded: the
 * first calls of a fresh fleet wait for Kafka connections and topics, which is start-up, not
 * the behaviour under test.
 */
export async function warmUp(fleet: Fleet, namespace: string): Promise<void> {
  await Promise.all(
    fleet.members.map(async (member) => {
      const cache = createGrpcJsClient(CacheService, member.grpcAddress, undefined, CHANNEL_OPTIONS);
      const options = { timeoutMs: 30_000 };
      try {
        const value = new TextEncoder().encode("warm-up");
        await cache.set({ namespace, key: "warm-up", value }, options);
        await cache.set({ namespace, key: "warm-up", value, writeMode: WriteMode.WRITE_BEHIND }, options);
        await cache.invalidate({ namespace, keys: ["warm-up"] }, options);
      } catch {
        // Only a warm-up: the run records whatever is still wrong.
      } finally {
        cache.close();
      }
    }),
  );
}

/** Runs `spec` against the fleet and returns what happened. */
export async function runWorkload(spec: RunSpec, context: RunContext): Promise<RunResult> {
  const { fleet, log, namespaces } = context;
  const recorder = new Recorder(context);
  const startedAt = now();
  const faults: FaultWindow[] = [];
  const clientsDone = new AbortController();
  const faultTrack = runFaults(spec.faults, context, startedAt, clientsDone.signal, faults);
  faultTrack.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
  const stopAt = spec.stopAfterMs === undefined ? Number.POSITIVE_INFINITY : startedAt + spec.stopAfterMs;
  const progress = setInterval(() => {
    log?.(`${((now() - startedAt) / 1000).toFixed(0)} s: ${recorder.ops.length} operations`);
  }, 10_000);
  try {
    await Promise.all(
      spec.clients.map(async (source) => {
        for (;;) {
          if (context.signal?.aborted || now() >= stopAt) return;
          const planned = source.next();
          if (!planned) return;
          await sleep(planned.thinkMs, context.signal);
          await recorder.execute(planned);
        }
      }),
    );
    clientsDone.abort();
    await faultTrack;
    // Every instance, once B has passed: what each still serves for every key, and its policy.
    await sleep(context.propagationBoundMs + 500, context.signal);
    let sweep = 0;
    for (let instance = 0; instance < fleet.members.length; instance++) {
      for (const role of ["main", "writeBehind"] as const) {
        await recorder.call(`sweep.${sweep++}`, "sweep", instance, {
          kind: "bulkGet",
          namespace: role,
          keys: [...context.keys],
        });
      }
      await recorder.call(`sweep.${sweep++}`, "sweep", instance, { kind: "getPolicy" });
    }
    await awaitQuiescence(recorder, context);
  } finally {
    clearInterval(progress);
    clientsDone.abort();
    await faultTrack.catch(() => {});
    recorder.close();
  }
  const ours = (item: { namespace: string }) =>
    item.namespace === namespaces.main || item.namespace === namespaces.writeBehind;
  const history: History = {
    seed: context.seed,
    propagationBoundMs: context.propagationBoundMs,
    instances: fleet.members.map((m) => m.instanceId),
    namespaces: { main: namespaces.main, writeBehind: namespaces.writeBehind },
    startedAt,
    endedAt: now(),
    ops: [...recorder.ops].sort((a, b) => a.invokedAt - b.invokedAt),
    origin: {
      versions: context.origin.versions.filter(ours),
      loads: context.origin.loads.filter(ours),
      writes: context.origin.writes.filter(ours),
    },
    faults,
  };
  return { history, executed: recorder.executed };
}
