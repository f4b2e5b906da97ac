import type { EngineCore } from "./core.js";
import { type Entry, isFailSafeCopy } from "./entry.js";
import type { Lease } from "./layer.js";
import { type Candidate, lookupFrom, notFound } from "./lookups.js";
import type { NamespaceState, Namespaces } from "./namespaces.js";
import type { Placement } from "./placement.js";
import type { LayerSettings, NamespaceSettings } from "./policy.js";
import type { Flight } from "./single-flight.js";
import type { Lookup, ReadOptions, Source } from "./types.js";
import { abortable, raceTimer } from "./waits.js";

/** How a load was started: by a reader, or in the background to refresh. */
export interface LoadIntent {
  options: ReadOptions;
  /** A background refresh: nobody waits for a stale answer. */
  refresh: boolean;
  /** The copy a refresh replaces: only a fresh L2 copy newer than it will do instead of a load. */
  replaces?: Entry | undefined;
  /** The shared flight of the load: detached when the key is invalidated meanwhile. */
  flight?: Flight<Lookup> | undefined;
  /** The fleet lease the load runs under: asked whether a peer waits when admission keeps L2 out. */
  lease?: Lease | undefined;
}

/** A key to load, with the entry that may still be served if loading fails, and its flight. */
export interface Miss {
  readonly key: string;
  readonly stale: Candidate | undefined;
  flight?: Flight<Lookup> | undefined;
}

/** L1's answer, when it has one, or the stale candidate it holds. */
export interface LayerAnswer {
  answer?: Lookup;
  stale?: Candidate | undefined;
}

/** L1's answer when it has neither an answer nor a stale candidate: one object, not one per read. */
const NOTHING_IN_L1: Readonly<LayerAnswer> = Object.freeze({});

/** Starts a refresh of a key's `current` copy unless one runs already; says whether it started one. */
export type RefreshStarter = (ns: NamespaceState, key: string, current: Entry) => boolean;

/**
 * What the cache layers answer for a read: whether an entry may be used at all, whether its
 * timeline lets it answer now (fresh, refreshing early by XFetch, stale-while-revalidate), the
 * stale candidate it leaves for fail-safe, and the wait for a shared load. Counts hits and
 * misses per layer.
 */
export class ReadPath {
  constructor(
    private readonly core: EngineCore,
    private readonly namespaces: Namespaces,
    private readonly placement: Placement,
    private readonly startRefresh: RefreshStarter,
  ) {}

  /** L1's answer for a read, or the stale candidate it holds. Counts the L1 hit or miss. */
  fromL1(ns: NamespaceState, settings: NamespaceSettings, key: string, options: ReadOptions, now: number): LayerAnswer {
    const { l1, sink } = this.core;
    if (!l1 || !settings.l1.enabled || options.bypassL1 || options.forceRefresh || !this.core.l1Trust.trusted) {
      return NOTHING_IN_L1;
    }
    const entry = this.usable(ns, key, l1.get(ns.name, key), options, now);
    if (entry) {
      const answer = this.answerFromCache(ns, settings, settings.l1, key, entry, "l1", options, now);
      if (answer) {
        ns.stats.l1Hits++;
        sink.access(ns.name, key, "l1", true);
        return { answer };
      }
    }
    ns.stats.l1Misses++;
    sink.access(ns.name, key, "l1", false);
    return entry ? { stale: { entry, source: "l1" } } : NOTHING_IN_L1;
  }

  /**
   * L2's answer for an entry it returned, promoting it to L1 (unless an invalidation came in
   * since `epoch`, the namespace's epoch when L2 was asked); or the better stale candidate.
   * A refresh (`replaces`) wants something newer than the copy it replaces: only a fresh, newer
   * L2 copy will do (the same write, promoted from L2 or refreshed early, would skip the origin).
   */
  fromL2(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    found: Entry | undefined,
    stale: Candidate | undefined,
    options: ReadOptions,
    replaces: Entry | undefined,
    epoch: number,
  ): LayerAnswer {
    const now = this.core.clock.now();
    const entry = this.usable(ns, key, found, options, now);
    if (entry) {
      const answer =
        replaces && (now >= entry.freshUntil || entry.createdAt <= replaces.createdAt)
          ? undefined
          : this.answerFromCache(ns, settings, settings.l2, key, entry, "l2", options, now);
      if (answer) {
        this.countL2Hit(ns, settings, key, entry, options, epoch);
        return { answer };
      }
      if (!stale || entry.createdAt > stale.entry.createdAt) stale = { entry, source: "l2" };
    }
    ns.stats.l2Misses++;
    this.core.sink.access(ns.name, key, "l2", false);
    return { stale };
  }

  /**
   * A value a peer loaded while this instance waited for its lease: usable and fresh, and for a
   * refresh newer than the copy it replaces. Counted as an L2 hit and promoted like one.
   */
  fromPeer(
    ns: NamespaceState,
    settings: NamespaceSettings,
    miss: Miss,
    found: Entry | undefined,
    intent: LoadIntent,
    epoch: number,
  ): Lookup | undefined {
    const { options } = intent;
    const now = this.core.clock.now();
    const entry = this.usable(ns, miss.key, found, options, now);
    if (!entry || now >= entry.freshUntil) return undefined;
    const replaced = intent.replaces ?? (intent.refresh ? miss.stale?.entry : undefined);
    if (replaced && entry.createdAt <= replaced.createdAt) return undefined;
    this.countL2Hit(ns, settings, miss.key, entry, options, epoch);
    return lookupFrom(miss.key, entry, "l2", false, now);
  }

  /** The entry if it may be used at all for this read: not invalidated, not too old, not dead. */
  usable(
    ns: NamespaceState,
    key: string,
    entry: Entry | undefined,
    options: ReadOptions,
    now: number,
  ): Entry | undefined {
    if (!entry) return undefined;
    if (now >= entry.staleUntil) return undefined;
    if (!ns.stamps.empty && ns.stamps.hides(key, entry.createdAt, entry.tags)) return undefined;
    if (options.maxAgeMs && now - entry.createdAt > options.maxAgeMs) return undefined;
    return entry;
  }

  /** The L1 entry of a key as a fail-safe candidate, without counting a lookup. */
  candidateFromL1(namespace: string, key: string): Candidate | undefined {
    const ns = this.namespaces.find(namespace);
    const { l1 } = this.core;
    if (!ns || !l1 || !this.core.l1Trust.trusted) return undefined;
    const entry = this.usable(ns, key, l1.peek(namespace, key), {}, this.core.clock.now());
    return entry ? { entry, source: "l1" } : undefined;
  }

  /**
   * Joins or starts the shared load of a key. A caller holding a stale value gets it when the
   * soft timeout passes first; the load goes on and fills the cache for later readers.
   */
  waitForLoad(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    options: ReadOptions,
    stale: Candidate | undefined,
    now: number,
    work: (flight: Flight<Lookup>) => Promise<Lookup>,
  ): Promise<Lookup> {
    const { promise, waiters } = ns.flights.run(key, now, work);
    if (waiters > 1) {
      ns.stats.loadsCollapsed++;
      this.core.sink.collapsed?.(ns.name, key);
    }
    let answer = promise;
    const softMs = settings.loadTimeouts.softMs;
    if (stale && softMs > 0 && options.allowStale !== false && now < stale.entry.staleUntil) {
      answer = raceTimer(this.core.scheduler, promise, softMs, () => {
        ns.stats.staleServed++;
        return lookupFrom(key, stale.entry, stale.source, true, this.core.clock.now());
      });
    }
    return options.signal ? abortable(answer, options.signal) : answer;
  }

  /** A miss with no loader to ask: stale only when the caller asked for it, else not found. */
  withoutLoader(key: string, stale: Candidate | undefined, options: ReadOptions): Lookup {
    if (stale && options.allowStale === true) {
      return lookupFrom(key, stale.entry, stale.source, true, this.core.clock.now());
    }
    return notFound(key);
  }

  /** Counts a background refresh of a key. */
  countBackgroundRefresh(ns: NamespaceState, key: string): void {
    ns.stats.backgroundRefreshes++;
    this.core.sink.refresh(ns.name, key, "background");
  }

  private countL2Hit(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    entry: Entry,
    options: ReadOptions,
    epoch: number,
  ) {
    ns.stats.l2Hits++;
    this.core.sink.access(ns.name, key, "l2", true);
    if (this.core.l1 && settings.l1.enabled && !options.bypassL1 && ns.epoch === epoch) {
      this.placement.promote(ns, settings, key, entry);
    }
  }

  /**
   * Answers from a cached entry when its timeline allows: fresh (maybe refreshing early, by
   * XFetch), refreshable (past freshUntil, before expiresAt), or within stale-while-revalidate.
   * Otherwise undefined, and the entry stays a fail-safe candidate.
   */
  private answerFromCache(
    ns: NamespaceState,
    settings: NamespaceSettings,
    layer: LayerSettings,
    key: string,
    entry: Entry,
    source: Source,
    options: ReadOptions,
    now: number,
  ): Lookup | undefined {
    if (isFailSafeCopy(entry)) {
      // Within the fail-safe throttle: answer stale without asking the failing origin again.
      if (now >= entry.expiresAt || options.allowStale === false) return undefined;
      ns.stats.staleServed++;
      return lookupFrom(key, entry, source, true, now);
    }
    if (now < entry.freshUntil) {
      if (settings.earlyRefresh.enabled && entry.loadMs > 0) {
        // XFetch (Vattani et al.): refresh early with a probability that rises towards
        // freshUntil and with the cost of the last load; ln(U) ≤ 0 for U in (0, 1].
        const u = 1 - this.core.random();
        if (now - entry.loadMs * settings.earlyRefresh.beta * Math.log(u) >= entry.freshUntil) {
          if (this.startRefresh(ns, key, entry)) {
            ns.stats.earlyRefreshes++;
            this.core.sink.refresh(ns.name, key, "early");
          }
        }
      }
      return lookupFrom(key, entry, source, false, now);
    }
    // Past freshFor the value is stale: served (and refreshed) unless the caller wants fresh only.
    if (options.allowStale === false) return undefined;
    if (now < entry.expiresAt + layer.staleWhileRevalidateMs) {
      ns.stats.staleServed++;
      if (this.startRefresh(ns, key, entry)) this.countBackgroundRefresh(ns, key);
      return lookupFrom(key, entry, source, true, now);
    }
    return undefined;
  }
}
