import type { Entry } from "../../engine/entry.js";
import type { QueuedWriteTarget, Tombstone } from "../../engine/layer.js";

/** A write kept for replay. */
export interface QueuedSet {
  namespace: string;
  key: string;
  entry: Entry;
}
/** A delete kept for replay, with the tombstone it leaves when it had one. */
export interface QueuedDelete {
  namespace: string;
  key: string;
  tombstone?: Tombstone | undefined;
}
/** Invalidation stamps kept for replay (one field each once queued). */
export interface QueuedStamp {
  namespace: string;
  fields: string[];
  at: number;
  retainMs: number;
}

/** What the queue held, in the order to apply it. */
export interface Drained {
  stamps: QueuedStamp[];
  deletes: QueuedDelete[];
  sets: QueuedSet[];
}

/**
 * Writes and invalidations a remote layer could not apply, kept until it is back: the latest
 * operation per key (a delete replaces a queued write and the other way round), and stamps
 * merged per namespace and field. Bounded: past `max` entries the oldest queued write is
 * dropped (a cache write may be lost, the value is reloaded later); a delete that finds the
 * queue full becomes a stamp of its whole namespace, which hides more than needed but never
 * lets an invalidated value come back.
 */
export class WriteQueue {
  private readonly ops = new Map<string, { set?: QueuedSet; delete?: QueuedDelete }>();
  private readonly stamps = new Map<string, QueuedStamp>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.ops.size + this.stamps.size;
  }

  set(namespace: string, key: string, entry: Entry): void {
    const id = `${namespace}\u0000${key}`;
    this.ops.delete(id);
    if (this.ops.size >= this.max) this.dropOldestWrite();
    if (this.ops.size >= this.max) return;
    this.ops.set(id, { set: { namespace, key, entry } });
  }

  delete(namespace: string, key: string, tombstone?: Tombstone): void {
    const id = `${namespace}\u0000${key}`;
    this.ops.delete(id);
    if (this.ops.size >= this.max) this.dropOldestWrite();
    if (this.ops.size >= this.max) {
      this.stamp(namespace, ["*"], Date.now(), 7 * 86_400_000);
      return;
    }
    this.ops.set(id, { delete: tombstone ? { namespace, key, tombstone } : { namespace, key } });
  }

  stamp(namespace: string, fields: readonly string[], at: number, retainMs: number): void {
    for (const field of fields) {
      const id = `${namespace}\u0000${field}`;
      const current = this.stamps.get(id);
      this.stamps.set(id, {
        namespace,
        fields: [field],
        at: Math.max(at, current?.at ?? at),
        retainMs: Math.max(retainMs, current?.retainMs ?? retainMs),
      });
    }
  }

  /**
   * Drops queued writes of `namespace` whose values `target` invalidates (created at or before
   * its time, and of one of its keys, carrying one of its tags, or under its prefix). Returns
   * how many were dropped.
   */
  forget(namespace: string, target: QueuedWriteTarget): number {
    if (this.ops.size === 0) return 0;
    const keys = new Set(target.keys);
    let dropped = 0;
    for (const [id, op] of this.ops) {
      const set = op.set;
      if (!set || set.namespace !== namespace || set.entry.createdAt > target.at) continue;
      const hit =
        keys.has(set.key) ||
        (target.prefix !== undefined && set.key.startsWith(target.prefix)) ||
        set.entry.tags.some((tag) => target.tags.includes(tag));
      if (!hit) continue;
      this.ops.delete(id);
      dropped++;
    }
    return dropped;
  }

  /** Takes everything out, in apply order. */
  drain(): Drained {
    const drained: Drained = { stamps: [...this.stamps.values()], deletes: [], sets: [] };
    for (const op of this.ops.values()) {
      if (op.delete) drained.deletes.push(op.delete);
      if (op.set) drained.sets.push(op.set);
    }
    this.stamps.clear();
    this.ops.clear();
    return drained;
  }

  /** Puts back what could not be applied, unless newer operations for the same key arrived. */
  restore(failed: Drained): void {
    for (const s of failed.stamps) this.stamp(s.namespace, s.fields, s.at, s.retainMs);
    for (const d of failed.deletes)
      if (!this.ops.has(`${d.namespace}\u0000${d.key}`)) this.delete(d.namespace, d.key, d.tombstone);
    for (const s of failed.sets)
      if (!this.ops.has(`${s.namespace}\u0000${s.key}`)) this.set(s.namespace, s.key, s.entry);
  }

  private dropOldestWrite(): void {
    for (const [id, op] of this.ops) {
      if (op.set) {
        this.ops.delete(id);
        return;
      }
    }
  }
}
