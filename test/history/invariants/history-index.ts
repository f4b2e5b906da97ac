// Look-ups the invariants share: what each value id is, the invalidations of a namespace, and
// when Redis was out of reach.

import type { FaultWindow, History, InvalidateOp, Op, OriginVersion, SetOp } from "../history.js";

/** The contract's bound on one Redis step (`redis.commandTimeout`, default 1 s). */
export const REDIS_COMMAND_BOUND_MS = 1000;

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
  /** Per namespace, its Invalidates by the keys and tags they name, and those with a prefix. */
  private readonly invalidationTargets = new Map<
    string,
    { byKey: Map<string, InvalidateOp[]>; byTag: Map<string, InvalidateOp[]>; withPrefix: InvalidateOp[] }
  >();
  private readonly setsByKey = new Map<string, SetOp[]>();
  /** Windows in which Redis (the shared L2 and lease store) did not answer. */
  readonly redisOutages: FaultWindow[];

  constructor(history: History) {
    this.history = history;
    for (const op of history.ops) {
      this.ops.set(op.id, op);
      if (op.kind === "set") {
        const id = `${op.namespace}/${op.key}`;
        const sets = this.setsByKey.get(id) ?? [];
        sets.push(op);
        this.setsByKey.set(id, sets);
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
        this.indexTargets(op);
      }
    }
    const byKey = new Map<string, OriginVersion[]>();
    for (const version of history.origin.versions) {
      const id = `${version.namespace}/${version.key}`;
      const versions = byKey.get(id) ?? [];
      versions.push(version);
      byKey.set(id, versions);
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

  /**
   * The Invalidates of a namespace that target a key whose value carries `tags` (by the key, a
   * prefix of it, or one of the tags), whatever their outcome, in no particular order. Looked
   * up by key and tag, so a long history is judged in time proportional to what matters.
   */
  invalidationsTargeting(namespace: string, key: string, tags: readonly string[]): InvalidateOp[] {
    const index = this.invalidationTargets.get(namespace);
    if (!index) return [];
    const found = new Set<InvalidateOp>(index.byKey.get(key));
    for (const tag of tags) for (const inv of index.byTag.get(tag) ?? []) found.add(inv);
    for (const inv of index.withPrefix) if (key.startsWith(inv.prefix as string)) found.add(inv);
    return [...found];
  }

  private indexTargets(op: InvalidateOp): void {
    let index = this.invalidationTargets.get(op.namespace);
    if (!index) {
      index = { byKey: new Map(), byTag: new Map(), withPrefix: [] };
      this.invalidationTargets.set(op.namespace, index);
    }
    const add = (map: Map<string, InvalidateOp[]>, name: string) => {
      const list = map.get(name) ?? [];
      list.push(op);
      map.set(name, list);
    };
    for (const key of op.keys) add(index.byKey, key);
    for (const tag of op.tags) add(index.byTag, tag);
    if (op.prefix !== undefined) index.withPrefix.push(op);
  }

  /** Every Invalidate of a namespace, whatever its outcome, in history order. */
  invalidations(namespace: string): readonly InvalidateOp[] {
    return this.invalidationsByNamespace.get(namespace) ?? [];
  }

  /**
   * Invalidates (any outcome: a failed one may have been applied in part) overlapping
   * [from, to] that may have removed the key's value: they target the key, a prefix of it, or
   * a tag of any value the key may have held before such a removal — `tags` (the value known
   * to have been there) and those of every Set of the key overlapping the window that was not
   * refused (a newer value may have replaced the known one, and an invalidation of one of its
   * tags then removed it). Origin values need no look: a load never replaces a newer value.
   */
  invalidationsBetween(namespace: string, key: string, tags: readonly string[], from: number, to: number) {
    const id = `${namespace}/${key}`;
    const possible = new Set(tags);
    for (const op of this.setsByKey.get(id) ?? []) {
      if (op.invokedAt >= to || op.completedAt <= from || (op.status === "OK" && !op.applied)) continue;
      for (const tag of op.tags) possible.add(tag);
    }
    return this.invalidationsTargeting(namespace, key, [...possible]).filter(
      (inv) => inv.invokedAt < to && inv.completedAt > from,
    );
  }

  /**
   * Whether `value` of the key (undefined: a value we cannot identify), there at `from`, may
   * have been removed by `to`, so that an older version may legitimately be served or
   * written after it:
   * - an Invalidate may have removed it, or a newer value that replaced it
   *   (`invalidationsBetween`; for an unknown value, any Invalidate of the namespace);
   * - it, or a newer Set's value that replaced it meanwhile, carried a TTL that may have run out;
   * - Redis was out of reach between its write (or `from`) − B and `to`: no shared copy, and an
   *   instance that stopped trusting its L1, or restarted, may reload it from the origin.
   */
  mayHaveBeenRemoved(namespace: string, key: string, value: ValueInfo | undefined, from: number, to: number): boolean {
    if (value && this.invalidationsBetween(namespace, key, value.tags, from, to).length > 0) return true;
    if (!value && this.invalidations(namespace).some((inv) => inv.invokedAt < to && inv.completedAt > from)) {
      return true;
    }
    if ((value?.mayExpireAt ?? Number.POSITIVE_INFINITY) < to) return true;
    const expiringReplacement = (this.setsByKey.get(`${namespace}/${key}`) ?? []).some(
      (op) =>
        op.invokedAt < to &&
        op.completedAt > from &&
        !(op.status === "OK" && !op.applied) &&
        op.ttlMs !== undefined &&
        op.invokedAt + op.ttlMs < to,
    );
    if (expiringReplacement) return true;
    const writtenAt = value?.set ? value.set.invokedAt - this.history.propagationBoundMs : from;
    return this.redisOutageBetween(Math.min(writtenAt, from), to) !== undefined;
  }

  /**
   * The first Redis outage that overlaps [from, to], if any. An outage counts until the Redis
   * command bound after Redis answered again: a call that was waiting for it when it came back
   * acted on "unavailable" (e.g. loaded without the fleet lease) a moment after the window.
   */
  redisOutageBetween(from: number, to: number): FaultWindow | undefined {
    return this.redisOutages.find((f) => f.startedAt < to && f.endedAt + REDIS_COMMAND_BOUND_MS > from);
  }
}
