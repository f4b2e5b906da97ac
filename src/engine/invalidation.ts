import { CacheError, Status } from "../errors.js";
import type { EngineCore } from "./core.js";
import type { InvalidationNotice } from "./events.js";
import type { StampSet } from "./layer.js";
import type { NamespaceState, Namespaces } from "./namespaces.js";
import { longestLifetimeWithRulesMs, type NamespaceSettings } from "./policy.js";
import type { InvalidationResult, InvalidationTarget } from "./types.js";

/**
 * Invalidation by key, tag and prefix, made here or heard from elsewhere: L1 copies dropped,
 * tag and prefix stamps (older entries count as gone), running loads of the targets detached,
 * and the shared effects in L2 (tombstones, stamps) and on the event bus.
 */
export class Invalidations {
  constructor(
    private readonly core: EngineCore,
    private readonly namespaces: Namespaces,
  ) {}

  /**
   * Drops keys and stamps tags and prefixes so that older entries count as gone, here, in L2
   * and (through the event bus) on every other instance. Loads of the targets that are running
   * are detached: their results are not stored. Answers only once every shared effect is
   * durable; otherwise UNAVAILABLE, naming what is still queued (a retry is always safe).
   */
  async invalidate(namespace: string, target: InvalidationTarget): Promise<InvalidationResult> {
    const ns = this.namespaces.get(namespace);
    const { l1, l2, events } = this.core;
    ns.epoch++;
    const stamp = this.core.time.next();
    const keys = target.keys ?? [];
    const tags = target.tags ?? [];
    let keysRemoved = 0;
    for (const key of keys) if (l1?.delete(namespace, key)) keysRemoved++;
    this.applyLocally(ns, keys, tags, target.prefix, stamp);
    const missing: string[] = [];
    if (l2) {
      const failed = await this.invalidateShared(ns, keys, tags, target.prefix, stamp);
      if (failed) missing.push(`L2: ${failed}`);
    }
    let published = false;
    if (events) {
      const notice = { keys, tags, prefix: target.prefix, cause: "invalidate" as const, at: stamp };
      published = await events.invalidated(namespace, notice).catch(() => false);
      if (!published) {
        missing.push(
          "other instances: Kafka did not acknowledge the event; it is queued and published when Kafka is back",
        );
      }
    }
    if (missing.length > 0) {
      throw new CacheError(
        Status.UNAVAILABLE,
        `the invalidation in ${namespace} was applied on this instance but not everywhere yet (${missing.join("; ")}); retrying is safe`,
      );
    }
    return { keysRemoved, stamp, published };
  }

  /**
   * Applies an invalidation heard from elsewhere (another instance, or an outside publisher such
   * as database change capture): drops L1 copies (for a Set, all but a copy of that write),
   * detaches loads it makes out of date, and records tag and prefix stamps at the notice's
   * time. With `shared`, L2 is updated too — for notices no instance of this cache has applied
   * yet; it rejects when L2 could not take them (they are queued there for replay).
   */
  async apply(namespace: string, notice: InvalidationNotice, shared: boolean): Promise<number> {
    const ns = this.namespaces.tryGet(namespace);
    if (!ns) return 0;
    const { l1, l2 } = this.core;
    ns.epoch++;
    let dropped = 0;
    for (const key of notice.keys) {
      const current = l1?.peek(namespace, key);
      if (!current) continue;
      // The copy of that very write stays; any other goes (versions from different instances'
      // clocks do not order writes within a millisecond, and dropping costs only a reload).
      if (notice.version !== undefined && notice.version > 0n && current.version === notice.version) continue;
      if (l1?.delete(namespace, key)) dropped++;
    }
    // A Set's notice leaves running loads alone: their older versions lose against it anyway.
    const keys = notice.cause === "invalidate" ? notice.keys : [];
    this.applyLocally(ns, keys, notice.tags, notice.prefix, notice.at);
    if (shared && l2) {
      const failed = await this.invalidateShared(ns, notice.keys, notice.tags, notice.prefix, notice.at);
      if (failed) throw new CacheError(Status.UNAVAILABLE, `L2 did not take the invalidation yet: ${failed}`);
    }
    return dropped;
  }

  /** Stamps another instance set, learnt through the shared layer. */
  applyStamps(namespace: string, stamps: StampSet): void {
    const ns = this.namespaces.tryGet(namespace);
    if (!ns) return;
    for (const [tag, at] of stamps.tags) ns.stamps.stampTag(tag, at);
    for (const [prefix, at] of stamps.prefixes) ns.stamps.stampPrefix(prefix, at);
    if (Number.isFinite(stamps.all)) ns.stamps.stampAll(stamps.all);
  }

  /**
   * The instance-local part of an invalidation: tag and prefix stamps, and the loads it makes
   * out of date detached (a key's own, every load of the namespace for a tag, since a load's
   * tags are unknown until it ends, and the loads under a prefix — of each, those that started
   * by its time `at`), and the writes queued for an unreachable L2 that it removes.
   */
  private applyLocally(
    ns: NamespaceState,
    keys: readonly string[],
    tags: readonly string[],
    prefix: string | undefined,
    at: number,
  ): void {
    // Only loads that started by the invalidation's time can predate it: one that started later
    // (a notice delivered late, or replayed after a consumer restart) loads what came after it,
    // and its value, dated from its start, is not hidden by the stamp either.
    for (const key of keys) ns.flights.detachKey(key, at);
    for (const tag of tags) ns.stamps.stampTag(tag, at);
    if (prefix !== undefined) ns.stamps.stampPrefix(prefix, at);
    if (tags.length > 0) ns.flights.detach(undefined, at);
    else if (prefix !== undefined) ns.flights.detach((key) => key.startsWith(prefix), at);
    // Writes this instance queued for L2 while it was unreachable are values like any other: a
    // replay after a later load replaced the key's tombstone would bring them back.
    if (keys.length > 0 || tags.length > 0 || prefix !== undefined) {
      this.core.l2?.forgetQueuedWrites?.(ns.name, { keys, tags, prefix, at });
    }
    // Forget stamps no live entry can predate.
    const retention = this.stampRetention(ns, this.core.policies.get(ns.name));
    ns.stamps.prune(this.core.clock.now() - retention);
  }

  /**
   * Deletes keys in L2 (leaving tombstones that outlive any load running now) and records tag
   * and prefix stamps there. Resolves to a description of what failed, or "" when all landed.
   */
  private async invalidateShared(
    ns: NamespaceState,
    keys: readonly string[],
    tags: readonly string[],
    prefix: string | undefined,
    at: number,
  ): Promise<string> {
    const { l2 } = this.core;
    if (!l2) return "";
    const settings = this.core.policies.get(ns.name);
    const failures: string[] = [];
    const note = (error: unknown) => {
      failures.push(error instanceof Error ? error.message : String(error));
    };
    const hardMs = settings.loadTimeouts.hardMs;
    // A load may run up to the hard timeout (without one, ten minutes is assumed).
    const tombstone = { at, keepMs: (hardMs > 0 ? hardMs : 600_000) + 5_000 };
    const work: Promise<unknown>[] = keys.map((key) => Promise.resolve(l2.delete(ns.name, key, tombstone)).catch(note));
    if (l2.stamp && (tags.length > 0 || prefix !== undefined)) {
      const stamps = prefix === undefined ? { tags } : { tags, prefix };
      work.push(Promise.resolve(l2.stamp(ns.name, stamps, at, this.stampRetention(ns, settings))).catch(note));
    }
    await Promise.all(work);
    return [...new Set(failures)].join("; ");
  }

  /**
   * How long a stamp can matter (ms): the longest an entry may live, explicit TTLs and stale
   * windows included. When a policy shortens it, the longer one holds until every entry made
   * under it has died.
   */
  private stampRetention(ns: NamespaceState, settings: NamespaceSettings): number {
    const now = this.core.clock.now();
    // Every rule's entries count: a rule may keep its keys longer than the namespace does.
    const current = longestLifetimeWithRulesMs(settings);
    const held = ns.retention;
    if (current >= held.ms || now > held.since + held.ms) {
      ns.retention = { ms: current, since: now };
      return current;
    }
    return held.ms;
  }
}
