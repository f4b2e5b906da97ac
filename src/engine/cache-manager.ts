import { CacheError, Status } from "../errors.js";
import { type Clock, MonotonicTime, type Scheduler, systemClock, systemScheduler } from "./clock.js";
import { ALWAYS_TRUSTED, type EngineCore, type L1Trust, noSink, type StatsSink } from "./core.js";
import type { Entry } from "./entry.js";
import type { EventBus, InvalidationNotice, TtlAdjustment } from "./events.js";
import type { ServiceHealth } from "./health.js";
import { Inspection } from "./inspection.js";
import { Invalidations } from "./invalidation.js";
import type { KeyFrequency, L1Layer, Layer, LayerCounters } from "./layer.js";
import { LoadRunner } from "./load-runner.js";
import type { Loader } from "./loader.js";
import { Namespaces } from "./namespaces.js";
import { Placement } from "./placement.js";
import { explicitTtlLimitMs, type NamespaceSettings } from "./policy.js";
import { PolicyStore } from "./policy-store.js";
import { L1History } from "./promotion.js";
import { type Miss, ReadPath } from "./read-path.js";
import type { Flight } from "./single-flight.js";
import type { NamespaceStats } from "./stats.js";
import type {
  InFlightInfo,
  InvalidationResult,
  InvalidationTarget,
  KeyInspection,
  Lookup,
  ReadOptions,
  WriteOptions,
  WriteResult,
} from "./types.js";
import { Versions } from "./versions.js";
import { abortable } from "./waits.js";
import { WritePath } from "./write-path.js";
import type { Writer } from "./writer.js";

export type { L1Trust, StatsSink } from "./core.js";
export type * from "./types.js";

/** Keys of one namespace under one rule (`rule` undefined: under none). */
interface KeyGroup {
  settings: NamespaceSettings;
  rule: string | undefined;
  keys: string[];
}

/** Everything the manager needs; only `l1` is required for an in-memory cache. */
export interface CacheManagerOptions {
  l1?: L1Layer;
  l2?: Layer<true>;
  /**
   * The loader of a namespace, or undefined when it has none (a miss is then "not found"). With
   * `rule`, for the keys of that key rule: the rule's own loader, else the namespace's.
   */
  loaderFor?: (namespace: string, rule?: string) => Loader | undefined;
  /** The writer of a namespace (or of its key rule `rule`), for write-through. */
  writerFor?: (namespace: string, rule?: string) => Writer | undefined;
  /** A second origin asked when the loader fails and nothing stale is cached (per rule as above). */
  fallbackFor?: (namespace: string, rule?: string) => Loader | undefined;
  /** Where invalidations and write-behind writes are published for other instances. */
  events?: EventBus;
  policies?: PolicyStore;
  clock?: Clock;
  /** Runs the engine's waits (load timeouts, polls for a peer's load); a ManualClock in tests. Default: Node's timers. */
  scheduler?: Scheduler;
  /** Uniform random numbers in [0, 1), injectable for deterministic tests. */
  random?: () => number;
  /** Namespaces created on first use are capped so that a client cannot grow them without end. */
  maxNamespaces?: number;
  /** Called with errors of background work (refreshes), which have no caller to report to. */
  onBackgroundError?: (error: unknown, namespace: string, key: string) => void;
  /** Per-key events for telemetry (hot keys, per-key stats, anomalies). */
  statsSink?: StatsSink;
  /**
   * Whether L1 may be used now (see {@link L1Trust}): an instance that cannot be sure it has
   * heard every invalidation skips L1 entirely. Default: always trusted.
   */
  l1Trust?: L1Trust;
}

/**
 * The layered cache: reads go L1 → L2 → loader with one load per key however many requests
 * wait for it; writes go through the layers; invalidation by key, tag or prefix.
 *
 *   const cache = new CacheManager({ l1: new MemoryLayer({ maxBytes: 64 << 20, maxEntries: 100_000 }) });
 *   const hit = await cache.get("products", "42");
 *
 * The manager is the two-tier handler: it orders the rooms of the engine — the read path
 * (what the layers answer), the load runner (origins, fail-safe), placement (what goes in which
 * layer), writes, invalidation, inspection — which share one {@link EngineCore}.
 */
export class CacheManager {
  readonly policies: PolicyStore;
  readonly clock: Clock;
  private readonly core: EngineCore;
  private readonly namespaces: Namespaces;
  private readonly reads: ReadPath;
  private readonly loads: LoadRunner;
  private readonly writes: WritePath;
  private readonly invalidations: Invalidations;
  private readonly inspection: Inspection;

  constructor(options: CacheManagerOptions = {}) {
    const clock = options.clock ?? systemClock;
    const time = new MonotonicTime(clock);
    this.core = {
      l1: options.l1,
      l2: options.l2,
      policies: options.policies ?? new PolicyStore(),
      l1History: new L1History(),
      clock,
      scheduler: options.scheduler ?? systemScheduler,
      time,
      versions: new Versions(clock, time),
      random: options.random ?? Math.random,
      sink: options.statsSink ?? noSink,
      l1Trust: options.l1Trust ?? ALWAYS_TRUSTED,
      loaderFor: options.loaderFor ?? (() => undefined),
      writerFor: options.writerFor ?? (() => undefined),
      fallbackFor: options.fallbackFor ?? (() => undefined),
      events: options.events,
      onBackgroundError: options.onBackgroundError ?? (() => {}),
    };
    this.policies = this.core.policies;
    this.clock = clock;
    this.namespaces = new Namespaces(options.maxNamespaces ?? 1000);
    const placement = new Placement(this.core);
    this.reads = new ReadPath(this.core, this.namespaces, placement, (ns, key, current) =>
      this.loads.refreshInBackground(ns, key, current),
    );
    this.loads = new LoadRunner(this.core, this.reads, placement);
    this.writes = new WritePath(this.core, this.namespaces, placement);
    this.invalidations = new Invalidations(this.core, this.namespaces);
    this.inspection = new Inspection(this.core, this.namespaces, this.reads);
    const removalReasons = {
      size: "evicted",
      expired: "expired",
      explicit: "removed",
      rejected: "rejected-by-admission",
    } as const;
    this.core.l1?.onRemoval?.((namespace, key, cause) => {
      if (cause !== "replaced") this.core.l1History.note(namespace, key, removalReasons[cause]);
    });
    this.core.l2?.watchStamps?.((namespace, stamps) => this.invalidations.applyStamps(namespace, stamps));
  }

  /** Whether a shared second layer (L2) is configured. */
  get hasL2(): boolean {
    return this.core.l2 !== undefined;
  }

  /** Health of the remote layers, for stats and readiness details. */
  dependencies(): ServiceHealth[] {
    const status = this.core.l2?.status?.();
    return status ? [status] : [];
  }

  /** Reads one key through the layers. */
  get(namespace: string, key: string, options: ReadOptions = {}): Promise<Lookup> {
    return this.read(namespace, key, options, undefined);
  }

  /**
   * Reads one key, loading it with `loader` on a miss instead of the namespace's loader
   * (the library's get-or-set). Concurrent calls for the key share one load.
   */
  getOrLoad(namespace: string, key: string, loader: Loader, options: ReadOptions = {}): Promise<Lookup> {
    return this.read(namespace, key, options, loader);
  }

  // Not async: the read path avoids the extra promise hops of async functions.
  private read(namespace: string, key: string, options: ReadOptions, loader: Loader | undefined): Promise<Lookup> {
    let ns: ReturnType<Namespaces["get"]>;
    try {
      ns = this.namespaces.get(namespace);
    } catch (error) {
      return Promise.reject(error);
    }
    const settings = this.policies.forKey(namespace, key);
    ns.stats.requests++;
    const now = this.clock.now();
    const { answer, stale } = this.reads.fromL1(ns, settings, key, options, now);
    if (answer) return Promise.resolve(answer);
    return this.reads.waitForLoad(ns, settings, key, options, stale, now, (flight) =>
      this.loads.loadThroughLayers(ns, settings, key, { options, refresh: false, flight }, stale, loader),
    );
  }

  /**
   * Reads many keys of one namespace: L1 for each, one L2 round trip for the misses, and one
   * `loadMany` for what is left when the loader has it. A key's failure is its own.
   */
  async getMany(
    namespace: string,
    keys: readonly string[],
    options: ReadOptions = {},
  ): Promise<Map<string, Lookup | CacheError>> {
    const settings = this.policies.get(namespace);
    if (settings.rules.length === 0) return this.getManyUnder(namespace, settings, keys, options);
    // Keys under different rules are read as one group per rule (each layer still asked once per group).
    const parts = await Promise.all(
      this.byRule(namespace, keys).map((group) =>
        this.getManyUnder(namespace, group.settings, group.keys, options, group.rule),
      ),
    );
    const settled = new Map<string, Lookup | CacheError>();
    for (const key of keys) {
      for (const part of parts) {
        const result = part.get(key);
        if (result) settled.set(key, result);
      }
    }
    return settled;
  }

  /**
   * Distinct keys grouped by the rule in force for them (the namespace's own settings for keys no
   * rule matches): each group has one set of settings and one loader (its rule's, by name).
   */
  private byRule(namespace: string, keys: readonly string[]): KeyGroup[] {
    const groups = new Map<NamespaceSettings, KeyGroup>();
    const own = this.policies.get(namespace);
    for (const key of new Set(keys)) {
      const rule = this.policies.ruleFor(namespace, key);
      const settings = rule?.settings ?? own;
      const group = groups.get(settings);
      if (group) group.keys.push(key);
      else groups.set(settings, { settings, rule: rule?.rule.name, keys: [key] });
    }
    return [...groups.values()];
  }

  private async getManyUnder(
    namespace: string,
    settings: NamespaceSettings,
    keys: readonly string[],
    options: ReadOptions,
    rule?: string,
  ): Promise<Map<string, Lookup | CacheError>> {
    const ns = this.namespaces.get(namespace);
    const { l2 } = this.core;
    const distinct = [...new Set(keys)];
    const results = new Map<string, Lookup | CacheError | Promise<Lookup>>();
    const now = this.clock.now();

    let misses: Miss[] = [];
    for (const key of distinct) {
      ns.stats.requests++;
      const { answer, stale } = this.reads.fromL1(ns, settings, key, options, now);
      if (answer) results.set(key, answer);
      else misses.push({ key, stale });
    }

    if (misses.length > 0 && l2 && settings.l2.enabled && !options.bypassL2 && !options.forceRefresh) {
      const keysToRead = misses.map((m) => m.key);
      const epoch = ns.epoch;
      // A layer that rejects a read (unreachable) answers misses: the reads go on without it.
      const entries = await l2.getMany(namespace, keysToRead).catch(() => keysToRead.map(() => undefined));
      const left: typeof misses = [];
      misses.forEach((miss, i) => {
        const fromL2 = this.reads.fromL2(ns, settings, miss.key, entries[i], miss.stale, options, undefined, epoch);
        if (fromL2.answer) results.set(miss.key, fromL2.answer);
        else left.push({ key: miss.key, stale: fromL2.stale });
      });
      misses = left;
    }

    const loader = options.skipLoader ? undefined : this.core.loaderFor(namespace, rule);
    // Keys someone is loading already are joined; the rest get a flight each now, and go to the
    // loader together (once per fleet where L2 coordinates) as soon as every flight exists.
    const toLoad: Miss[] = [];
    const started = new Map<string, (load: Promise<Lookup>) => void>();
    // The caller's signal is watched once for the whole call (below), not once per key.
    const { signal, ...perKey } = options;
    for (const miss of misses) {
      const work = (flight: Flight<Lookup>): Promise<Lookup> => {
        if (!loader) return Promise.resolve(this.reads.withoutLoader(miss.key, miss.stale, options));
        toLoad.push({ ...miss, flight });
        return new Promise<Lookup>((resolve) => started.set(miss.key, resolve));
      };
      results.set(miss.key, this.reads.waitForLoad(ns, settings, miss.key, perKey, miss.stale, this.clock.now(), work));
    }
    if (loader && toLoad.length > 0) {
      const loads = this.loads.loadMisses(ns, settings, loader, toLoad, { options, refresh: false });
      for (const [key, load] of loads) started.get(key)?.(load);
    }

    const outcomes = Promise.allSettled(distinct.map((key) => results.get(key) as Lookup | Promise<Lookup>));
    const all = await (signal ? abortable(outcomes, signal) : outcomes);
    const settled = new Map<string, Lookup | CacheError>();
    all.forEach((outcome, i) => {
      const key = distinct[i] as string;
      if (outcome.status === "fulfilled") settled.set(key, outcome.value);
      else {
        const error = outcome.reason;
        settled.set(key, error instanceof CacheError ? error : new CacheError(Status.INTERNAL, String(error)));
      }
    });
    return settled;
  }

  /** Writes one key through the layers (see {@link WritePath.set}). */
  set(namespace: string, key: string, value: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    return this.writes.set(namespace, key, value, options);
  }

  /** Invalidates keys, tags or a prefix here, in L2 and everywhere (see {@link Invalidations.invalidate}). */
  invalidate(namespace: string, target: InvalidationTarget): Promise<InvalidationResult> {
    return this.invalidations.invalidate(namespace, target);
  }

  /**
   * Applies an invalidation heard from elsewhere (see {@link Invalidations.apply}); a TTL
   * adjustment changes the keys' L1 lifetimes instead (and L2's, when `shared`: an outside
   * publisher, so nobody changed L2 yet).
   */
  applyInvalidation(namespace: string, notice: InvalidationNotice, shared: boolean): Promise<number> {
    const adjustment = notice.ttlAdjustment;
    if (notice.cause === "adjust-ttl" && adjustment) {
      const layer = shared ? adjustment.layer : adjustment.layer === "l2" ? "none" : "l1";
      return this.adjustLayers(namespace, notice.keys, notice.at + adjustment.ttlMs, layer).then((n) => n.l1 + n.l2);
    }
    return this.invalidations.apply(namespace, notice, shared);
  }

  /**
   * Gives keys a new lifetime, `ttlMs` from now, in one layer or every layer, here, in L2, and
   * (through the event bus) on every other instance's L1. INVALID_ARGUMENT when the TTL is
   * longer than a key's policy allows (its max_ttl or longest policy TTL: invalidation stamps
   * are kept only that long). Keys not present are left absent. `published`: the bus has it.
   */
  async adjustTtl(
    namespace: string,
    keys: readonly string[],
    adjustment: TtlAdjustment,
  ): Promise<{ l1Adjusted: number; l2Adjusted: number; published: boolean }> {
    this.namespaces.get(namespace);
    if (!(adjustment.ttlMs > 0)) throw new CacheError(Status.INVALID_ARGUMENT, "ttl must be greater than 0");
    for (const key of keys) {
      const limit = explicitTtlLimitMs(this.policies.forKey(namespace, key));
      if (adjustment.ttlMs > limit) {
        throw new CacheError(
          Status.INVALID_ARGUMENT,
          `ttl ${adjustment.ttlMs} ms is longer than key ${key} of namespace ${namespace} may live (${Math.floor(limit)} ms); raise the namespace's maxTtl to allow it`,
        );
      }
    }
    const at = this.clock.now();
    const counts = await this.adjustLayers(namespace, keys, at + adjustment.ttlMs, adjustment.layer);
    const { events } = this.core;
    const published = events
      ? await events
          .invalidated(namespace, { keys, tags: [], cause: "adjust-ttl", at, ttlAdjustment: adjustment })
          .catch(() => false)
      : false;
    return { l1Adjusted: counts.l1, l2Adjusted: counts.l2, published };
  }

  private async adjustLayers(
    namespace: string,
    keys: readonly string[],
    expiresAt: number,
    layer: TtlAdjustment["layer"] | "none",
  ): Promise<{ l1: number; l2: number }> {
    const { l1, l2 } = this.core;
    let inL1 = 0;
    let inL2 = 0;
    if (l1 && (layer === "all" || layer === "l1")) {
      for (const key of keys) if (l1.adjustTtl(namespace, key, expiresAt)) inL1++;
    }
    if (l2 && (layer === "all" || layer === "l2")) {
      const results = await Promise.all(keys.map((key) => l2.adjustTtl(namespace, key, expiresAt)));
      inL2 = results.filter(Boolean).length;
    }
    return { l1: inL1, l2: inL2 };
  }

  /**
   * Reloads keys in the background (the priority refresher's entry point): one `loadMany`
   * when the loader has it. Resolves to how many keys were refreshed.
   */
  async refresh(namespace: string, keys: readonly string[]): Promise<number> {
    const counts = await Promise.all(
      this.byRule(namespace, keys).map((group) => this.refreshUnder(namespace, group.settings, group.keys, group.rule)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async refreshUnder(
    namespace: string,
    settings: NamespaceSettings,
    keys: readonly string[],
    rule: string | undefined,
  ): Promise<number> {
    const ns = this.namespaces.get(namespace);
    const loader = this.core.loaderFor(namespace, rule);
    if (!loader) return 0;
    const idle = keys.filter((key) => !ns.flights.get(key));
    if (idle.length === 0) return 0;
    const toLoad: Miss[] = [];
    const started = new Map<string, (load: Promise<Lookup>) => void>();
    const loads = idle.map((key) => {
      const stale = this.reads.candidateFromL1(namespace, key);
      const { promise } = ns.flights.run(key, this.clock.now(), (flight) => {
        toLoad.push({ key, stale, flight });
        return new Promise<Lookup>((resolve) => started.set(key, resolve));
      });
      this.reads.countBackgroundRefresh(ns, key);
      return promise;
    });
    // L2 was not read yet: a peer's newer value may be there already.
    const intent = { options: {}, refresh: true };
    for (const [key, load] of this.loads.loadMisses(ns, settings, loader, toLoad, intent, true)) {
      started.get(key)?.(load);
    }
    const outcomes = await Promise.allSettled(loads);
    return outcomes.filter((o) => o.status === "fulfilled").length;
  }

  /** Counters of a namespace (manager's view). */
  stats(namespace: string): NamespaceStats | undefined {
    return this.namespaces.find(namespace)?.stats;
  }

  /** Names of the namespaces seen so far. */
  namespaceNames(): string[] {
    return this.namespaces.names();
  }

  /** A layer's own counters for a namespace (undefined when the layer does not exist). */
  layerCounters(layer: "l1" | "l2", namespace?: string): LayerCounters | undefined {
    const target = layer === "l1" ? this.core.l1 : this.core.l2;
    return target?.counters(namespace);
  }

  /** The hottest keys by the L1 frequency sketch. */
  hotKeys(n: number, namespace?: string): KeyFrequency[] {
    return this.core.l1?.topKeys(n, namespace) ?? [];
  }

  /** The L1 sketch's estimate of a key's recent accesses (0..15; 0 without L1). */
  l1Frequency(namespace: string, key: string): number {
    return this.core.l1?.frequency(namespace, key) ?? 0;
  }

  /** The L1 entry of a key without counting a hit (undefined when absent or invalidated). */
  peekL1(namespace: string, key: string): Entry | undefined {
    return this.reads.candidateFromL1(namespace, key)?.entry;
  }

  /** What each layer holds for a key, without counting a hit or touching recency. */
  inspectKey(namespace: string, key: string): Promise<KeyInspection> {
    return this.inspection.key(namespace, key);
  }

  /** Loads running now. */
  inFlight(namespace?: string): InFlightInfo[] {
    return this.inspection.inFlight(namespace);
  }

  /** Number of loads running now (bounded by concurrent distinct misses). */
  get inFlightCount(): number {
    return this.inspection.inFlightCount();
  }

  /**
   * Stops the manager's work: every load still running is aborted (its origin call with it),
   * and their waiters get `reason` (UNAVAILABLE by default). For shutdown.
   */
  close(reason?: unknown): void {
    this.loads.close(reason);
  }
}
