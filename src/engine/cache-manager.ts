import { CacheError, Status } from "../errors.js";
import { type Clock, MonotonicTime, systemClock } from "./clock.js";
import { type Entry, EntryFlags, isNegative } from "./entry.js";
import type { KeyFrequency, Layer, LayerCounters } from "./layer.js";
import type { Loader, LoadResult } from "./loader.js";
import type { LayerSettings, NamespaceSettings, WriteMode } from "./policy.js";
import { NAMESPACE_PATTERN, PolicyStore } from "./policy-store.js";
import { SingleFlight } from "./single-flight.js";
import { Stamps } from "./stamps.js";
import { NamespaceStats } from "./stats.js";

/** Where a value came from. `none`: nothing was found anywhere. */
export type Source = "l1" | "l2" | "loader" | "fallback" | "none";

/** Options of one read. */
export interface ReadOptions {
  /** Unset: the namespace policy decides. False: never serve stale. */
  allowStale?: boolean;
  /** Reject cached values older than this (ms) and load instead. */
  maxAgeMs?: number;
  bypassL1?: boolean;
  bypassL2?: boolean;
  /** On a miss, answer not found instead of calling the loader. */
  skipLoader?: boolean;
  /** Load from the origin even if a fresh value is cached. */
  forceRefresh?: boolean;
  /** Aborted when the caller stops waiting (deadline, cancellation). */
  signal?: AbortSignal;
}

/** The answer to a read. */
export interface Lookup {
  key: string;
  found: boolean;
  value: Uint8Array | undefined;
  source: Source;
  stale: boolean;
  ageMs: number;
  ttlRemainingMs: number;
  version: bigint;
  tags: readonly string[];
}

/** Options of one write. */
export interface WriteOptions {
  ttlMs?: number;
  freshForMs?: number;
  tags?: readonly string[];
  /** 0n or unset: assigned by the cache. */
  version?: bigint;
  writeMode?: WriteMode;
}

/** The answer to a write. */
export interface WriteResult {
  version: bigint;
  applied: boolean;
  writeMode: WriteMode;
}

/** What to invalidate in one namespace. */
export interface InvalidationTarget {
  keys?: readonly string[];
  tags?: readonly string[];
  /** Set (even empty) to drop every key with this prefix; "" drops the whole namespace. */
  prefix?: string;
}

/** The answer to an invalidation. */
export interface InvalidationResult {
  keysRemoved: number;
  stamp: number;
}

/** A load running now. */
export interface InFlightInfo {
  namespace: string;
  key: string;
  startedAt: number;
  waiters: number;
}

/** What one layer holds for one key. */
export interface KeyLayerInspection {
  layer: "l1" | "l2";
  present: boolean;
  stale: boolean;
  ageMs: number;
  ttlRemainingMs: number;
  version: bigint;
  sizeBytes: number;
}

/** Everything known about one key, for inspection. */
export interface KeyInspection {
  namespace: string;
  key: string;
  layers: KeyLayerInspection[];
  frequency: number;
  lastLoadMs: number;
}

/** Everything the manager needs; only `l1` is required for an in-memory cache. */
export interface CacheManagerOptions {
  l1?: Layer<false>;
  l2?: Layer<true>;
  /** The loader of a namespace, or undefined when it has none (a miss is then "not found"). */
  loaderFor?: (namespace: string) => Loader | undefined;
  policies?: PolicyStore;
  clock?: Clock;
  /** Uniform random numbers in [0, 1), injectable for deterministic tests. */
  random?: () => number;
  /** Namespaces created on first use are capped so that a client cannot grow them without end. */
  maxNamespaces?: number;
  /** Called with errors of background work (refreshes), which have no caller to report to. */
  onBackgroundError?: (error: unknown, namespace: string, key: string) => void;
}

interface NamespaceState {
  readonly name: string;
  readonly stats: NamespaceStats;
  readonly stamps: Stamps;
  /** The highest version handed out or seen per key is not kept (unbounded); versions are time-based. */
}

/** Joins namespace and key into one single-flight key; namespaces never contain U+0000. */
function flightKey(namespace: string, key: string): string {
  return `${namespace}\u0000${key}`;
}

/**
 * The layered cache: reads go L1 → L2 → loader with one load per key however many requests
 * wait for it; writes go through the layers; invalidation by key, tag or prefix.
 *
 *   const cache = new CacheManager({ l1: new MemoryLayer({ maxBytes: 64 << 20 }) });
 *   const hit = await cache.get("products", "42");
 */
export class CacheManager {
  readonly policies: PolicyStore;
  readonly clock: Clock;
  private readonly l1: Layer<false> | undefined;
  private readonly l2: Layer<true> | undefined;
  private readonly loaderFor: (namespace: string) => Loader | undefined;
  private readonly random: () => number;
  private readonly maxNamespaces: number;
  private readonly onBackgroundError: (error: unknown, namespace: string, key: string) => void;
  private readonly time: MonotonicTime;
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly flights = new SingleFlight<Lookup>();
  private lastVersion = 0n;

  constructor(options: CacheManagerOptions = {}) {
    this.l1 = options.l1;
    this.l2 = options.l2;
    this.loaderFor = options.loaderFor ?? (() => undefined);
    this.policies = options.policies ?? new PolicyStore();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.maxNamespaces = options.maxNamespaces ?? 1000;
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.time = new MonotonicTime(this.clock);
  }

  /** Reads one key through the layers. */
  async get(namespace: string, key: string, options: ReadOptions = {}): Promise<Lookup> {
    const ns = this.namespace(namespace);
    const settings = this.policies.get(namespace);
    ns.stats.requests++;
    const now = this.clock.now();
    let staleCandidate: Entry | undefined;

    if (this.l1 && settings.l1.enabled && !options.bypassL1 && !options.forceRefresh) {
      const entry = this.usable(ns, key, this.l1.get(namespace, key), options, now);
      if (entry) {
        const answer = this.answerFromCache(ns, settings.l1, key, entry, "l1", options, now);
        if (answer) {
          ns.stats.l1Hits++;
          return answer;
        }
        staleCandidate = entry;
      }
      ns.stats.l1Misses++;
    }

    const { promise, shared } = this.flights.run(flightKey(namespace, key), now, () =>
      this.loadThroughLayers(ns, settings, key, options, staleCandidate),
    );
    if (shared) ns.stats.loadsCollapsed++;
    return options.signal ? abortable(promise, options.signal) : promise;
  }

  /** Reads many keys of one namespace; a key's failure is its own, not the call's. */
  async getMany(
    namespace: string,
    keys: readonly string[],
    options: ReadOptions = {},
  ): Promise<Map<string, Lookup | CacheError>> {
    const results = new Map<string, Lookup | CacheError>();
    const distinct = [...new Set(keys)];
    // Each key takes the single-key path: L1 answers synchronously and misses share flights.
    // TODO(engine issue): one L2 MGET and one loadMany for all misses.
    await Promise.all(
      distinct.map(async (key) => {
        try {
          results.set(key, await this.get(namespace, key, options));
        } catch (error) {
          results.set(key, error instanceof CacheError ? error : new CacheError(Status.INTERNAL, String(error)));
        }
      }),
    );
    return new Map(distinct.map((key) => [key, results.get(key) as Lookup | CacheError]));
  }

  /** Writes one key through the layers. */
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
    if (writeMode !== "cache-only") {
      throw new CacheError(
        Status.FAILED_PRECONDITION,
        `namespace ${namespace} has no writer configured, so write mode ${writeMode} cannot be used`,
      );
    }
    const current = this.l1?.get(namespace, key);
    const requested = options.version ?? 0n;
    if (requested > 0n && current && current.version > requested) {
      return { version: current.version, applied: false, writeMode };
    }
    const version = requested > 0n ? requested : this.nextVersion(current?.version ?? 0n);
    const createdAt = this.time.next();
    const result: LoadResult = { found: true, value, tags: options.tags ?? [], version };
    if (options.ttlMs !== undefined) result.ttlMs = options.ttlMs;
    await this.store(ns, settings, key, result, createdAt, 0, options.freshForMs);
    return { version, applied: true, writeMode };
  }

  /** Drops keys now and stamps tags and prefixes so that older entries count as gone. */
  async invalidate(namespace: string, target: InvalidationTarget): Promise<InvalidationResult> {
    const ns = this.namespace(namespace);
    const stamp = this.time.next();
    let keysRemoved = 0;
    for (const key of target.keys ?? []) {
      if (this.l1?.delete(namespace, key)) keysRemoved++;
      if (this.l2) await this.l2.delete(namespace, key);
    }
    for (const tag of target.tags ?? []) ns.stamps.stampTag(tag, stamp);
    if (target.prefix !== undefined) ns.stamps.stampPrefix(target.prefix, stamp);
    this.pruneStamps(ns);
    return { keysRemoved, stamp };
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

  /** What each layer holds for a key, without counting a hit or touching recency. */
  async inspectKey(namespace: string, key: string): Promise<KeyInspection> {
    const now = this.clock.now();
    const ns = this.namespaces.get(namespace);
    const describe = (layer: "l1" | "l2", entry: Entry | undefined): KeyLayerInspection => {
      const live =
        entry && ns ? this.usable(ns, key, entry, {}, now) : entry && now < entry.staleUntil ? entry : undefined;
      return {
        layer,
        present: live !== undefined,
        stale: live !== undefined && now >= live.expiresAt,
        ageMs: live ? now - live.createdAt : 0,
        ttlRemainingMs: live ? Math.max(0, live.expiresAt - now) : 0,
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
    for (const [composite, flight] of this.flights.entries()) {
      const split = composite.indexOf("\u0000");
      const ns = composite.slice(0, split);
      if (namespace && ns !== namespace) continue;
      out.push({
        namespace: ns,
        key: composite.slice(split + 1),
        startedAt: flight.startedAt,
        waiters: flight.waiters,
      });
    }
    return out;
  }

  /** Number of loads running now (bounded by concurrent distinct misses). */
  get inFlightCount(): number {
    return this.flights.size;
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
        `too many namespaces (limit ${this.maxNamespaces}); reuse an existing namespace or raise maxNamespaces`,
      );
    }
    const state: NamespaceState = { name, stats: new NamespaceStats(), stamps: new Stamps() };
    this.namespaces.set(name, state);
    return state;
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

  /**
   * Answers from a cached entry when its timeline allows: fresh, or refreshable (past
   * freshUntil, before expiresAt), or within stale-while-revalidate. Otherwise undefined,
   * and the entry stays a fail-safe candidate.
   */
  private answerFromCache(
    ns: NamespaceState,
    layer: LayerSettings,
    key: string,
    entry: Entry,
    source: Source,
    options: ReadOptions,
    now: number,
  ): Lookup | undefined {
    if (now < entry.freshUntil) return lookupFrom(key, entry, source, false, now);
    if (now < entry.expiresAt) {
      this.refreshInBackground(ns, key);
      return lookupFrom(key, entry, source, false, now);
    }
    if (options.allowStale !== false && now < entry.expiresAt + layer.staleWhileRevalidateMs) {
      ns.stats.staleServed++;
      this.refreshInBackground(ns, key);
      return lookupFrom(key, entry, source, true, now);
    }
    return undefined;
  }

  /** Starts a load in the background unless one is running for the key. */
  private refreshInBackground(ns: NamespaceState, key: string): void {
    const loader = this.loaderFor(ns.name);
    if (!loader) return;
    const settings = this.policies.get(ns.name);
    const { promise, shared } = this.flights.run(flightKey(ns.name, key), this.clock.now(), () =>
      this.callLoader(ns, settings, loader, key, undefined, {}),
    );
    if (shared) return;
    ns.stats.backgroundRefreshes++;
    promise.catch((error: unknown) => this.onBackgroundError(error, ns.name, key));
  }

  /** The shared part of a miss: L2, then the loader, then fail-safe. */
  private async loadThroughLayers(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    options: ReadOptions,
    staleCandidate: Entry | undefined,
  ): Promise<Lookup> {
    const namespace = ns.name;
    if (this.l2 && settings.l2.enabled && !options.bypassL2 && !options.forceRefresh) {
      const now = this.clock.now();
      const entry = this.usable(ns, key, await this.l2.get(namespace, key), options, now);
      if (entry) {
        const answer = this.answerFromCache(ns, settings.l2, key, entry, "l2", options, now);
        if (answer) {
          ns.stats.l2Hits++;
          if (this.l1 && settings.l1.enabled && !options.bypassL1) this.promote(ns, settings, key, entry);
          return answer;
        }
        if (!staleCandidate || entry.createdAt > staleCandidate.createdAt) staleCandidate = entry;
      }
      ns.stats.l2Misses++;
    }
    const loader = options.skipLoader ? undefined : this.loaderFor(namespace);
    if (!loader) {
      const now = this.clock.now();
      if (staleCandidate && options.allowStale === true) {
        ns.stats.staleServed++;
        return lookupFrom(key, staleCandidate, "l1", true, now);
      }
      return notFound(key);
    }
    return this.callLoader(ns, settings, loader, key, staleCandidate, options);
  }

  /** Calls the loader and stores its answer; on failure serves stale or fallback, or throws. */
  private async callLoader(
    ns: NamespaceState,
    settings: NamespaceSettings,
    loader: Loader,
    key: string,
    staleCandidate: Entry | undefined,
    options: ReadOptions,
  ): Promise<Lookup> {
    const started = this.clock.now();
    let result: LoadResult;
    try {
      // The shared load is not tied to one caller's signal: other waiters may still want it.
      result = await loader.load(ns.name, key, { signal: new AbortController().signal });
    } catch (error) {
      ns.stats.loadFailures++;
      return this.failSafe(ns, settings, key, staleCandidate, options, error);
    }
    const loadMs = this.clock.now() - started;
    ns.stats.loadSuccesses++;
    ns.stats.loadLatency.record(loadMs);
    if (result.found && result.value && result.value.byteLength > settings.maxValueBytes) {
      ns.stats.loadFailures++;
      const error = new CacheError(
        Status.FAILED_PRECONDITION,
        `the loader returned ${result.value.byteLength} bytes for ${ns.name}/${key}, more than the namespace's maxValueBytes ${settings.maxValueBytes}`,
      );
      return this.failSafe(ns, settings, key, staleCandidate, options, error);
    }
    const createdAt = this.time.next();
    const stored = await this.store(ns, settings, key, result, createdAt, loadMs, undefined);
    return lookupFrom(key, stored, result.found ? "loader" : "none", false, this.clock.now());
  }

  private failSafe(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    staleCandidate: Entry | undefined,
    options: ReadOptions,
    error: unknown,
  ): Lookup {
    const now = this.clock.now();
    if (
      staleCandidate &&
      settings.failSafe.enabled &&
      options.allowStale !== false &&
      now < staleCandidate.staleUntil
    ) {
      ns.stats.staleServed++;
      return lookupFrom(key, staleCandidate, "l1", true, now);
    }
    if (settings.fallbackValue) {
      ns.stats.fallbackServed++;
      return {
        key,
        found: true,
        value: settings.fallbackValue,
        source: "fallback",
        stale: false,
        ageMs: 0,
        ttlRemainingMs: 0,
        version: 0n,
        tags: [],
      };
    }
    if (error instanceof CacheError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CacheError(
      Status.UNAVAILABLE,
      `loading ${ns.name}/${key} failed and no stale value is cached: ${message}`,
    );
  }

  /** Builds the per-layer entries for a value and writes L2 then L1. Returns the L1 entry. */
  private async store(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    result: LoadResult,
    createdAt: number,
    loadMs: number,
    freshForMs: number | undefined,
  ): Promise<Entry> {
    const version = result.version && result.version > 0n ? result.version : this.nextVersion(0n);
    const base = {
      value: result.found && result.value ? result.value : new Uint8Array(0),
      createdAt,
      version,
      tags: result.tags ?? [],
      flags: result.found ? 0 : EntryFlags.NEGATIVE,
      loadMs,
    };
    const ttlFor = (layer: LayerSettings) => (result.found ? (result.ttlMs ?? layer.ttlMs) : settings.negativeTtlMs);
    const l1Entry = this.timeline(base, settings, settings.l1, ttlFor(settings.l1), freshForMs);
    if (this.l2 && settings.l2.enabled) {
      const l2Entry = this.timeline(base, settings, settings.l2, ttlFor(settings.l2), freshForMs);
      if (await this.l2.set(ns.name, key, l2Entry)) ns.stats.l2Puts++;
    }
    if (this.l1 && settings.l1.enabled && this.l1.set(ns.name, key, l1Entry)) ns.stats.l1Puts++;
    return l1Entry;
  }

  /** Copies an L2 hit into L1 per the promotion rule, keeping its age, never outliving L2's copy. */
  private promote(ns: NamespaceState, settings: NamespaceSettings, key: string, l2Entry: Entry): void {
    if (!this.l1) return;
    if (settings.promotion.minFrequency > 0 && this.l1.frequency(ns.name, key) < settings.promotion.minFrequency)
      return;
    const l1Ttl = settings.l1.ttlMs * (1 + settings.l1.jitter * this.random());
    const expiresAt = Math.min(l2Entry.expiresAt, this.clock.now() + l1Ttl);
    const entry: Entry = {
      ...l2Entry,
      freshUntil: Math.min(l2Entry.freshUntil, expiresAt),
      expiresAt,
      staleUntil: Math.min(l2Entry.staleUntil, expiresAt + Math.max(0, l2Entry.staleUntil - l2Entry.expiresAt)),
    };
    if (this.l1.set(ns.name, key, entry)) ns.stats.l1Puts++;
  }

  private timeline(
    base: Omit<Entry, "freshUntil" | "expiresAt" | "staleUntil">,
    settings: NamespaceSettings,
    layer: LayerSettings,
    ttlMs: number,
    freshForMs: number | undefined,
  ): Entry {
    const spread = 1 + layer.jitter * this.random();
    const ttl = ttlMs * spread;
    const fresh = Math.min(ttl, (freshForMs ?? Math.min(layer.freshForMs, ttlMs)) * spread);
    const expiresAt = base.createdAt + ttl;
    const staleWindow = Math.max(
      layer.staleWhileRevalidateMs,
      settings.failSafe.enabled ? settings.failSafe.maxStaleMs : 0,
    );
    return { ...base, freshUntil: base.createdAt + fresh, expiresAt, staleUntil: expiresAt + staleWindow };
  }

  /** A version greater than `current` and than every version handed out here (µs of time). */
  private nextVersion(current: bigint): bigint {
    let candidate = BigInt(Math.floor(this.clock.now() * 1000));
    if (candidate <= this.lastVersion) candidate = this.lastVersion + 1n;
    if (candidate <= current) candidate = current + 1n;
    this.lastVersion = candidate;
    return candidate;
  }

  private pruneStamps(ns: NamespaceState): void {
    const settings = this.policies.get(ns.name);
    const longest =
      Math.max(settings.l1.ttlMs, settings.l2.ttlMs) * (1 + Math.max(settings.l1.jitter, settings.l2.jitter));
    const stale = Math.max(
      settings.failSafe.maxStaleMs,
      settings.l1.staleWhileRevalidateMs,
      settings.l2.staleWhileRevalidateMs,
    );
    ns.stamps.prune(this.clock.now() - longest - stale);
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
