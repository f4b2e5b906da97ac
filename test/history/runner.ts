// Runs a workload against a fleet and records its history: several clients, each calling one
// operation after another on the instance its plan names; a fault track beside them; then a
// final sweep (every key read on every instance once B has passed) and a wait for the
// write-behind sink to go quiet.

import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer, type Item, Source, WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { createGrpcJsClient, type GrpcJsClient } from "../support/grpc-client.js";
import { now, sleep, waitFor } from "./clock.js";
import type { Fleet } from "./fleet.js";
import type { FaultWindow, History, Op, OpBase, ReadItem, SetOp } from "./history.js";
import type { HistoryOrigin } from "./origin.js";
import type { Action, NamespaceRole, PlannedFault, PlannedOp } from "./plan.js";
import type { ServicePauser } from "./services.js";
import { decodeValueId, encodeValue, setValueId } from "./values.js";

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
export interface RunContext {
  seed: number;
  fleet: Fleet;
  origin: HistoryOrigin;
  /** Absent: Redis and Kafka faults are skipped. */
  pauser?: ServicePauser | undefined;
  namespaces: Record<NamespaceRole, string>;
  /** All the keys of the workload (read by the final sweep). */
  keys: readonly string[];
  propagationBoundMs: number;
  /** Deadline of every call. */
  callTimeoutMs?: number;
  /** Longest wait for the write-behind sink to deliver once the workload is over. */
  quiescenceTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Aborting stops the clients early (Ctrl-C); the run still ends cleanly. */
  signal?: AbortSignal | undefined;
}

/** What a run produced. */
export interface RunResult {
  history: History;
  /** The planned operations the clients executed, in each client's order. */
  executed: PlannedOp[];
}

const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** The gRPC code name of a code number. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `CODE_${code}`;
}

/** grpc-js reconnects quickly, so a restarted instance is called again soon after it is up. */
const CHANNEL_OPTIONS = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 500,
  "grpc.min_reconnect_backoff_ms": 100,
};

interface Stubs {
  cache: GrpcJsClient<typeof CacheService>;
  admin: GrpcJsClient<typeof AdminService>;
}

/** Executes operations and records them. */
class Recorder {
  readonly ops: Op[] = [];
  readonly executed: PlannedOp[] = [];
  private readonly stubs: Stubs[];

  constructor(private readonly context: RunContext) {
    this.stubs = context.fleet.members.map((member) => ({
      cache: createGrpcJsClient(CacheService, member.grpcAddress, CHANNEL_OPTIONS),
      admin: createGrpcJsClient(AdminService, member.grpcAddress, CHANNEL_OPTIONS),
    }));
  }

  close(): void {
    for (const stub of this.stubs) {
      stub.cache.close();
      stub.admin.close();
    }
  }

  /** Runs one planned operation (a pause only waits) and records what it did. */
  async execute(planned: PlannedOp): Promise<void> {
    this.executed.push(planned);
    const { action } = planned;
    if (action.kind === "pause") return sleep(action.ms, this.context.signal);
    if (action.kind === "changeOrigin") {
      this.context.origin.change(this.context.namespaces.main, action.key, planned.id);
      const target = { keys: [action.key], tags: [] };
      return this.call(planned.id, String(planned.client), planned.instance, { kind: "invalidate", target });
    }
    return this.call(planned.id, String(planned.client), planned.instance, action);
  }

  /** Calls `action` on instance `instance` and records the operation. */
  async call(
    id: string,
    client: string,
    instance: number,
    action: Exclude<Action, { kind: "pause" | "changeOrigin" }>,
  ) {
    const { namespaces } = this.context;
    const stubs = this.stubs[instance] as Stubs;
    const member = this.context.fleet.members[instance];
    const namespace =
      "namespace" in action
        ? namespaces[action.namespace]
        : action.kind === "writeBehindSet"
          ? namespaces.writeBehind
          : namespaces.main;
    const base: OpBase = {
      id,
      client,
      instance: member?.instanceId ?? `#${instance}`,
      namespace,
      invokedAt: 0,
      completedAt: 0,
      status: "OK",
    };
    const options = { timeoutMs: this.context.callTimeoutMs ?? 8_000 };
    let op: Op;
    switch (action.kind) {
      case "get":
        op = { ...base, kind: "get", key: action.key, bypassL1: action.bypassL1 };
        break;
      case "bulkGet":
        op = { ...base, kind: "bulkGet", keys: action.keys, items: [] };
        break;
      case "set":
      case "writeBehindSet":
        op = {
          ...base,
          kind: "set",
          key: action.key,
          valueId: setValueId(id),
          tags: action.tags,
          writeMode: action.kind === "writeBehindSet" ? "write-behind" : "cache-only",
          ...(action.kind === "set" && action.version !== undefined
            ? { requestedVersion: BigInt(action.version) }
            : {}),
          ...(action.kind === "set" && action.ttlMs !== undefined ? { ttlMs: action.ttlMs } : {}),
        };
        break;
      case "invalidate":
        op = {
          ...base,
          kind: "invalidate",
          keys: action.target.keys,
          tags: action.target.tags,
          prefix: action.target.prefix,
        };
        break;
      case "updatePolicy":
        op = { ...base, kind: "updatePolicy", l1TtlSeconds: action.l1TtlSeconds };
        break;
      case "getPolicy":
        op = { ...base, kind: "getPolicy" };
        break;
    }
    op.invokedAt = now();
    try {
      await this.send(op, stubs, options);
    } catch (error) {
      const failure = ConnectError.from(error);
      op.status = codeName(failure.code);
      op.message = failure.rawMessage;
    }
    op.completedAt = now();
    this.ops.push(op);
  }

  /** Makes the call for `op` and fills in its answer. */
  private async send(op: Op, { cache, admin }: Stubs, options: { timeoutMs: number }): Promise<void> {
    switch (op.kind) {
      case "get": {
        const answer = await cache.get(
          { namespace: op.namespace, key: op.key, options: op.bypassL1 ? { bypassLayers: [CacheLayer.L1] } : {} },
          options,
        );
        op.item = readItem(op.key, answer.item);
        return;
      }
      case "bulkGet": {
        const answer = await cache.bulkGet({ namespace: op.namespace, keys: op.keys }, options);
        op.items = answer.results.map((result) =>
          result.outcome.case === "error"
            ? {
                key: result.key,
                status: codeName(result.outcome.value.code),
                found: false,
                version: 0n,
                source: "",
                stale: false,
              }
            : readItem(result.key, result.outcome.value),
        );
        return;
      }
      case "set": {
        const answer = await cache.set(
          {
            namespace: op.namespace,
            key: op.key,
            value: encodeValue(op.valueId, op.key),
            tags: op.tags,
            version: op.requestedVersion ?? 0n,
            ...(op.ttlMs === undefined ? {} : { ttl: durationFromMs(op.ttlMs) }),
            writeMode: op.writeMode === "write-behind" ? WriteMode.WRITE_BEHIND : WriteMode.UNSPECIFIED,
          },
          options,
        );
        op.version = answer.version;
        op.applied = answer.applied;
        return;
      }
      case "invalidate": {
        const answer = await cache.invalidate(
          {
            namespace: op.namespace,
            keys: op.keys,
            tags: op.tags,
            ...(op.prefix === undefined ? {} : { prefix: op.prefix }),
          },
          options,
        );
        op.published = answer.published;
        return;
      }
      case "updatePolicy":
        await admin.updatePolicy(
          {
            policy: { namespace: op.namespace, l1: { ttl: durationFromMs(op.l1TtlSeconds * 1000) } },
            updateMask: { paths: ["l1.ttl"] },
          },
          options,
        );
        return;
      case "getPolicy": {
        const answer = await admin.getPolicy({ namespace: op.namespace }, options);
        const ttl = answer.policy?.l1?.ttl;
        if (ttl) op.l1TtlSeconds = durationMs(ttl) / 1000;
        return;
      }
    }
  }
}

function readItem(key: string, item: Item | undefined): ReadItem {
  if (!item?.found) return { key, status: "OK", found: false, version: 0n, source: "", stale: false };
  return {
    key,
    status: "OK",
    found: true,
    valueId: decodeValueId(item.value),
    version: item.version,
    source: `SOURCE_${Source[item.source] ?? item.source}`,
    stale: item.stale,
  };
}

/** Runs the fault track: each fault at its time, until the clients are done. */
async function runFaults(
  faults: readonly PlannedFault[],
  context: RunContext,
  startedAt: number,
  clientsDone: AbortSignal,
  windows: FaultWindow[],
): Promise<void> {
  const { fleet, pauser, log } = context;
  for (const fault of faults) {
    await sleep(startedAt + fault.atMs - now(), clientsDone);
    if (clientsDone.aborted) return;
    if (fault.kind === "kill") {
      const member = fleet.members[fault.instance];
      if (!fleet.kill || !fleet.restart || !member) {
        log?.("fault skipped: this fleet cannot kill instances");
        continue;
      }
      const window: FaultWindow = { kind: "instance-down", instance: member.instanceId, startedAt: now(), endedAt: 0 };
      windows.push(window);
      log?.(`fault: SIGKILL ${member.instanceId}, restart after ${fault.durationMs} ms`);
      try {
        await fleet.kill(fault.instance);
        await sleep(fault.durationMs);
        await fleet.restart(fault.instance);
      } finally {
        window.endedAt = now();
      }
      log?.(`fault over: ${member.instanceId} ready again after ${Math.round(window.endedAt - window.startedAt)} ms`);
      continue;
    }
    if (!pauser) {
      log?.(`fault skipped: no ${fault.kind} to pause`);
      continue;
    }
    const window: FaultWindow = { kind: `${fault.kind}-paused`, startedAt: now(), endedAt: 0 };
    windows.push(window);
    log?.(`fault: ${fault.kind} paused (SIGSTOP) for ${fault.durationMs} ms`);
    try {
      await pauser.pause(fault.kind);
      await sleep(fault.durationMs);
    } finally {
      pauser.resume(fault.kind);
      window.endedAt = now();
    }
    log?.(`fault over: ${fault.kind} resumed`);
  }
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
      const cache = createGrpcJsClient(CacheService, member.grpcAddress, CHANNEL_OPTIONS);
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
