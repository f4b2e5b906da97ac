import { CacheError, Status } from "../errors.js";
import type { EngineCore } from "./core.js";
import { type Entry, EntryFlags, isNegative, replaces } from "./entry.js";
import { type FleetFlightHost, loadOncePerFleet } from "./fleet-flight.js";
import type { Lease } from "./layer.js";
import { LoadDeadlines } from "./load-deadlines.js";
import type { Loader, LoadResult } from "./loader.js";
import { type Candidate, fallbackLookup, lookupFrom } from "./lookups.js";
import type { NamespaceState } from "./namespaces.js";
import type { Placement } from "./placement.js";
import { explicitTtlLimitMs, type NamespaceSettings } from "./policy.js";
import type { LoadIntent, Miss, ReadPath } from "./read-path.js";
import type { Flight } from "./single-flight.js";
import type { Lookup, ReadOptions } from "./types.js";
import type { LoadStart } from "./versions.js";

/**
 * Everything after the cache layers missed: the loader (once per fleet where L2 coordinates,
 * one `loadMany` for several keys when it has one), under the hard timeout; storing what it
 * answered unless an invalidation or a newer write overtook it; and fail-safe when it fails
 * (the stale copy, then a fallback origin, then the fallback value).
 */
export class LoadRunner {
  private readonly deadlines: LoadDeadlines;

  constructor(
    private readonly core: EngineCore,
    private readonly reads: ReadPath,
    private readonly placement: Placement,
  ) {
    this.deadlines = new LoadDeadlines(core.scheduler);
  }

  /** Starts a refresh of a key's `current` copy unless one runs already; says whether it started one. */
  refreshInBackground(ns: NamespaceState, key: string, current: Entry): boolean {
    const rule = this.core.policies.ruleFor(ns.name, key);
    if (!this.core.loaderFor(ns.name, rule?.rule.name)) return false;
    const settings = rule?.settings ?? this.core.policies.get(ns.name);
    const stale = this.reads.candidateFromL1(ns.name, key);
    const { promise, waiters } = ns.flights.run(key, this.core.clock.now(), (flight) =>
      this.loadThroughLayers(
        ns,
        settings,
        key,
        { options: {}, refresh: true, flight, replaces: current },
        stale,
        undefined,
      ),
    );
    if (waiters > 1) return false;
    promise.catch((error: unknown) => this.core.onBackgroundError(error, ns.name, key));
    return true;
  }

  /** The shared part of a miss: L2, then the loader, then fail-safe. */
  loadThroughLayers(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    intent: LoadIntent,
    stale: Candidate | undefined,
    override: Loader | undefined,
  ): Promise<Lookup> {
    const { options } = intent;
    const { l2 } = this.core;
    if (l2 && settings.l2.enabled && !options.bypassL2 && !options.forceRefresh) {
      const epoch = ns.epoch;
      const next = (found: Entry | undefined) => {
        const fromL2 = this.reads.fromL2(ns, settings, key, found, stale, options, intent.replaces, epoch);
        return fromL2.answer ?? this.loadFromOrigin(ns, settings, key, intent, fromL2.stale, override);
      };
      // A layer that rejects a read (unreachable) answers a miss: the read goes on without it.
      return l2.get(ns.name, key).then(next, () => next(undefined));
    }
    return this.loadFromOrigin(ns, settings, key, intent, stale, override);
  }

  /**
   * Loads missed keys, once per fleet where L2 coordinates (see {@link loadOncePerFleet}), else
   * here: one `loadMany` when the loader has it and there are several. A promise per key.
   * `checkL2First`: L2 was not read yet (the refresher), so a peer's newer value may be there.
   */
  loadMisses(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    misses: readonly Miss[],
    intent: LoadIntent,
    checkL2First = false,
  ): Map<string, Promise<Lookup>> {
    const coordination = this.core.l2?.coordination;
    if (!coordination || !settings.l2.enabled || intent.options.bypassL2) {
      return this.loadHere(ns, settings, loader, misses, intent, undefined);
    }
    const epoch = ns.epoch;
    const host: FleetFlightHost<Miss> = {
      load: (won, leases) => this.loadHere(ns, settings, loader, won, intent, leases),
      fromPeer: (miss, entry) => this.reads.fromPeer(ns, settings, miss, entry, intent, epoch),
      uncoordinated: (count) => {
        ns.stats.loadsUncoordinated += count;
      },
      waited: (keys, ms, answered) => this.core.sink.leaseWait?.(ns.name, keys, ms, answered),
    };
    const holdMs = settings.loadTimeouts.hardMs > 0 ? settings.loadTimeouts.hardMs : 10_000;
    const { clock, scheduler } = this.core;
    return loadOncePerFleet(
      coordination,
      misses,
      { namespace: ns.name, holdMs, checkFirst: checkL2First, clock, scheduler },
      host,
    );
  }

  /** The name of the key rule in force for a key; undefined under none. */
  private ruleOf(ns: NamespaceState, key: string): string | undefined {
    return this.core.policies.ruleFor(ns.name, key)?.rule.name;
  }

  /** Abandons every load running now and every later one (see {@link LoadDeadlines.close}). */
  close(reason?: unknown): void {
    this.deadlines.close(reason);
  }

  /** After the cache layers: the loader (once per fleet where L2 coordinates), or not found. */
  private loadFromOrigin(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    intent: LoadIntent,
    stale: Candidate | undefined,
    override: Loader | undefined,
  ): Promise<Lookup> {
    const { options } = intent;
    const loader = options.skipLoader ? undefined : (override ?? this.core.loaderFor(ns.name, this.ruleOf(ns, key)));
    if (!loader) return Promise.resolve(this.reads.withoutLoader(key, stale, options));
    const miss = { key, stale, flight: intent.flight };
    if (this.core.l2?.coordination && settings.l2.enabled && !options.bypassL2) {
      return this.loadMisses(ns, settings, loader, [miss], intent).get(key) as Promise<Lookup>;
    }
    return this.loadHere(ns, settings, loader, [miss], intent, undefined).get(key) as Promise<Lookup>;
  }

  /**
   * Calls the loader for keys (one `loadMany` for several when it has one), each under its lease
   * if any and with its own flight.
   */
  private loadHere(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    wanted: readonly Miss[],
    intent: LoadIntent,
    leases: ReadonlyMap<string, Lease> | undefined,
  ): Map<string, Promise<Lookup>> {
    const intentFor = (miss: Miss): LoadIntent => ({ ...intent, flight: miss.flight, lease: leases?.get(miss.key) });
    const loads = new Map<string, Promise<Lookup>>();
    const misses = wanted.some((miss) => miss.flight?.detached) ? this.rejoin(ns, wanted, leases, loads) : wanted;
    if (!loader.loadMany || misses.length < 2) {
      for (const miss of misses) {
        loads.set(miss.key, this.callLoader(ns, settings, loader, miss.key, miss.stale, intentFor(miss)));
      }
      return loads;
    }
    // One start for the whole bulk call: every key's value is dated from it.
    const start = this.core.versions.loadStart();
    const bulk = this.callLoadMany(
      ns,
      settings,
      loader,
      misses.map((m) => m.key),
    );
    for (const miss of misses) {
      loads.set(
        miss.key,
        bulk.then((outcomes) =>
          this.settleBulk(ns, settings, miss.key, outcomes.get(miss.key), miss.stale, intentFor(miss), start),
        ),
      );
    }
    return loads;
  }

  /**
   * Misses whose loads an invalidation detached before they reached the origin (the L2 read or
   * the lease wait took long) have read nothing it changed but their fail-safe candidate: each
   * joins the key's newer load when one runs (its answer put in `loads`), or else becomes the
   * key's load again without that candidate. So a detach never makes one instance ask the
   * origin for a key twice at once. A joining miss gives its fleet lease up at once: the newer
   * load may be waiting for it. Returns the misses still to load.
   */
  private rejoin(
    ns: NamespaceState,
    misses: readonly Miss[],
    leases: ReadonlyMap<string, Lease> | undefined,
    loads: Map<string, Promise<Lookup>>,
  ): Miss[] {
    const now = this.core.clock.now();
    const left: Miss[] = [];
    for (const miss of misses) {
      const { flight } = miss;
      if (!flight?.detached) left.push(miss);
      else if (ns.flights.reattach(miss.key, flight, now)) left.push({ key: miss.key, stale: undefined, flight });
      else {
        loads.set(miss.key, (ns.flights.get(miss.key) as Flight<Lookup>).promise);
        leases
          ?.get(miss.key)
          ?.release()
          .catch(() => {});
      }
    }
    return left;
  }

  /** Calls the loader under the hard timeout and stores its answer; on failure, fail-safe. */
  private async callLoader(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    key: string,
    stale: Candidate | undefined,
    intent: LoadIntent,
  ): Promise<Lookup> {
    const start = this.core.versions.loadStart();
    const { clock } = this.core;
    const started = clock.now();
    let result: LoadResult;
    try {
      result = await this.deadlines.run(ns.name, settings.loadTimeouts.hardMs, (signal) =>
        loader.load(ns.name, key, { signal, hasStale: stale !== undefined }),
      );
    } catch (error) {
      ns.stats.loadFailures++;
      this.core.sink.load(ns.name, key, clock.now() - started, false);
      return this.failSafe(ns, settings, key, stale, intent.options, error);
    }
    return this.accept(ns, settings, key, result, clock.now() - started, stale, intent, start);
  }

  /** One `loadMany` for several keys; resolves per key to its result or error, never rejects. */
  private async callLoadMany(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    keys: readonly string[],
  ): Promise<Map<string, LoadResult | Error>> {
    const started = this.core.clock.now();
    const loadMany = loader.loadMany?.bind(loader);
    if (!loadMany) throw new Error("loader has no loadMany");
    try {
      const outcomes = await this.deadlines.run(ns.name, settings.loadTimeouts.hardMs, (signal) =>
        loadMany(ns.name, keys, { signal }),
      );
      ns.stats.loadLatency.record(this.core.clock.now() - started);
      return outcomes;
    } catch (error) {
      // The whole call failed: every key failed with the same error.
      const reason = error instanceof Error ? error : new Error(String(error));
      return new Map(keys.map((key) => [key, reason]));
    }
  }

  /** One key's share of a bulk load: store it, or fail-safe for it. */
  private settleBulk(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    outcome: LoadResult | Error | undefined,
    stale: Candidate | undefined,
    intent: LoadIntent,
    start: LoadStart,
  ): Promise<Lookup> | Lookup {
    if (outcome instanceof Error) {
      ns.stats.loadFailures++;
      this.core.sink.load(ns.name, key, 0, false);
      return this.failSafe(ns, settings, key, stale, intent.options, outcome);
    }
    return this.accept(ns, settings, key, outcome ?? { found: false }, 0, stale, intent, start);
  }

  /** Stores what the loader answered and turns it into the lookup every waiter gets. */
  private async accept(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    result: LoadResult,
    loadMs: number,
    stale: Candidate | undefined,
    intent: LoadIntent,
    start: LoadStart,
  ): Promise<Lookup> {
    ns.stats.loadSuccesses++;
    if (loadMs > 0) ns.stats.loadLatency.record(loadMs);
    this.core.sink.load(ns.name, key, loadMs, true);
    if (result.found && result.value && result.value.byteLength > settings.maxValueBytes) {
      ns.stats.loadFailures++;
      const error = new CacheError(
        Status.FAILED_PRECONDITION,
        `the loader returned ${result.value.byteLength} bytes for ${ns.name}/${key}, more than the namespace's maxValueBytes ${settings.maxValueBytes}`,
      );
      return this.failSafe(ns, settings, key, stale, intent.options, error);
    }
    const limit = explicitTtlLimitMs(settings);
    const loaded: LoadResult =
      result.ttlMs !== undefined && result.ttlMs > limit ? { ...result, ttlMs: limit } : result;
    const { placement } = this;
    const entriesFor = (skipL2Admission: boolean) =>
      placement.entriesFor(
        ns,
        settings,
        key,
        loaded,
        start.at,
        loadMs,
        undefined,
        start.version,
        skipL2Admission,
        true,
      );
    let entries = entriesFor(false);
    // Admission keeps a cold key out of L2, unless another instance waits to find it there.
    if (!entries.l2 && settings.l2.admission && (await intent.lease?.wanted()) === true) entries = entriesFor(true);
    const source = result.found ? "loader" : "none";
    const epoch = ns.epoch;
    // Invalidated while it loaded: the waiters from before get the answer, nobody else will.
    if (intent.flight?.detached) return lookupFrom(key, entries.l1, source, false, this.core.clock.now());
    if ((await placement.store(ns, settings, key, entries, intent.lease)) === "refused") {
      // L2 holds something newer: answer a newer value if it has one, never store the load.
      const newer = await this.newerFromL2(ns, settings, key, entries.l1, epoch);
      if (newer) return newer;
    }
    return lookupFrom(key, entries.l1, source, false, this.core.clock.now());
  }

  /** L2's copy of a key when it is newer than the loaded entry (see `replaces`) and usable, promoted to L1. */
  private async newerFromL2(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    loaded: Entry,
    epoch: number,
  ): Promise<Lookup | undefined> {
    const { l1, l2, clock } = this.core;
    const now = clock.now();
    const entry = this.reads.usable(ns, key, await l2?.peek(ns.name, key), {}, now);
    // Newer: what the load's value could not replace (a higher version, or one created after a timed load began).
    if (!entry || replaces(loaded, entry) || isNegative(entry)) return undefined;
    if (l1 && settings.l1.enabled && ns.epoch === epoch) this.placement.promote(ns, settings, key, entry);
    return lookupFrom(key, entry, "l2", now >= entry.freshUntil, now);
  }

  /**
   * After a failed load: the stale value if fail-safe allows (put back for the throttle time so
   * the origin is not asked again at once), else the fallback value, else the error.
   */
  private async failSafe(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    stale: Candidate | undefined,
    options: ReadOptions,
    error: unknown,
  ): Promise<Lookup> {
    const { l1, clock } = this.core;
    const now = clock.now();
    if (stale && settings.failSafe.enabled && options.allowStale !== false && now < stale.entry.staleUntil) {
      ns.stats.staleServed++;
      const throttleMs = settings.failSafe.throttleMs;
      if (throttleMs > 0 && l1 && settings.l1.enabled) {
        const until = Math.min(now + throttleMs, stale.entry.staleUntil);
        l1.set(ns.name, key, {
          ...stale.entry,
          flags: stale.entry.flags | EntryFlags.FAIL_SAFE,
          freshUntil: until,
          expiresAt: until,
        });
      }
      return lookupFrom(key, stale.entry, stale.source, true, now);
    }
    const fallbackLoader = this.core.fallbackFor(ns.name, this.ruleOf(ns, key));
    if (fallbackLoader) {
      // A fallback origin's answer is served, not stored: the real origin stays the source.
      try {
        const answer = await this.deadlines.run(ns.name, settings.loadTimeouts.hardMs, (signal) =>
          fallbackLoader.load(ns.name, key, { signal, hasStale: false }),
        );
        if (answer.found && answer.value) {
          ns.stats.fallbackServed++;
          return fallbackLookup(key, answer.value);
        }
      } catch {
        // the fallback failed too: go on with the static value or the error
      }
    }
    if (settings.fallbackValue) {
      ns.stats.fallbackServed++;
      return fallbackLookup(key, settings.fallbackValue);
    }
    if (error instanceof CacheError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CacheError(
      Status.UNAVAILABLE,
      `loading ${ns.name}/${key} failed and no stale value is cached: ${message}`,
    );
  }
}
