import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import type { BreakerListener, BreakerState } from "./breaker.js";
import { type OriginCounters, Resilience, type ResilienceOptions } from "./resilience.js";
import type { StoreErrors, StoreItemInput, Writer } from "./writer.js";

/**
 * A Loader behind a {@link Resilience} stack: rate limit, concurrency cap, circuit breaker,
 * retry with full jitter, per-attempt timeout. A bulk `loadMany` is one guarded call.
 *
 *   const loader = new ResilientLoader(httpOrigin, { name: "origin for namespace products", maxConcurrency: 64 });
 */
export class ResilientLoader implements Loader {
  readonly loadMany?: (
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ) => Promise<Map<string, LoadResult | Error>>;
  private readonly guard: Resilience;

  constructor(
    private readonly inner: Loader,
    options: ResilienceOptions | Resilience,
  ) {
    this.guard = options instanceof Resilience ? options : new Resilience(options);
    const loadMany = inner.loadMany?.bind(inner);
    if (loadMany) {
      this.loadMany = (namespace, keys, context) =>
        this.guard.run((signal) => loadMany(namespace, keys, { signal }), context.signal);
    }
  }

  load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    return this.guard.run((signal) => this.inner.load(namespace, key, { signal }), context.signal);
  }

  /** The breaker's state ("closed" without a breaker). */
  breakerState(): BreakerState {
    return this.guard.breakerState();
  }

  /** Calls `listener` on every breaker state change. Returns an unsubscribe. */
  onBreakerStateChange(listener: BreakerListener): () => void {
    return this.guard.onBreakerStateChange(listener);
  }

  /** Calls, attempts, failures, retries and refusals so far. */
  counters(): OriginCounters {
    return this.guard.counters();
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.guard.close();
  }
}

/**
 * A Writer behind a {@link Resilience} stack. Writes carry versions, so a retried store is
 * idempotent at an origin that keeps the newest version.
 *
 *   const writer = new ResilientWriter(grpcOrigin, { name: "writer for namespace products", maxConcurrency: 16 });
 */
export class ResilientWriter implements Writer {
  private readonly guard: Resilience;

  constructor(
    private readonly inner: Writer,
    options: ResilienceOptions | Resilience,
  ) {
    this.guard = options instanceof Resilience ? options : new Resilience(options);
  }

  store(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors | undefined> {
    const signal = context?.signal ?? new AbortController().signal;
    return this.guard.run((attemptSignal) => this.inner.store(namespace, items, { signal: attemptSignal }), signal);
  }

  /** The breaker's state ("closed" without a breaker). */
  breakerState(): BreakerState {
    return this.guard.breakerState();
  }

  /** Calls, attempts, failures, retries and refusals so far. */
  counters(): OriginCounters {
    return this.guard.counters();
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.guard.close();
  }
}
