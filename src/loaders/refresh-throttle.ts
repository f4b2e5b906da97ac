import { type Clock, systemClock } from "../engine/clock.js";
import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { type CacheError, Status } from "../errors.js";
import { RejectedBy, rejection } from "./failures.js";

/** Options of a {@link RefreshThrottlingLoader}. */
export interface RefreshThrottleOptions {
  /** A key is loaded at most once per this many ms. */
  intervalMs: number;
  /** Keys remembered at once; the oldest is forgotten first. Default 10,000. */
  maxKeys?: number;
  clock?: Clock;
}

/**
 * A load context that may say whether the engine holds a stale value to serve. When it says
 * `false`, the throttle lets the load through: failing fast would leave the caller nothing.
 */
export interface ThrottleContext extends LoadContext {
  hasStale?: boolean;
}

/**
 * Per-key refresh throttling for hot keys: a key is loaded at most once per `intervalMs`. A
 * load within the interval fails fast with RESOURCE_EXHAUSTED and the `throttled` detail, so
 * the engine's fail-safe serves the stale value instead of asking the origin again. Memory is
 * bounded by `maxKeys` (oldest forgotten first, and keys past their interval are dropped as
 * they come up).
 *
 *   const loader = new RefreshThrottlingLoader(origin, { intervalMs: 1000 });
 */
export class RefreshThrottlingLoader implements Loader {
  readonly intervalMs: number;
  readonly maxKeys: number;
  readonly loadMany?: (
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ) => Promise<Map<string, LoadResult | Error>>;
  private readonly clock: Clock;
  /** Last load start per `namespace U+0000 key`, oldest first (re-inserted on every load). */
  private readonly lastLoad = new Map<string, number>();
  private throttledCount = 0;

  constructor(
    private readonly inner: Loader,
    options: RefreshThrottleOptions,
  ) {
    this.intervalMs = Math.max(0, options.intervalMs);
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 10_000));
    this.clock = options.clock ?? systemClock;
    const loadMany = inner.loadMany?.bind(inner);
    if (loadMany) this.loadMany = (namespace, keys, context) => this.throttleMany(loadMany, namespace, keys, context);
  }

  load(namespace: string, key: string, context: ThrottleContext): Promise<LoadResult> {
    const refused = this.admit(namespace, key, context);
    if (refused) return Promise.reject(refused);
    return this.inner.load(namespace, key, context);
  }

  /** Loads refused so far. */
  get throttled(): number {
    return this.throttledCount;
  }

  /** Keys remembered now (at most `maxKeys`). */
  get size(): number {
    return this.lastLoad.size;
  }

  private async throttleMany(
    loadMany: NonNullable<Loader["loadMany"]>,
    namespace: string,
    keys: readonly string[],
    context: ThrottleContext,
  ): Promise<Map<string, LoadResult | Error>> {
    const out = new Map<string, LoadResult | Error>();
    const allowed: string[] = [];
    for (const key of keys) {
      const refused = this.admit(namespace, key, context);
      if (refused) out.set(key, refused);
      else allowed.push(key);
    }
    if (allowed.length === 0) return out;
    const loaded = await loadMany(namespace, allowed, context);
    for (const key of allowed) out.set(key, loaded.get(key) ?? { found: false });
    return out;
  }

  /** Records the load of a key, or returns the error refusing it. */
  private admit(namespace: string, key: string, context: ThrottleContext): CacheError | undefined {
    if (this.intervalMs <= 0) return undefined;
    const now = this.clock.now();
    this.dropExpired(now);
    const id = `${namespace}\u0000${key}`;
    const last = this.lastLoad.get(id);
    // Without a stale value to fall back on, the load goes through (but still counts as one).
    if (last !== undefined && now - last < this.intervalMs && context.hasStale !== false) {
      this.throttledCount++;
      return rejection(
        Status.RESOURCE_EXHAUSTED,
        RejectedBy.REFRESH_THROTTLE,
        `${namespace}/${key} was refreshed less than ${this.intervalMs} ms ago (${Math.max(0, Math.floor(now - last))} ms); the origin is asked again after refresh_throttle passes`,
        { throttled: "true" },
      );
    }
    this.lastLoad.delete(id);
    this.lastLoad.set(id, now);
    if (this.lastLoad.size > this.maxKeys) {
      const oldest = this.lastLoad.keys().next();
      if (!oldest.done) this.lastLoad.delete(oldest.value);
    }
    return undefined;
  }

  /** Forgets keys whose interval has passed, from the oldest on (the map is in load order). */
  private dropExpired(now: number): void {
    for (const [id, at] of this.lastLoad) {
      if (now - at < this.intervalMs) break;
      this.lastLoad.delete(id);
    }
  }
}
