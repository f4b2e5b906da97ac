// What a run records: every client operation with its interval on the checker's clock, what
// the origin saw (versions, loads, writes) and when faults were in force. The invariants
// (./invariants) are pure functions of this record.

/** How an operation ended: "OK" or the gRPC code's name ("UNAVAILABLE", "DEADLINE_EXCEEDED" …). */
export type Status = string;

/** What every operation records. Times are ms on the checker's monotonic clock (./clock.ts). */
export interface OpBase {
  /** Unique in the run: "<client>.<seq>", e.g. "2.17"; the final sweep's are "sweep.<n>". */
  id: string;
  client: string;
  /** The instanceId the call went to. */
  instance: string;
  namespace: string;
  /** Just before the call was made. */
  invokedAt: number;
  /** When its answer (or failure) arrived. */
  completedAt: number;
  status: Status;
  /** The error message of a failed call. */
  message?: string;
}

/** One key's answer within a Get or BulkGet. */
export interface ReadItem {
  key: string;
  /** "OK", or the per-key error of a BulkGet. */
  status: Status;
  found: boolean;
  /** The id encoded in the value (./values.ts); undefined when not found or not ours. */
  valueId?: string;
  version: bigint;
  /** SOURCE_L1, SOURCE_L2, SOURCE_LOADER, SOURCE_FALLBACK. */
  source: string;
  stale: boolean;
}

export interface GetOp extends OpBase {
  kind: "get";
  key: string;
  /** Options sent (bypassed layers). */
  bypassL1: boolean;
  /** Present when status is OK. */
  item?: ReadItem;
}

export interface BulkGetOp extends OpBase {
  kind: "bulkGet";
  keys: string[];
  /** One per key when status is OK. */
  items: ReadItem[];
}

export interface SetOp extends OpBase {
  kind: "set";
  key: string;
  /** The id encoded in the value written. */
  valueId: string;
  tags: string[];
  /** The explicit version asked for; undefined: the service chooses. */
  requestedVersion?: bigint;
  ttlMs?: number;
  writeMode: "cache-only" | "write-behind";
  /** The answer's version and applied flag (status OK only). */
  version?: bigint;
  applied?: boolean;
}

export interface InvalidateOp extends OpBase {
  kind: "invalidate";
  keys: string[];
  tags: string[];
  /** Set: every key starting with it ("" is the whole namespace). */
  prefix?: string;
  /** The answer's `published`: the InvalidationEvent is in Kafka (status OK only). */
  published?: boolean;
}

export interface UpdatePolicyOp extends OpBase {
  kind: "updatePolicy";
  /** The marker written: the namespace's L1 TTL in seconds. */
  l1TtlSeconds: number;
}

export interface GetPolicyOp extends OpBase {
  kind: "getPolicy";
  /** The L1 TTL the instance reported (status OK only). */
  l1TtlSeconds?: number;
}

/** An operation of the history. */
export type Op = GetOp | BulkGetOp | SetOp | InvalidateOp | UpdatePolicyOp | GetPolicyOp;

/** A version of a key at the origin, current from `at` until the next one's `at`. */
export interface OriginVersion {
  namespace: string;
  key: string;
  /** 1, 2, 3 … per key. */
  generation: number;
  /** The version the origin answers with (X-Version). */
  version: bigint;
  valueId: string;
  tags: string[];
  at: number;
  /** The operation that changed the origin (undefined for generation 1). */
  causedBy?: string;
}

/** One key asked of the origin by an instance (a GET, or one key of a bulk POST). */
export interface OriginLoad {
  namespace: string;
  key: string;
  /** The instanceId that asked (its loader sends it in a header). */
  instance: string;
  via: "get" | "bulk";
  startedAt: number;
  /** When the answer was sent, or the connection closed. */
  endedAt: number;
  generation: number;
}

/** A write the origin's writer endpoint received (from the write-behind sink). */
export interface WriterWrite {
  namespace: string;
  key: string;
  valueId?: string;
  version: bigint;
  at: number;
  /** Who sent it (the sink's instanceId). */
  instance: string;
}

/** A fault while it was in force. */
export interface FaultWindow {
  kind: "redis-paused" | "kafka-paused" | "instance-down";
  /** For instance-down: the instanceId. */
  instance?: string;
  startedAt: number;
  /** When the fault ended (resumed, or the restarted instance was ready again). */
  endedAt: number;
}

/** Everything a run recorded. */
export interface History {
  seed: number;
  /** B: the bound within which invalidations and policy changes reach every instance. */
  propagationBoundMs: number;
  instances: string[];
  namespaces: { main: string; writeBehind: string };
  startedAt: number;
  endedAt: number;
  ops: Op[];
  origin: { versions: OriginVersion[]; loads: OriginLoad[]; writes: WriterWrite[] };
  faults: FaultWindow[];
}

/** An empty history to fill (tests build hand-made ones from it). */
export function emptyHistory(overrides: Partial<History> = {}): History {
  return {
    seed: 0,
    propagationBoundMs: 2000,
    instances: [],
    namespaces: { main: "main", writeBehind: "wb" },
    startedAt: 0,
    endedAt: 0,
    ops: [],
    origin: { versions: [], loads: [], writes: [] },
    faults: [],
    ...overrides,
  };
}

/** Every read answer of the history with the operation it belongs to. */
export function readItems(history: History): { op: GetOp | BulkGetOp; item: ReadItem }[] {
  const out: { op: GetOp | BulkGetOp; item: ReadItem }[] = [];
  for (const op of history.ops) {
    if (op.kind === "get" && op.item) out.push({ op, item: op.item });
    else if (op.kind === "bulkGet") for (const item of op.items) out.push({ op, item });
  }
  return out;
}

/** JSON of a history (bigints as decimal strings). */
export function historyToJson(history: History): string {
  return JSON.stringify(history, (_name, value) => (typeof value === "bigint" ? value.toString() : value), 1);
}

/** Fields of a history that hold bigints (written as decimal strings by historyToJson). */
const BIGINT_FIELDS = new Set(["version", "requestedVersion"]);

/** A history read back from historyToJson's output. */
export function historyFromJson(json: string): History {
  return JSON.parse(json, (name, value) =>
    BIGINT_FIELDS.has(name) && typeof value === "string" ? BigInt(value) : value,
  ) as History;
}
