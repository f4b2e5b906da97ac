// Look-ups the invariants share: what each value id is, the invalidations of a namespace, and
// when Redis was out of reach.

import type { FaultWindow, History, InvalidateOp, Op, OriginVersion, SetOp } from "../history.js";
import { targets } from "../keys.js";

/** What the history knows about one value id. */
export interface ValueInfo {
  id: string;
  namespace: string;
  key: string;
  tags: readonly string[];
  /** The Set that wrote it, for values written by the workload. */
  set?: SetOp;
  /** The origin version it is, for values the origin served. */
  origin?: OriginVersion;
  /** When a newer origin version replaced it (origin values; Infinity while current). */
  supersededAt: number;
  /** The earliest time the value may have expired (a Set's explicit TTL); Infinity otherwise. */
  mayExpireAt: number;
}

/** Indexes of a history for the invariants. */
export class HistoryIndex {
  readonly history: History;
  private readonly values = new Map<string, ValueInfo>();
  private readonly ops = new Map<string, Op>();
  private readonly invalidationsByNamespace = new Map<string, InvalidateOp[]>();
  /** Windows in which Redis (the shared L2 and lease store) did not answer. */
  readonly redisOutages: FaultWindow[];

  constructor(history: History) {
    this.history = history;
    for (const op of history.ops) {
      this.ops.set(op.id, op);
      if (op.kind === "set") {
        this.values.set(op.valueId, {
          id: op.valueId,
          namespace: op.namespace,
          key: op.key,
          tags: op.tags,
          set: op,
          supersededAt: Number.POSITIVE_INFINITY,
          mayExpireAt: op.ttlMs === undefined ? Number.POSITIVE_INFINITY : op.invokedAt + op.ttlMs,
        });
      } else if (op.kind === "invalidate") {
        const list = this.invalidationsByNamespace.get(op.namespace) ?? [];
        list.push(op);
        this.invalidationsByNamespace.set(op.namespace, list);
      }
    }
    const byKey = new Map<string, OriginVersion[]>();
    for (const version of history.origin.versions) {
      const id = `${version.namespace}/${version.key}`;
      byKey.set(id, [...(byKey.get(id) ?? []), version]);
    }
    for (const versions of byKey.values()) {
      versions.sort((a, b) => a.generation - b.generation);
      versions.forEach((version, i) => {
        this.values.set(version.valueId, {
          id: version.valueId,
          namespace: version.namespace,
          key: version.key,
          tags: version.tags,
          origin: version,
          supersededAt: versions[i + 1]?.at ?? Number.POSITIVE_INFINITY,
          mayExpireAt: Number.POSITIVE_INFINITY,
        });
      });
    }
    this.redisOutages = history.faults.filter((f) => f.kind === "redis-paused");
  }

  /** The value with this id, when the history wrote or served it. */
  value(id: string | undefined): ValueInfo | undefined {
    return id === undefined ? undefined : this.values.get(id);
  }

  op(id: string): Op | undefined {
    return this.ops.get(id);
  }

  /** Every Invalidate of a namespace, whatever its outcome, in history order. */
  invalidations(namespace: string): readonly InvalidateOp[] {
    return this.invalidationsByNamespace.get(namespace) ?? [];
  }

  /**
   * Invalidates of `key` (any outcome: a failed one may have been applied in part) that
   * overlap [from, to] and target the key with a value carrying `tags`.
   */
  invalidationsBetween(namespace: string, key: string, tags: readonly string[], from: number, to: number) {
    return this.invalidations(namespace).filter(
      (inv) => inv.invokedAt < to && inv.completedAt > from && targets(inv, key, tags),
    );
  }

  /** The first Redis outage that overlaps [from, to], if any. */
  redisOutageBetween(from: number, to: number): FaultWindow | undefined {
    return this.redisOutages.find((f) => f.startedAt < to && f.endedAt > from);
  }
}
