import { parseBytes, parseDuration } from "./config/units.js";
import { CacheManager, type CacheManagerOptions } from "./engine/cache-manager.js";
import type { Clock } from "./engine/clock.js";
import type { Layer } from "./engine/layer.js";
import type { LoadContext, Loader, LoadResult } from "./engine/loader.js";
import { fallbackLookup } from "./engine/lookups.js";
import { defaultSettings, type NamespaceSettings } from "./engine/policy.js";
import { PolicyStore } from "./engine/policy-store.js";
import { PriorityRefresher } from "./engine/refresher.js";
import type { Lookup, ReadOptions, WriteOptions, WriteResult } from "./engine/types.js";
import { MemoryLayer } from "./layers/memory-layer.js";

/** What a get-or-set factory may return: bytes, text, nothing (absent), or a full result. */
export type Produced = Uint8Array | string | undefined | LoadResult;

/** A function that produces the value of a missing key. */
export type Factory = (key: string, context: LoadContext) => Promise<Produced> | Produced;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toLoadResult(produced: Produced): LoadResult {
  if (produced === undefined) return { found: false };
  if (typeof produced === "string") return { found: true, value: encoder.encode(produced) };
  if (produced instanceof Uint8Array) return { found: true, value: produced };
  return produced;
}

/**
 * The engine as a library, with the conveniences callers expect:
 *
 *   const cache = Cache.builder().l1({ maxBytes: "64MiB" }).namespace("users", (p) => p.ttl("10m")).build();
 *   const user = await cache.getOrSetJson("users", "42", async () => db.user(42));
 */
export class Cache {
  constructor(
    readonly manager: CacheManager,
    private readonly refresher?: PriorityRefresher,
  ) {}

  /** A fluent builder: layers, loaders and namespace policies in code. */
  static builder(): CacheBuilder {
    return new CacheBuilder();
  }

  /** Reads a key through the layers (and the namespace's loader, if it has one). */
  get(namespace: string, key: string, options?: ReadOptions): Promise<Lookup> {
    return this.manager.get(namespace, key, options);
  }

  /** The value as UTF-8 text, or undefined when absent. */
  async getText(namespace: string, key: string, options?: ReadOptions): Promise<string | undefined> {
    const found = await this.manager.get(namespace, key, options);
    return found.found && found.value ? decoder.decode(found.value) : undefined;
  }

  /** The value parsed as JSON, or undefined when absent. */
  async getJson<T>(namespace: string, key: string, options?: ReadOptions): Promise<T | undefined> {
    const text = await this.getText(namespace, key, options);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** Writes bytes or text. */
  set(namespace: string, key: string, value: Uint8Array | string, options?: WriteOptions): Promise<WriteResult> {
    return this.manager.set(namespace, key, typeof value === "string" ? encoder.encode(value) : value, options);
  }

  /** Writes a value as JSON. */
  setJson(namespace: string, key: string, value: unknown, options?: WriteOptions): Promise<WriteResult> {
    return this.set(namespace, key, JSON.stringify(value), options);
  }

  /**
   * The cached value, or the factory's on a miss (stored for the next caller). Concurrent
   * calls for one key run the factory once.
   */
  getOrSet(namespace: string, key: string, factory: Factory, options?: ReadOptions): Promise<Lookup> {
    const loader: Loader = { load: async (_ns, k, context) => toLoadResult(await factory(k, context)) };
    return this.manager.getOrLoad(namespace, key, loader, options);
  }

  /** getOrSet for JSON values. */
  async getOrSetJson<T>(
    namespace: string,
    key: string,
    factory: (key: string, context: LoadContext) => Promise<T | undefined> | T | undefined,
    options?: ReadOptions,
  ): Promise<T | undefined> {
    const found = await this.getOrSet(
      namespace,
      key,
      async (k, context) => {
        const value = await factory(k, context);
        return value === undefined ? undefined : JSON.stringify(value);
      },
      options,
    );
    return found.found && found.value ? (JSON.parse(decoder.decode(found.value)) as T) : undefined;
  }

  /**
   * getOrSet that never fails: when the factory fails and nothing stale is cached, answers
   * `fallback` (not stored) instead of throwing.
   */
  async getOrSetWithFallback(
    namespace: string,
    key: string,
    factory: Factory,
    fallback: Uint8Array | string,
    options?: ReadOptions,
  ): Promise<Lookup> {
    try {
      return await this.getOrSet(namespace, key, factory, options);
    } catch {
      return fallbackLookup(key, typeof fallback === "string" ? encoder.encode(fallback) : fallback);
    }
  }

  /** Drops keys, tags or a prefix. */
  invalidate(namespace: string, target: Parameters<CacheManager["invalidate"]>[1]) {
    return this.manager.invalidate(namespace, target);
  }

  /** Stops background work (the priority refresher). */
  close(): void {
    this.refresher?.stop();
  }
}

/** A duration in ms or as text ("30s"). */
type DurationInput = number | string;
const ms = (d: DurationInput) => (typeof d === "number" ? d : parseDuration(d));

/** Fluent settings of one namespace. */
export class PolicyBuilder {
  constructor(readonly settings: NamespaceSettings) {}
  /** Hard TTL of both layers; freshness follows unless set after. */
  ttl(ttl: DurationInput): this {
    for (const layer of [this.settings.l1, this.settings.l2]) {
      layer.ttlMs = ms(ttl);
      layer.freshForMs = ms(ttl);
    }
    return this;
  }
  /** Soft TTL: past it the value is refreshed in the background. */
  freshFor(fresh: DurationInput): this {
    this.settings.l1.freshForMs = ms(fresh);
    this.settings.l2.freshForMs = ms(fresh);
    return this;
  }
  /** Random spread added to TTLs (fraction, e.g. 0.1). */
  jitter(fraction: number): this {
    this.settings.l1.jitter = fraction;
    this.settings.l2.jitter = fraction;
    return this;
  }
  staleWhileRevalidate(window: DurationInput): this {
    this.settings.l1.staleWhileRevalidateMs = ms(window);
    this.settings.l2.staleWhileRevalidateMs = ms(window);
    return this;
  }
  failSafe(maxStale: DurationInput, throttle: DurationInput = 5_000): this {
    this.settings.failSafe = { enabled: true, maxStaleMs: ms(maxStale), throttleMs: ms(throttle) };
    return this;
  }
  earlyRefresh(beta = 1): this {
    this.settings.earlyRefresh = { enabled: true, beta };
    return this;
  }
  adaptiveTtl(min: DurationInput, max: DurationInput): this {
    this.settings.adaptiveTtl = { enabled: true, minTtlMs: ms(min), maxTtlMs: ms(max) };
    return this;
  }
  /** Keep the `topKeys` hottest keys fresh in the background, within a budget. */
  priorityRefresh(topKeys: number, budget: { maxConcurrent?: number; maxPerSecond?: number } = {}): this {
    this.settings.priorityRefresh = {
      enabled: true,
      topKeys,
      maxConcurrent: budget.maxConcurrent ?? 4,
      maxPerSecond: budget.maxPerSecond ?? 50,
    };
    return this;
  }
  timeouts(soft: DurationInput, hard: DurationInput): this {
    this.settings.loadTimeouts = { softMs: ms(soft), hardMs: ms(hard) };
    return this;
  }
  fallback(value: Uint8Array | string): this {
    this.settings.fallbackValue = typeof value === "string" ? encoder.encode(value) : value;
    return this;
  }
  maxValueBytes(bytes: number): this {
    this.settings.maxValueBytes = bytes;
    return this;
  }
}

/** Composes layers, loaders and policies, then builds a {@link Cache}. */
export class CacheBuilder {
  private l1Options: { maxBytes: number; maxEntries: number } | undefined = {
    maxBytes: 64 * 1024 * 1024,
    maxEntries: 100_000,
  };
  private l2Layer: Layer<true> | undefined;
  private readonly loaders = new Map<string, Loader>();
  private readonly defaults = new PolicyBuilder(defaultSettings());
  private readonly custom = new Map<string, PolicyBuilder>();
  private clock: Clock | undefined;
  private refreshIntervalMs = 1_000;

  /** The in-process layer's bounds (default 64 MiB, 100,000 entries). */
  l1(options: { maxBytes?: number | string; maxEntries?: number }): this {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.l1Options = {
      maxBytes: parseBytes(maxBytes),
      maxEntries: options.maxEntries ?? 100_000,
    };
    return this;
  }
  /** A second, shared layer (for example Redis). */
  l2(layer: Layer<true>): this {
    this.l2Layer = layer;
    return this;
  }
  /** The loader a namespace reads through on a miss. */
  loader(namespace: string, loader: Loader | ((key: string, context: LoadContext) => Promise<Produced>)): this {
    this.loaders.set(
      namespace,
      typeof loader === "function"
        ? { load: async (_ns, key, context) => toLoadResult(await loader(key, context)) }
        : loader,
    );
    return this;
  }
  /** Settings every namespace starts from. */
  defaultPolicy(configure: (policy: PolicyBuilder) => PolicyBuilder | undefined): this {
    configure(this.defaults);
    return this;
  }
  /** Settings of one namespace, starting from the defaults set so far. */
  namespace(name: string, configure: (policy: PolicyBuilder) => PolicyBuilder | undefined): this {
    const builder = this.custom.get(name) ?? new PolicyBuilder(structuredClone(this.defaults.settings));
    configure(builder);
    this.custom.set(name, builder);
    return this;
  }
  /** An injected clock (tests). */
  withClock(clock: Clock): this {
    this.clock = clock;
    return this;
  }
  /** How often the priority refresher looks for hot keys to renew (default 1 s). */
  refreshEvery(interval: DurationInput): this {
    this.refreshIntervalMs = ms(interval);
    return this;
  }

  build(): Cache {
    const policies = new PolicyStore(
      this.defaults.settings,
      Object.fromEntries([...this.custom].map(([name, b]) => [name, b.settings])),
    );
    const options: CacheManagerOptions = {
      policies,
      loaderFor: (namespace) => this.loaders.get(namespace),
    };
    if (this.clock) options.clock = this.clock;
    if (this.l1Options) {
      options.l1 = new MemoryLayer({ ...this.l1Options, ...(this.clock ? { clock: this.clock } : {}) });
    }
    if (this.l2Layer) options.l2 = this.l2Layer;
    const manager = new CacheManager(options);
    const wantsRefresher = [this.defaults, ...this.custom.values()].some((b) => b.settings.priorityRefresh.enabled);
    const refresher = wantsRefresher
      ? new PriorityRefresher(manager, { intervalMs: this.refreshIntervalMs })
      : undefined;
    refresher?.start();
    return new Cache(manager, refresher);
  }
}
