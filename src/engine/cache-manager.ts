import { CacheError, Status } from "../errors.js";
import { type Clock, MonotonicTime, type Scheduler, systemClock, systemScheduler } from "./clock.js";
import { type Entry, EntryFlags, isFailSafeCopy, isNegative } from "./entry.js";
import type { EventBus, InvalidationNotice } from "./events.js";
import { type FleetFlightHost, loadOncePerFleet } from "./fleet-flight.js";
import type { KeyFrequency, Layer, LayerCounters, LayerStatus, Lease, StampSet } from "./layer.js";
import type { Loader, LoadResult } from "./loader.js";
import { explicitTtlLimitMs, type LayerSettings, longestLifetimeMs, type NamespaceSettings } from "./policy.js";
import { NAMESPACE_PATTERN, PolicyStore } from "./policy-store.js";
import { type Flight, SingleFlight } from "./single-flight.js";
import { Stamps } from "./stamps.js";
import { NamespaceStats } from "./stats.js";
import type {
  InFlightInfo,
  InvalidationResult,
  InvalidationTarget,
  KeyInspection,
  KeyLayerInspection,
  Lookup,
  ReadOptions,
  Source,
  WriteOptions,
  WriteResult,
} from "./types.js";
import type { Writer } from "./writer.js";

export type * from "./types.js";

/** Everything the manager needs; only `l1` is required for an in-memory cache. */
export interface CacheManagerOptions {
  l1?: Layer<false>;
  l2?: Layer<true>;
  /** The loader of a namespace, or undefined when it has none (a miss is then "not found"). */
  loaderFor?: (namespace: string) => Loader | undefined;
  /** The writer of a namespace, for write-through. */
  writerFor?: (namespace: string) => Writer | undefined;
  /** A second origin asked when the loader fails and nothing stale is cached. */
  fallbackFor?: (namespace: string) => Loader | undefined;
  /** Where invalidations and write-behind writes are published for other instances. */
  events?: EventBus;
  policies?: PolicyStore;
  clock?: Clock;
  /** Runs the engine's waits (polls for a peer's load); a ManualClock in tests. Default: Node's timers. */
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
   * Whether L1 may be used now. An instance that cannot be sure it has heard every
   * invalidation (its invalidation feed is behind or unreachable) sets `trusted` to false:
   * reads then skip L1 entirely, stale candidates included. Default: always trusted.
   */
  l1Trust?: L1Trust;
}

/** See {@link CacheManagerOptions.l1Trust}; read once per lookup, so keep it a plain field. */
export interface L1Trust {
  readonly trusted: boolean;
}

const ALWAYS_TRUSTED: L1Trust = { trusted: true };

/**
 * Hears every per-key event of the read path, for telemetry that needs keys (the namespace
 * counters are kept by the manager itself). Calls are synchronous and must be cheap.
 */
export interface StatsSink {
  /** A lookup in a layer: `hit` when the layer had a usable entry. */
  access(namespace: string, key: string, layer: "l1" | "l2", hit: boolean): void;
  /** A loader call ended: its duration (0 for a key of a bulk call) and whether it succeeded. */
  load(namespace: string, key: string, ms: number, ok: boolean): void;
  /** A refresh started: early (XFetch) or background (stale, freshness over, refresher). */
  refresh(namespace: string, key: string, kind: "early" | "background"): void;
}

const noSink: StatsSink = { access() {}, load() {}, refresh() {} };

interface NamespaceState {
  readonly name: string;
  readonly stats: NamespaceStats;
  readonly stamps: Stamps;
  /** Loads running now, by key: one map per namespace, so no composite key is built per read. */
  readonly flights: SingleFlight<Lookup>;
  /**
   * How long stamps are kept, and since when that length is in force: a shorter policy only
   * shortens it once every entry made under the longer one has died.
   */
  retention: { ms: number; since: number };
}

/** A cached entry that may still be served if loading fails, with the layer it came from. */
interface Candidate {
  entry: Entry;
  source: Source;
}

/** How a load was started: by a reader, or in the background to refresh. */
interface LoadIntent {
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
interface Miss {
  readonly key: string;
  readonly stale: Candidate | undefined;
  flight?: Flight<Lookup> | undefined;
}

/**
 * When a load started: its value gets this creation time and version, because the origin's
 * answer may predate anything that happened while the load ran (an invalidation, a Set).
 */
interface LoadStart {
  at: number;
  version: bigint;
}

/** A value's entry in each layer; no `l2` when L2 is not to be written. */
interface StoreEntries {
  l1: Entry;
  l2: Entry | undefined;
}

/** How a store went: written, refused by L2 (it keeps something newer), or L2 unreachable. */
type StoreOutcome = "stored" | "refused" | "l2-unreachable";

/** L1's answer when it has neither an answer nor a stale candidate: one object, not one per read. */
const NOTHING_IN_L1: Readonly<{ answer?: Lookup; stale?: Candidate }> = Object.freeze({});

/** Versions per millisecond: room for an instance salt (below half) and increments above it. */
const VERSION_SPACE = 1n << 20n;

/**
 * The layered cache: reads go L1 → L2 → loader with one load per key however many requests
 * wait for it; writes go through the layers; invalidation by key, tag or prefix.
 *
 *   const cache = new CacheManager({ l1: new MemoryLayer({ maxBytes: 64 << 20, maxEntries: 100_000 }) });
 *   const hit = await cache.get("products", "42");
 */
export class CacheManager {
  readonly policies: PolicyStore;
  readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly l1: Layer<false> | undefined;
  private readonly l2: Layer<true> | undefined;
  private readonly loaderFor: (namespace: string) => Loader | undefined;
  private readonly writerFor: (namespace: string) => Writer | undefined;
  private readonly fallbackFor: (namespace: string) => Loader | undefined;
  private readonly events: EventBus | undefined;
  private readonly random: () => number;
  private readonly maxNamespaces: number;
  private readonly onBackgroundError: (error: unknown, namespace: string, key: string) => void;
  private readonly sink: StatsSink;
  private readonly l1Trust: L1Trust;
  private readonly time: MonotonicTime;
  private readonly namespaces = new Map<string, NamespaceState>();
  /** Loads running now, so {@link close} can abandon them; each leaves the set when it ends. */
  private readonly loadsRunning = new Set<{ controller: AbortController; abandon: (reason: unknown) => void }>();
  /** Why the manager was closed; loads started after that are abandoned at once. */
  private closedWith: unknown;
  private lastVersion = 0n;
  /** Low bits of the versions this instance hands out, different from other instances'. */
  private readonly versionSalt = BigInt(Math.floor(Math.random() * Number(VERSION_SPACE / 2n)));

  constructor(options: CacheManagerOptions = {}) {
    this.l1 = options.l1;
    this.l2 = options.l2;
    this.loaderFor = options.loaderFor ?? (() => undefined);
    this.writerFor = options.writerFor ?? (() => undefined);
    this.fallbackFor = options.fallbackFor ?? (() => undefined);
    this.events = options.events;
    this.policies = options.policies ?? new PolicyStore();
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.random = options.random ?? Math.random;
    this.maxNamespaces = options.maxNamespaces ?? 1000;
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.sink = options.statsSink ?? noSink;
    this.l1Trust = options.l1Trust ?? ALWAYS_TRUSTED;
    this.time = new MonotonicTime(this.clock);
    this.l2?.watchStamps?.((namespace, stamps) => this.applyStamps(namespace, stamps));
  }

  /** Health of the remote layers, for stats and readiness details. */
  dependencies(): LayerStatus[] {
    const status = this.l2?.status?.();
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
    let ns: NamespaceState;
    try {
      ns = this.namespace(namespace);
    } catch (error) {
      return Promise.reject(error);
    }
    const settings = this.policies.get(namespace);
    ns.stats.requests++;
    const now = this.clock.now();
    const { answer, stale } = this.fromL1(ns, settings, key, options, now);
    if (answer) return Promise.resolve(answer);
    return this.waitForLoad(ns, settings, key, options, stale, now, (flight) =>
      this.loadThroughLayers(ns, settings, key, { options, refresh: false, flight }, stale, loader),
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
    const ns = this.namespace(namespace);
    const settings = this.policies.get(namespace);
    const distinct = [...new Set(keys)];
    const results = new Map<string, Lookup | CacheError | Promise<Lookup>>();
    const now = this.clock.now();

    let misses: Miss[] = [];
    for (const key of distinct) {
      ns.stats.requests++;
      const { answer, stale } = this.fromL1(ns, settings, key, options, now);
      if (answer) results.set(key, answer);
      else misses.push({ key, stale });
    }

    if (misses.length > 0 && this.l2 && settings.l2.enabled && !options.bypassL2 && !options.forceRefresh) {
      const entries = await this.l2.getMany(
        namespace,
        misses.map((m) => m.key),
      );
      const left: typeof misses = [];
      misses.forEach((miss, i) => {
        const { answer, stale } = this.fromL2(ns, settings, miss.key, entries[i], miss.stale, options, undefined);
        if (answer) results.set(miss.key, answer);
        else left.push({ key: miss.key, stale });
      });
      misses = left;
    }

    const loader = options.skipLoader ? undefined : this.loaderFor(namespace);
    // Keys someone is loading already are joined; the rest get a flight each now, and go to the
    // loader together (once per fleet where L2 coordinates) as soon as every flight exists.
    const toLoad: Miss[] = [];
    const started = new Map<string, (load: Promise<Lookup>) => void>();
    // The caller's signal is watched once for the whole call (below), not once per key.
    const { signal, ...perKey } = options;
    for (const miss of misses) {
      const work = (flight: Flight<Lookup>): Promise<Lookup> => {
        if (!loader) return Promise.resolve(this.withoutLoader(miss.key, miss.stale, options));
        toLoad.push({ ...miss, flight });
        return new Promise<Lookup>((resolve) => started.set(miss.key, resolve));
      };
      results.set(miss.key, this.waitForLoad(ns, settings, miss.key, perKey, miss.stale, this.clock.now(), work));
    }
    if (loader && toLoad.length > 0) {
      const loads = this.loadMisses(ns, settings, loader, toLoad, { options, refresh: false });
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

  /**
   * Writes one key through the layers. With an explicit version older than a copy L1 or L2
   * holds, nothing changes and the answer says `applied: false` with the newer version;
   * without one, the write gets a version above every copy this instance can see.
   */
  async set(namespace: string, key: string, value: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    const ns = this.namespace(namespace);
    const settings = this.policies.get(namespace);
    const writeMode = options.writeMode ?? settings.writeMode;
    if (value.byteLength > settings.maxValueBytes) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `value is ${value.byteLength} bytes; namespace ${namespace} accepts at most ${settings.maxValueBytes}`,
      );
    }
    const ttlLimit = explicitTtlLimitMs(settings);
    if (options.ttlMs !== undefined && options.ttlMs > ttlLimit) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `ttl ${options.ttlMs} ms is longer than namespace ${namespace} allows (${Math.floor(ttlLimit)} ms); raise the namespace's maxTtl to allow it`,
      );
    }
    const writer = writeMode === "write-through" ? this.writerFor(namespace) : undefined;
    if (writeMode === "write-through" && !writer) {
      throw new CacheError(
        Status.FAILED_PRECONDITION,
        `namespace ${namespace} has no writer configured, so write mode ${writeMode} cannot be used`,
      );
    }
    const writeBehind = this.events?.writeBehind?.bind(this.events);
    if (writeMode === "write-behind" && !writeBehind) {
      throw new CacheError(
        Status.FAILED_PRECONDITION,
        `write-behind for namespace ${namespace} needs Kafka (set kafka.brokers or MLCACHE_KAFKA_BROKERS)`,
      );
    }
    const requested = options.version ?? 0n;
    const newest = await this.newestVersion(ns, settings, key, requested > 0n);
    if (requested > 0n && newest > requested) return { version: newest, applied: false, writeMode };
    let version = requested > 0n ? requested : this.nextVersion(newest);
    const tags = options.tags ?? [];
    if (writer) await this.writeThrough(writer, namespace, key, value, version, tags);
    if (writeMode === "write-behind" && writeBehind) {
      // Durable in Kafka before anything changes here: an acknowledged write is never lost.
      await writeBehind({ namespace, key, value, version, tags, ttlMs: options.ttlMs }).catch((error: unknown) => {
        if (error instanceof CacheError) throw error;
        throw new CacheError(
          Status.UNAVAILABLE,
          `write-behind of ${namespace}/${key} was not accepted by Kafka, nothing was changed: ${(error as Error).message}`,
        );
      });
    }
    const result: LoadResult = { found: true, value, tags };
    if (options.ttlMs !== undefined) result.ttlMs = options.ttlMs;
    // A few rounds at most: each refusal means another writer just stored a newer version.
    for (let attempt = 1; ; attempt++) {
      const at = this.time.next();
      const entries = this.entriesFor(ns, settings, key, result, at, 0, options.freshForMs, version);
      if ((await this.store(ns, settings, key, entries)) !== "refused") break;
      const shared = await this.newestVersion(ns, settings, key, true);
      if (requested > 0n && shared >= requested) return { version: shared, applied: false, writeMode };
      if (attempt === 3) {
        throw new CacheError(
          Status.ABORTED,
          `the write of ${namespace}/${key} kept losing to concurrent writes or invalidations; try again`,
        );
      }
      if (requested === 0n) version = this.nextVersion(shared);
    }
    // Other instances drop their older copies of the key.
    void this.events
      ?.invalidated(namespace, { keys: [key], tags: [], version, cause: "set", at: this.time.next() })
      .catch(() => {});
    return { version, applied: true, writeMode };
  }

  /**
   * The newest version of a key this instance can see: L1's copy, and L2's when `askL2` (an
   * explicit version must be checked against the shared copy, so an unreachable L2 fails the
   * write with UNAVAILABLE rather than let an older version through).
   */
  private async newestVersion(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    askL2: boolean,
  ): Promise<bigint> {
    const local = this.l1?.peek(ns.name, key)?.version ?? 0n;
    if (!askL2 || !this.l2 || !settings.l2.enabled) return local;
    const shared = await (this.l2.currentVersion?.(ns.name, key) ??
      this.l2.peek(ns.name, key).then((e) => e?.version ?? 0n));
    return shared > local ? shared : local;
  }

  /** Applies a write at the origin before the cache takes it; a failure fails the Set. */
  private async writeThrough(
    writer: Writer,
    namespace: string,
    key: string,
    value: Uint8Array,
    version: bigint,
    tags: readonly string[],
  ): Promise<void> {
    let failed: Error | undefined;
    try {
      failed = (await writer.store(namespace, [{ key, value, version, tags, deleted: false }]))?.get(key);
    } catch (error) {
      failed = error instanceof Error ? error : new Error(String(error));
    }
    if (!failed) return;
    if (failed instanceof CacheError) throw failed;
    throw new CacheError(
      Status.UNAVAILABLE,
      `write-through of ${namespace}/${key} failed, nothing was cached: ${failed.message}`,
    );
  }

  /**
   * Drops keys and stamps tags and prefixes so that older entries count as gone, here, in L2
   * and (through the event bus) on every other instance. Loads of the targets that are running
   * are detached: their results are not stored. Answers only once every shared effect is
   * durable; otherwise UNAVAILABLE, naming what is still queued (a retry is always safe).
   */
  async invalidate(namespace: string, target: InvalidationTarget): Promise<InvalidationResult> {
    const ns = this.namespace(namespace);
    const settings = this.policies.get(namespace);
    const stamp = this.time.next();
    const keys = target.keys ?? [];
    const tags = target.tags ?? [];
    let keysRemoved = 0;
    for (const key of keys) if (this.l1?.delete(namespace, key)) keysRemoved++;
    this.applyLocally(ns, keys, tags, target.prefix, stamp);
    const missing: string[] = [];
    if (this.l2) {
      const failed = await this.invalidateShared(ns, settings, keys, tags, target.prefix, stamp);
      if (failed) missing.push(`L2: ${failed}`);
    }
    let published = false;
    if (this.events) {
      const notice = { keys, tags, prefix: target.prefix, cause: "invalidate" as const, at: stamp };
      published = await this.events.invalidated(namespace, notice).catch(() => false);
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
   * The instance-local part of an invalidation: tag and prefix stamps, and the loads it makes
   * out of date detached (a key's own, every load of the namespace for a tag, since a load's
   * tags are unknown until it ends, and the loads under a prefix).
   */
  private applyLocally(
    ns: NamespaceState,
    keys: readonly string[],
    tags: readonly string[],
    prefix: string | undefined,
    at: number,
  ): void {
    for (const key of keys) ns.flights.detachKey(key);
    for (const tag of tags) ns.stamps.stampTag(tag, at);
    if (prefix !== undefined) ns.stamps.stampPrefix(prefix, at);
    if (tags.length > 0) ns.flights.detach();
    else if (prefix !== undefined) ns.flights.detach((key) => key.startsWith(prefix));
    this.pruneStamps(ns);
  }

  /**
   * Deletes keys in L2 (leaving tombstones that outlive any load running now) and records tag
   * and prefix stamps there. Resolves to a description of what failed, or "" when all landed.
   */
  private async invalidateShared(
    ns: NamespaceState,
    settings: NamespaceSettings,
    keys: readonly string[],
    tags: readonly string[],
    prefix: string | undefined,
    at: number,
  ): Promise<string> {
    const l2 = this.l2;
    if (!l2) return "";
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
   * Applies an invalidation heard from elsewhere (another instance, or an outside publisher such
   * as database change capture): drops L1 copies (for a Set, all but a copy of that write),
   * detaches loads it makes out of date, and records tag and prefix stamps at the notice's
   * time. With `shared`, L2 is updated too — for notices no instance of this cache has applied
   * yet; it rejects when L2 could not take them (they are queued there for replay).
   */
  async applyInvalidation(namespace: string, notice: InvalidationNotice, shared: boolean): Promise<number> {
    let ns: NamespaceState;
    try {
      ns = this.namespace(namespace);
    } catch {
      return 0; // a namespace this instance cannot hold: nothing of it is cached here
    }
    let dropped = 0;
    for (const key of notice.keys) {
      const current = this.l1?.peek(namespace, key);
      if (!current) continue;
      // The copy of that very write stays; any other goes (versions from different instances'
      // clocks do not order writes within a millisecond, and dropping costs only a reload).
      if (notice.version !== undefined && notice.version > 0n && current.version === notice.version) continue;
      if (this.l1?.delete(namespace, key)) dropped++;
    }
    // A Set's notice leaves running loads alone: their older versions lose against it anyway.
    const keys = notice.cause === "invalidate" ? notice.keys : [];
    this.applyLocally(ns, keys, notice.tags, notice.prefix, notice.at);
    if (shared && this.l2) {
      const failed = await this.invalidateShared(
        ns,
        this.policies.get(namespace),
        notice.keys,
        notice.tags,
        notice.prefix,
        notice.at,
      );
      if (failed) throw new CacheError(Status.UNAVAILABLE, `L2 did not take the invalidation yet: ${failed}`);
    }
    return dropped;
  }

  /**
   * Reloads keys in the background (the priority refresher's entry point): one `loadMany`
   * when the loader has it. Resolves to how many keys were refreshed.
   */
  async refresh(namespace: string, keys: readonly string[]): Promise<number> {
    const ns = this.namespace(namespace);
    const settings = this.policies.get(namespace);
    const loader = this.loaderFor(namespace);
    if (!loader) return 0;
    const idle = keys.filter((key) => !ns.flights.get(key));
    if (idle.length === 0) return 0;
    const toLoad: Miss[] = [];
    const started = new Map<string, (load: Promise<Lookup>) => void>();
    const loads = idle.map((key) => {
      const stale = this.candidateFromL1(namespace, key);
      const { promise } = ns.flights.run(key, this.clock.now(), (flight) => {
        toLoad.push({ key, stale, flight });
        return new Promise<Lookup>((resolve) => started.set(key, resolve));
      });
      ns.stats.backgroundRefreshes++;
      this.sink.refresh(namespace, key, "background");
      return promise;
    });
    // L2 was not read yet: a peer's newer value may be there already.
    for (const [key, load] of this.loadMisses(ns, settings, loader, toLoad, { options: {}, refresh: true }, true)) {
      started.get(key)?.(load);
    }
    const outcomes = await Promise.allSettled(loads);
    return outcomes.filter((o) => o.status === "fulfilled").length;
  }

  /** Counters of a namespace (manager's view). */
  stats(namespace: string): NamespaceStats | undefined {
    return this.namespaces.get(namespace)?.stats;
  }

  /** Names of the namespaces seen so far. */
  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  /** A layer's own counters for a namespace (undefined when the layer does not exist). */
  layerCounters(layer: "l1" | "l2", namespace?: string): LayerCounters | undefined {
    const target = layer === "l1" ? this.l1 : this.l2;
    return target?.counters(namespace);
  }

  /** The hottest keys by the L1 frequency sketch. */
  hotKeys(n: number, namespace?: string): KeyFrequency[] {
    return this.l1?.topKeys(n, namespace) ?? [];
  }

  /** The L1 entry of a key without counting a hit (undefined when absent or invalidated). */
  peekL1(namespace: string, key: string): Entry | undefined {
    return this.candidateFromL1(namespace, key)?.entry;
  }

  /** What each layer holds for a key, without counting a hit or touching recency. */
  async inspectKey(namespace: string, key: string): Promise<KeyInspection> {
    const now = this.clock.now();
    const ns = this.namespaces.get(namespace);
    const describe = (layer: "l1" | "l2", entry: Entry | undefined): KeyLayerInspection => {
      const live = entry && (ns ? this.usable(ns, key, entry, {}, now) : now < entry.staleUntil ? entry : undefined);
      return {
        layer,
        present: live !== undefined,
        stale: live !== undefined && now >= live.expiresAt,
        ageMs: live ? Math.floor(now - live.createdAt) : 0,
        ttlRemainingMs: live ? Math.max(0, Math.floor(live.expiresAt - now)) : 0,
        version: live?.version ?? 0n,
        sizeBytes: live?.value.byteLength ?? 0,
      };
    };
    const layers: KeyLayerInspection[] = [];
    if (this.l1) layers.push(describe("l1", this.l1.peek(namespace, key)));
    if (this.l2) layers.push(describe("l2", await this.l2.peek(namespace, key)));
    return {
      namespace,
      key,
      layers,
      frequency: this.l1?.frequency(namespace, key) ?? 0,
      lastLoadMs: ns?.stats.loadLatency.last ?? 0,
    };
  }

  /** Loads running now. */
  inFlight(namespace?: string): InFlightInfo[] {
    const out: InFlightInfo[] = [];
    for (const ns of this.namespaces.values()) {
      if (namespace && ns.name !== namespace) continue;
      for (const [key, flight] of ns.flights.entries()) {
        out.push({ namespace: ns.name, key, startedAt: flight.startedAt, waiters: flight.waiters });
      }
    }
    return out;
  }

  /** Number of loads running now (bounded by concurrent distinct misses). */
  get inFlightCount(): number {
    let count = 0;
    for (const ns of this.namespaces.values()) count += ns.flights.size;
    return count;
  }

  /** The state of a namespace, created on first use (up to `maxNamespaces`). */
  private namespace(name: string): NamespaceState {
    const existing = this.namespaces.get(name);
    if (existing) return existing;
    if (!NAMESPACE_PATTERN.test(name)) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `namespace "${name}" is not valid: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
      );
    }
    if (this.namespaces.size >= this.maxNamespaces) {
      throw new CacheError(
        Status.RESOURCE_EXHAUSTED,
        `too many namespaces (limit ${this.maxNamespaces}); reuse an existing namespace or raise limits.maxNamespaces`,
      );
    }
    const state: NamespaceState = {
      name,
      stats: new NamespaceStats(),
      stamps: new Stamps(),
      flights: new SingleFlight<Lookup>(),
      retention: { ms: 0, since: 0 },
    };
    this.namespaces.set(name, state);
    return state;
  }

  /** L1's answer for a read, or the stale candidate it holds. Counts the L1 hit or miss. */
  private fromL1(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    options: ReadOptions,
    now: number,
  ): { answer?: Lookup; stale?: Candidate } {
    if (!this.l1 || !settings.l1.enabled || options.bypassL1 || options.forceRefresh || !this.l1Trust.trusted) {
      return NOTHING_IN_L1;
    }
    const entry = this.usable(ns, key, this.l1.get(ns.name, key), options, now);
    if (entry) {
      const answer = this.answerFromCache(ns, settings, settings.l1, key, entry, "l1", options, now);
      if (answer) {
        ns.stats.l1Hits++;
        this.sink.access(ns.name, key, "l1", true);
        return { answer };
      }
    }
    ns.stats.l1Misses++;
    this.sink.access(ns.name, key, "l1", false);
    return entry ? { stale: { entry, source: "l1" } } : NOTHING_IN_L1;
  }

  /** L2's answer for an entry it returned, promoting it to L1; or the better stale candidate. */
  private fromL2(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    found: Entry | undefined,
    stale: Candidate | undefined,
    options: ReadOptions,
    replaces: Entry | undefined,
  ): { answer?: Lookup; stale?: Candidate | undefined } {
    const now = this.clock.now();
    const entry = this.usable(ns, key, found, options, now);
    if (entry) {
      // A refresh wants something newer than the copy it replaces: only a fresh, newer L2 copy
      // will do (the same write, promoted from L2 or refreshed early, would skip the origin).
      const answer =
        replaces && (now >= entry.freshUntil || entry.createdAt <= replaces.createdAt)
          ? undefined
          : this.answerFromCache(ns, settings, settings.l2, key, entry, "l2", options, now);
      if (answer) {
        ns.stats.l2Hits++;
        this.sink.access(ns.name, key, "l2", true);
        if (this.l1 && settings.l1.enabled && !options.bypassL1) this.promote(ns, settings, key, entry);
        return { answer };
      }
      if (!stale || entry.createdAt > stale.entry.createdAt) stale = { entry, source: "l2" };
    }
    ns.stats.l2Misses++;
    this.sink.access(ns.name, key, "l2", false);
    return { stale };
  }

  /**
   * Joins or starts the shared load of a key. A caller holding a stale value gets it when the
   * soft timeout passes first; the load goes on and fills the cache for later readers.
   */
  private waitForLoad(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    options: ReadOptions,
    stale: Candidate | undefined,
    now: number,
    work: (flight: Flight<Lookup>) => Promise<Lookup>,
  ): Promise<Lookup> {
    const { promise, waiters } = ns.flights.run(key, now, work);
    if (waiters > 1) ns.stats.loadsCollapsed++;
    let answer = promise;
    const softMs = settings.loadTimeouts.softMs;
    if (stale && softMs > 0 && options.allowStale !== false && now < stale.entry.staleUntil) {
      answer = raceTimer(promise, softMs, () => {
        ns.stats.staleServed++;
        return lookupFrom(key, stale.entry, stale.source, true, this.clock.now());
      });
    }
    return options.signal ? abortable(answer, options.signal) : answer;
  }

  /** The entry if it may be used at all for this read: not invalidated, not too old, not dead. */
  private usable(
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
  private candidateFromL1(namespace: string, key: string): Candidate | undefined {
    const ns = this.namespaces.get(namespace);
    if (!ns || !this.l1 || !this.l1Trust.trusted) return undefined;
    const entry = this.usable(ns, key, this.l1.peek(namespace, key), {}, this.clock.now());
    return entry ? { entry, source: "l1" } : undefined;
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
        const u = 1 - this.random();
        if (now - entry.loadMs * settings.earlyRefresh.beta * Math.log(u) >= entry.freshUntil) {
          if (this.refreshInBackground(ns, key, entry)) {
            ns.stats.earlyRefreshes++;
            this.sink.refresh(ns.name, key, "early");
          }
        }
      }
      return lookupFrom(key, entry, source, false, now);
    }
    // Past freshFor the value is stale: served (and refreshed) unless the caller wants fresh only.
    if (options.allowStale === false) return undefined;
    if (now < entry.expiresAt + layer.staleWhileRevalidateMs) {
      ns.stats.staleServed++;
      if (this.refreshInBackground(ns, key, entry)) this.countBackgroundRefresh(ns, key);
      return lookupFrom(key, entry, source, true, now);
    }
    return undefined;
  }

  private countBackgroundRefresh(ns: NamespaceState, key: string): void {
    ns.stats.backgroundRefreshes++;
    this.sink.refresh(ns.name, key, "background");
  }

  /** Starts a refresh of a key's `current` copy unless one runs already; says whether it started one. */
  private refreshInBackground(ns: NamespaceState, key: string, current: Entry): boolean {
    if (!this.loaderFor(ns.name)) return false;
    const settings = this.policies.get(ns.name);
    const stale = this.candidateFromL1(ns.name, key);
    const { promise, waiters } = ns.flights.run(key, this.clock.now(), (flight) =>
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
    promise.catch((error: unknown) => this.onBackgroundError(error, ns.name, key));
    return true;
  }

  /** The shared part of a miss: L2, then the loader, then fail-safe. */
  private loadThroughLayers(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    intent: LoadIntent,
    stale: Candidate | undefined,
    override: Loader | undefined,
  ): Promise<Lookup> {
    const { options } = intent;
    if (this.l2 && settings.l2.enabled && !options.bypassL2 && !options.forceRefresh) {
      return this.l2.get(ns.name, key).then((found) => {
        const l2 = this.fromL2(ns, settings, key, found, stale, options, intent.replaces);
        return l2.answer ?? this.loadFromOrigin(ns, settings, key, intent, l2.stale, override);
      });
    }
    return this.loadFromOrigin(ns, settings, key, intent, stale, override);
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
    const loader = options.skipLoader ? undefined : (override ?? this.loaderFor(ns.name));
    if (!loader) return Promise.resolve(this.withoutLoader(key, stale, options));
    if (this.l2?.coordination && settings.l2.enabled && !options.bypassL2) {
      const miss = { key, stale, flight: intent.flight };
      return this.loadMisses(ns, settings, loader, [miss], intent).get(key) as Promise<Lookup>;
    }
    return this.callLoader(ns, settings, loader, key, stale, intent);
  }

  /**
   * Loads missed keys, once per fleet where L2 coordinates (see {@link loadOncePerFleet}), else
   * here: one `loadMany` when the loader has it and there are several. A promise per key.
   * `checkL2First`: L2 was not read yet (the refresher), so a peer's newer value may be there.
   */
  private loadMisses(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    misses: readonly Miss[],
    intent: LoadIntent,
    checkL2First = false,
  ): Map<string, Promise<Lookup>> {
    const coordination = this.l2?.coordination;
    if (!coordination || !settings.l2.enabled || intent.options.bypassL2) {
      return this.loadHere(ns, settings, loader, misses, intent, undefined);
    }
    const host: FleetFlightHost<Miss> = {
      load: (won, leases) => this.loadHere(ns, settings, loader, won, intent, leases),
      fromPeer: (miss, entry) => this.fromPeer(ns, settings, miss, entry, intent),
      uncoordinated: (count) => {
        ns.stats.loadsUncoordinated += count;
      },
    };
    const holdMs = settings.loadTimeouts.hardMs > 0 ? settings.loadTimeouts.hardMs : 10_000;
    return loadOncePerFleet(
      coordination,
      misses,
      { namespace: ns.name, holdMs, checkFirst: checkL2First, clock: this.clock, scheduler: this.scheduler },
      host,
    );
  }

  /**
   * Calls the loader for keys (one `loadMany` for several when it has one), each under its lease
   * if any and with its own flight.
   */
  private loadHere(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    misses: readonly Miss[],
    intent: LoadIntent,
    leases: ReadonlyMap<string, Lease> | undefined,
  ): Map<string, Promise<Lookup>> {
    const intentFor = (miss: Miss): LoadIntent => ({ ...intent, flight: miss.flight, lease: leases?.get(miss.key) });
    const start = this.loadStart();
    const bulk =
      loader.loadMany && misses.length > 1
        ? this.callLoadMany(
            ns,
            settings,
            loader,
            misses.map((m) => m.key),
          )
        : undefined;
    const loads = new Map<string, Promise<Lookup>>();
    for (const miss of misses) {
      loads.set(
        miss.key,
        bulk
          ? bulk.then((outcomes) =>
              this.settleBulk(ns, settings, miss.key, outcomes.get(miss.key), miss.stale, intentFor(miss), start),
            )
          : this.callLoader(ns, settings, loader, miss.key, miss.stale, intentFor(miss)),
      );
    }
    return loads;
  }

  /**
   * A value a peer loaded while this instance waited for its lease: usable and fresh, and for a
   * refresh newer than the copy it replaces. Counted as an L2 hit and promoted like one.
   */
  private fromPeer(
    ns: NamespaceState,
    settings: NamespaceSettings,
    miss: Miss,
    found: Entry | undefined,
    intent: LoadIntent,
  ): Lookup | undefined {
    const { options } = intent;
    const now = this.clock.now();
    const entry = this.usable(ns, miss.key, found, options, now);
    if (!entry || now >= entry.freshUntil) return undefined;
    const replaced = intent.replaces ?? (intent.refresh ? miss.stale?.entry : undefined);
    if (replaced && entry.createdAt <= replaced.createdAt) return undefined;
    ns.stats.l2Hits++;
    this.sink.access(ns.name, miss.key, "l2", true);
    if (this.l1 && settings.l1.enabled && !options.bypassL1) this.promote(ns, settings, miss.key, entry);
    return lookupFrom(miss.key, entry, "l2", false, now);
  }

  /** A miss with no loader to ask: stale only when the caller asked for it, else not found. */
  private withoutLoader(key: string, stale: Candidate | undefined, options: ReadOptions): Lookup {
    if (stale && options.allowStale === true) return lookupFrom(key, stale.entry, stale.source, true, this.clock.now());
    return notFound(key);
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
    const start = this.loadStart();
    const started = this.clock.now();
    let result: LoadResult;
    try {
      result = await this.withHardTimeout(ns, settings, (signal) =>
        loader.load(ns.name, key, { signal, hasStale: stale !== undefined }),
      );
    } catch (error) {
      ns.stats.loadFailures++;
      this.sink.load(ns.name, key, this.clock.now() - started, false);
      return this.failSafe(ns, settings, key, stale, intent.options, error);
    }
    return this.accept(ns, settings, key, result, this.clock.now() - started, stale, intent, start);
  }

  /** Marks the start of a load (see {@link LoadStart}). */
  private loadStart(): LoadStart {
    return { at: this.time.next(), version: this.nextVersion(0n) };
  }

  /** One `loadMany` for several keys; resolves per key to its result or error, never rejects. */
  private async callLoadMany(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    keys: readonly string[],
  ): Promise<Map<string, LoadResult | Error>> {
    const started = this.clock.now();
    const loadMany = loader.loadMany?.bind(loader);
    if (!loadMany) throw new Error("loader has no loadMany");
    try {
      const outcomes = await this.withHardTimeout(ns, settings, (signal) => loadMany(ns.name, keys, { signal }));
      ns.stats.loadLatency.record(this.clock.now() - started);
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
      this.sink.load(ns.name, key, 0, false);
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
    this.sink.load(ns.name, key, loadMs, true);
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
    let entries = this.entriesFor(ns, settings, key, loaded, start.at, loadMs, undefined, start.version);
    // Admission keeps a cold key out of L2, unless another instance waits to find it there.
    if (!entries.l2 && settings.l2.admission && (await intent.lease?.wanted()) === true) {
      entries = this.entriesFor(ns, settings, key, loaded, start.at, loadMs, undefined, start.version, true);
    }
    const source = result.found ? "loader" : "none";
    // Invalidated while it loaded: the waiters from before get the answer, nobody else will.
    if (intent.flight?.detached) return lookupFrom(key, entries.l1, source, false, this.clock.now());
    if ((await this.store(ns, settings, key, entries)) === "refused") {
      // L2 holds something newer: answer a newer value if it has one, never store the load.
      const newer = await this.newerFromL2(ns, settings, key, entries.l1.version);
      if (newer) return newer;
    }
    return lookupFrom(key, entries.l1, source, false, this.clock.now());
  }

  /** L2's copy of a key when it is newer than `version` and usable, promoted to L1. */
  private async newerFromL2(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    version: bigint,
  ): Promise<Lookup | undefined> {
    const now = this.clock.now();
    const entry = this.usable(ns, key, await this.l2?.peek(ns.name, key), {}, now);
    if (!entry || entry.version <= version || isNegative(entry)) return undefined;
    if (this.l1 && settings.l1.enabled) this.promote(ns, settings, key, entry);
    return lookupFrom(key, entry, "l2", now >= entry.freshUntil, now);
  }

  /** Runs a load, abandoning it (and aborting its signal) past the hard timeout. */
  private async withHardTimeout<T>(
    ns: NamespaceState,
    settings: NamespaceSettings,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    if (this.closedWith !== undefined) controller.abort(this.closedWith);
    const hardMs = settings.loadTimeouts.hardMs;
    // Past the hard timeout, or when the manager closes, the load is abandoned and its signal
    // aborted (origin calls listen to it), whether or not the loader gives up.
    let abandon: (reason: unknown) => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    const load = { controller, abandon };
    this.loadsRunning.add(load);
    const timer =
      hardMs > 0
        ? setTimeout(() => {
            const error = new CacheError(
              Status.DEADLINE_EXCEEDED,
              `the loader of namespace ${ns.name} did not answer within its hard timeout of ${hardMs} ms`,
            );
            controller.abort(error);
            abandon(error);
          }, hardMs)
        : undefined;
    timer?.unref?.();
    try {
      return await Promise.race([run(controller.signal), abandoned]);
    } finally {
      clearTimeout(timer);
      this.loadsRunning.delete(load);
    }
  }

  /**
   * Stops the manager's work: every load still running is aborted (its origin call with it),
   * and their waiters get `reason` (UNAVAILABLE by default). For shutdown.
   */
  close(reason: unknown = new CacheError(Status.UNAVAILABLE, "the cache is shutting down")): void {
    this.closedWith = reason;
    for (const { controller, abandon } of this.loadsRunning) {
      controller.abort(reason);
      abandon(reason);
    }
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
    const now = this.clock.now();
    if (stale && settings.failSafe.enabled && options.allowStale !== false && now < stale.entry.staleUntil) {
      ns.stats.staleServed++;
      const throttleMs = settings.failSafe.throttleMs;
      if (throttleMs > 0 && this.l1 && settings.l1.enabled) {
        const until = Math.min(now + throttleMs, stale.entry.staleUntil);
        this.l1.set(ns.name, key, {
          ...stale.entry,
          flags: stale.entry.flags | EntryFlags.FAIL_SAFE,
          freshUntil: until,
          expiresAt: until,
        });
      }
      return lookupFrom(key, stale.entry, stale.source, true, now);
    }
    const fallbackLoader = this.fallbackFor(ns.name);
    if (fallbackLoader) {
      // A fallback origin's answer is served, not stored: the real origin stays the source.
      try {
        const answer = await this.withHardTimeout(ns, settings, (signal) =>
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

  /**
   * The entries a value gets in each layer: per-layer TTL (adaptive, or the exact TTL a caller
   * or origin named), jitter and stale window. `l2` is undefined when L2 is not to be written.
   */
  private entriesFor(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    result: LoadResult,
    createdAt: number,
    loadMs: number,
    freshForMs: number | undefined,
    version: bigint,
    skipL2Admission = false,
  ): StoreEntries {
    const base = {
      value: result.found && result.value ? result.value : new Uint8Array(0),
      createdAt,
      version: result.version && result.version > 0n ? result.version : version,
      tags: result.tags ?? [],
      flags: result.found ? 0 : EntryFlags.NEGATIVE,
      loadMs,
    };
    const popularity = settings.adaptiveTtl.enabled && this.l1 ? this.l1.frequency(ns.name, key) : undefined;
    // A TTL the caller or the origin named is kept exactly; only policy TTLs get jitter.
    const exact = result.found && result.ttlMs !== undefined;
    const ttlFor = (layer: LayerSettings): number => {
      if (!result.found) return settings.negativeTtlMs;
      if (result.ttlMs !== undefined) return result.ttlMs;
      if (popularity === undefined) return layer.ttlMs;
      // Adaptive TTL: a cold key (sketch estimate 0) gets a quarter of the TTL, the hottest
      // (15) twice it, within the namespace's bounds.
      const scaled = layer.ttlMs * (0.25 + (1.75 * Math.min(popularity, 15)) / 15);
      return Math.min(settings.adaptiveTtl.maxTtlMs, Math.max(settings.adaptiveTtl.minTtlMs, scaled));
    };
    const l1 = this.timeline(base, settings, settings.l1, ttlFor(settings.l1), freshForMs, exact);
    // With L1 admission off for the namespace, its entries skip TinyLFU's duel in L1.
    const l1Entry = settings.l1.admission ? l1 : { ...l1, flags: l1.flags | EntryFlags.ADMIT };
    // L2 admission: one-hit wonders (keys L1's sketch has seen less than twice) stay out of Redis.
    const admitted = skipL2Admission || !settings.l2.admission || (this.l1?.frequency(ns.name, key) ?? 2) >= 2;
    const l2 =
      this.l2 && settings.l2.enabled && admitted
        ? this.timeline(base, settings, settings.l2, ttlFor(settings.l2), freshForMs, exact)
        : undefined;
    return { l1: l1Entry, l2 };
  }

  /**
   * Writes a value's entries, L2 then L1. When L2 keeps what it has (a newer version, or a
   * deletion newer than the value) L1 is left alone too: this instance never holds a copy older
   * than the shared one. An unreachable L2 does not stop the L1 write (the instance serves on).
   */
  private async store(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    entries: StoreEntries,
  ): Promise<StoreOutcome> {
    let outcome: StoreOutcome = "stored";
    if (this.l2 && entries.l2) {
      try {
        if (!(await this.l2.set(ns.name, key, entries.l2))) return "refused";
        ns.stats.l2Puts++;
      } catch {
        outcome = "l2-unreachable";
      }
    }
    if (this.l1 && settings.l1.enabled && this.l1.set(ns.name, key, entries.l1)) ns.stats.l1Puts++;
    return outcome;
  }

  /** Copies an L2 hit into L1 per the promotion rule, keeping its age, never outliving L2's copy. */
  private promote(ns: NamespaceState, settings: NamespaceSettings, key: string, l2Entry: Entry): void {
    if (!this.l1) return;
    if (settings.promotion.minFrequency > 0 && this.l1.frequency(ns.name, key) < settings.promotion.minFrequency) {
      return;
    }
    const l1Ttl = settings.l1.ttlMs * (1 + settings.l1.jitter * this.random());
    const expiresAt = Math.min(l2Entry.expiresAt, this.clock.now() + l1Ttl);
    const entry: Entry = {
      ...l2Entry,
      flags: settings.l1.admission ? l2Entry.flags : l2Entry.flags | EntryFlags.ADMIT,
      freshUntil: Math.min(l2Entry.freshUntil, expiresAt),
      expiresAt,
      staleUntil: Math.min(l2Entry.staleUntil, expiresAt + Math.max(0, l2Entry.staleUntil - l2Entry.expiresAt)),
    };
    if (this.l1.set(ns.name, key, entry)) ns.stats.l1Puts++;
  }

  /** An entry's timeline in one layer: TTL and freshness with jitter, then the stale window. */
  private timeline(
    base: Omit<Entry, "freshUntil" | "expiresAt" | "staleUntil">,
    settings: NamespaceSettings,
    layer: LayerSettings,
    ttlMs: number,
    freshForMs: number | undefined,
    exact: boolean,
  ): Entry {
    // Jitter spreads expiries of entries written together, so they are not reloaded together.
    const spread = exact ? 1 : 1 + layer.jitter * this.random();
    const ttl = ttlMs * spread;
    const fresh = Math.min(ttl, (freshForMs ?? Math.min(layer.freshForMs, ttlMs)) * spread);
    const expiresAt = base.createdAt + ttl;
    const staleWindow = Math.max(
      layer.staleWhileRevalidateMs,
      settings.failSafe.enabled ? settings.failSafe.maxStaleMs : 0,
    );
    return { ...base, freshUntil: base.createdAt + fresh, expiresAt, staleUntil: expiresAt + staleWindow };
  }

  /**
   * A version greater than `current` and than every version handed out here: milliseconds of
   * time times 2^20, plus this instance's random salt, so two instances writing or loading a
   * key in the same millisecond still get different versions (a Set's notice keeps only the
   * copy of that very write).
   */
  private nextVersion(current: bigint): bigint {
    let candidate = BigInt(Math.floor(this.clock.now())) * VERSION_SPACE + this.versionSalt;
    if (candidate <= this.lastVersion) candidate = this.lastVersion + 1n;
    if (candidate <= current) candidate = current + 1n;
    this.lastVersion = candidate;
    return candidate;
  }

  /** Stamps another instance set, learnt through the shared layer. */
  private applyStamps(namespace: string, stamps: StampSet): void {
    let ns: NamespaceState;
    try {
      ns = this.namespace(namespace);
    } catch {
      return; // a namespace this instance cannot hold: nothing of it is cached here
    }
    for (const [tag, at] of stamps.tags) ns.stamps.stampTag(tag, at);
    for (const [prefix, at] of stamps.prefixes) ns.stamps.stampPrefix(prefix, at);
    if (Number.isFinite(stamps.all)) ns.stamps.stampAll(stamps.all);
  }

  /** Forgets stamps no live entry can predate. */
  private pruneStamps(ns: NamespaceState): void {
    const retention = this.stampRetention(ns, this.policies.get(ns.name));
    ns.stamps.prune(this.clock.now() - retention);
  }

  /**
   * How long a stamp can matter (ms): the longest an entry may live, explicit TTLs and stale
   * windows included. When a policy shortens it, the longer one holds until every entry made
   * under it has died.
   */
  private stampRetention(ns: NamespaceState, settings: NamespaceSettings): number {
    const now = this.clock.now();
    const current = longestLifetimeMs(settings);
    const held = ns.retention;
    if (current >= held.ms || now > held.since + held.ms) {
      ns.retention = { ms: current, since: now };
      return current;
    }
    return held.ms;
  }
}

function lookupFrom(key: string, entry: Entry, source: Source, stale: boolean, now: number): Lookup {
  const found = !isNegative(entry);
  return {
    key,
    found,
    value: found ? entry.value : undefined,
    source: found ? source : "none",
    stale,
    // Whole milliseconds: creation times carry sub-millisecond steps (MonotonicTime).
    ageMs: Math.max(0, Math.floor(now - entry.createdAt)),
    ttlRemainingMs: Math.max(0, Math.floor(entry.expiresAt - now)),
    version: entry.version,
    tags: entry.tags,
  };
}

/** The answer carrying a fallback value: found, never cached, no age or version. */
export function fallbackLookup(key: string, value: Uint8Array): Lookup {
  return { ...notFound(key), found: true, value, source: "fallback" };
}

function notFound(key: string): Lookup {
  return {
    key,
    found: false,
    value: undefined,
    source: "none",
    stale: false,
    ageMs: 0,
    ttlRemainingMs: 0,
    version: 0n,
    tags: [],
  };
}

/** The promise's value, or `fallback()` if `ms` pass first (the promise goes on). */
function raceTimer<T>(promise: Promise<T>, ms: number, fallback: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback()), ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Waits for a shared promise, but lets this caller leave when its signal aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function abortReason(signal: AbortSignal): CacheError {
  const reason: unknown = signal.reason;
  if (reason instanceof CacheError) return reason;
  return new CacheError(Status.CANCELLED, "the caller stopped waiting before the value was loaded");
}
