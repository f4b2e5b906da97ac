// Executes planned operations on the fleet over grpc-js and records each one — request,
// answer or failure, and its interval on the checker's clock — as an operation of the history.

import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer, type Item, Source, WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { createGrpcJsClient, type GrpcJsClient } from "../support/grpc-client.js";
import { now, sleep } from "./clock.js";
import type { Fleet } from "./fleet.js";
import type { Op, OpBase, ReadItem } from "./history.js";
import type { HistoryOrigin } from "./origin.js";
import type { Action, NamespaceRole, PlannedOp } from "./plan.js";
import { decodeValueId, encodeValue, setValueId } from "./values.js";

/** What the recorder calls and changes. */
export interface RecorderContext {
  fleet: Fleet;
  origin: HistoryOrigin;
  namespaces: Record<NamespaceRole, string>;
  /** Deadline of every call. */
  callTimeoutMs?: number;
  /** Aborting cuts pauses short, and stops a run's clients early (Ctrl-C); the run still ends cleanly. */
  signal?: AbortSignal | undefined;
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
export const CHANNEL_OPTIONS = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 500,
  "grpc.min_reconnect_backoff_ms": 100,
};

interface Stubs {
  cache: GrpcJsClient<typeof CacheService>;
  admin: GrpcJsClient<typeof AdminService>;
}

/** Executes operations and records them. */
export class Recorder {
  readonly ops: Op[] = [];
  readonly executed: PlannedOp[] = [];
  private readonly stubs: Stubs[];

  constructor(private readonly context: RecorderContext) {
    this.stubs = context.fleet.members.map((member) => ({
      cache: createGrpcJsClient(CacheService, member.grpcAddress, undefined, CHANNEL_OPTIONS),
      admin: createGrpcJsClient(AdminService, member.grpcAddress, undefined, CHANNEL_OPTIONS),
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
