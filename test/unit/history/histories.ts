// Builders for hand-made histories: each call appends one operation or origin event.

import type {
  BulkGetOp,
  GetOp,
  GetPolicyOp,
  History,
  InvalidateOp,
  OriginLoad,
  OriginVersion,
  SetOp,
  UpdatePolicyOp,
} from "../../history/history.js";
import { emptyHistory } from "../../history/history.js";
import { categoryTag } from "../../history/keys.js";
import { ORIGIN_VERSION_STEP, originValueId, setValueId } from "../../history/values.js";

/** [invoked, completed] in ms since the run started. */
export type Interval = [number, number];

const NS = "main";

/** A history under construction, B = 2000 ms, instances i0, i1, i2. */
export class HistoryBuilder {
  readonly history: History = emptyHistory({ instances: ["i0", "i1", "i2"], propagationBoundMs: 2000 });
  private seq = 0;

  private base(instance: string, [invokedAt, completedAt]: Interval, status = "OK") {
    return { id: `1.${this.seq++}`, client: "1", instance, namespace: NS, invokedAt, completedAt, status };
  }

  /** An origin generation of `key` current from `at` (generation 1 usually at 0). */
  originVersion(key: string, generation: number, at: number): OriginVersion {
    const version: OriginVersion = {
      namespace: NS,
      key,
      generation,
      version: BigInt(generation) * ORIGIN_VERSION_STEP,
      valueId: originValueId(NS, key, generation),
      tags: [categoryTag(key)],
      at,
    };
    this.history.origin.versions.push(version);
    return version;
  }

  set(
    instance: string,
    key: string,
    when: Interval,
    answer: { version: bigint; applied?: boolean; status?: string },
    options: Partial<Pick<SetOp, "tags" | "requestedVersion" | "ttlMs" | "writeMode">> = {},
  ): SetOp {
    const base = this.base(instance, when, answer.status);
    const op: SetOp = {
      ...base,
      kind: "set",
      key,
      valueId: setValueId(base.id),
      tags: options.tags ?? [],
      requestedVersion: options.requestedVersion,
      ttlMs: options.ttlMs,
      writeMode: options.writeMode ?? "cache-only",
      ...(base.status === "OK" ? { version: answer.version, applied: answer.applied ?? true } : {}),
    };
    this.history.ops.push(op);
    return op;
  }

  /** A Get answered with `valueId` at `version` (undefined: not found). */
  get(instance: string, key: string, when: Interval, valueId?: string, version = 0n, source = "SOURCE_L1"): GetOp {
    const op: GetOp = {
      ...this.base(instance, when),
      kind: "get",
      key,
      bypassL1: false,
      item: { key, status: "OK", found: valueId !== undefined, valueId, version, source, stale: false },
    };
    this.history.ops.push(op);
    return op;
  }

  bulkGet(instance: string, when: Interval, answers: { key: string; valueId: string; version: bigint }[]): BulkGetOp {
    const op: BulkGetOp = {
      ...this.base(instance, when),
      kind: "bulkGet",
      keys: answers.map((a) => a.key),
      items: answers.map((a) => ({ ...a, status: "OK", found: true, source: "SOURCE_L2", stale: false })),
    };
    this.history.ops.push(op);
    return op;
  }

  invalidate(
    instance: string,
    when: Interval,
    target: { keys?: string[]; tags?: string[]; prefix?: string },
    status = "OK",
  ): InvalidateOp {
    const op: InvalidateOp = {
      ...this.base(instance, when, status),
      kind: "invalidate",
      keys: target.keys ?? [],
      tags: target.tags ?? [],
      prefix: target.prefix,
    };
    this.history.ops.push(op);
    return op;
  }

  updatePolicy(instance: string, when: Interval, l1TtlSeconds: number, status = "OK"): UpdatePolicyOp {
    const op: UpdatePolicyOp = { ...this.base(instance, when, status), kind: "updatePolicy", l1TtlSeconds };
    this.history.ops.push(op);
    return op;
  }

  getPolicy(instance: string, when: Interval, l1TtlSeconds: number): GetPolicyOp {
    const op: GetPolicyOp = { ...this.base(instance, when), kind: "getPolicy", l1TtlSeconds };
    this.history.ops.push(op);
    return op;
  }

  load(instance: string, key: string, [startedAt, endedAt]: Interval, generation = 1): OriginLoad {
    const load: OriginLoad = { namespace: NS, key, instance, via: "get", startedAt, endedAt, generation };
    this.history.origin.loads.push(load);
    return load;
  }

  writerReceived(set: SetOp, at: number): void {
    this.history.origin.writes.push({
      namespace: NS,
      key: set.key,
      valueId: set.valueId,
      version: set.version ?? 0n,
      at,
      instance: "sink",
    });
  }

  redisPaused(from: number, to: number): void {
    this.history.faults.push({ kind: "redis-paused", startedAt: from, endedAt: to });
  }
}
