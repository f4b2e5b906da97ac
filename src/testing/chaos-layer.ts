import { type Scheduler, sleep, systemScheduler } from "../engine/clock.js";
import type { Entry } from "../engine/entry.js";
import type { ServiceHealth } from "../engine/health.js";
import type { Coordination, Layer, LayerCounters, Lease, StampSet, Tombstone } from "../engine/layer.js";
import { CacheError, Status } from "../errors.js";

/**
 * Wraps a remote layer and injects faults into its calls, to check how a cache (breakers,
 * fail-safe, fleet coordination) behaves when the layer fails or slows down:
 *
 *   const chaos = new ChaosLayer(new SharedMemoryLayer(store));
 *   chaos.alwaysFail();          // every call rejects with UNAVAILABLE
 *   chaos.alwaysDelay(250);      // every call waits 250 ms on the scheduler first
 *   chaos.neverFail(); chaos.neverDelay();
 *
 * Counters, status and stamp listeners pass through untouched; `coordination` fails and slows
 * down with the rest.
 */
export class ChaosLayer implements Layer<true> {
  readonly name: string;
  readonly coordination?: Coordination;
  /** Calls that got an injected failure. */
  injectedFailures = 0;
  private failure: Error | undefined;
  private delayMs = 0;

  constructor(
    private readonly inner: Layer<true>,
    private readonly scheduler: Scheduler = systemScheduler,
  ) {
    this.name = inner.name;
    const coordination = inner.coordination;
    if (coordination) {
      this.coordination = {
        // Unreachable coordination answers "unavailable" (the contract), not a rejection.
        acquireLeases: (namespace, keys, holdMs) =>
          this.faulty(() => coordination.acquireLeases(namespace, keys, holdMs)).catch(() => "unavailable" as const),
        poll: (namespace, keys) => this.faulty(() => coordination.poll(namespace, keys)),
        // Word of releases is a hint the polls back up: passed through as it is.
        ...(coordination.watchReleases ? { watchReleases: coordination.watchReleases.bind(coordination) } : {}),
      };
    }
  }

  /** Every call from now on rejects with `error` (UNAVAILABLE by default). */
  alwaysFail(error: Error = new CacheError(Status.UNAVAILABLE, "injected failure (ChaosLayer)")): void {
    this.failure = error;
  }

  neverFail(): void {
    this.failure = undefined;
  }

  /** Every call from now on waits `ms` on the scheduler before it runs (or fails). */
  alwaysDelay(ms: number): void {
    this.delayMs = ms;
  }

  neverDelay(): void {
    this.delayMs = 0;
  }

  get(namespace: string, key: string): Promise<Entry | undefined> {
    return this.faulty(() => this.inner.get(namespace, key));
  }

  peek(namespace: string, key: string): Promise<Entry | undefined> {
    return this.faulty(() => this.inner.peek(namespace, key));
  }

  getMany(namespace: string, keys: readonly string[]): Promise<(Entry | undefined)[]> {
    return this.faulty(() => this.inner.getMany(namespace, keys));
  }

  set(namespace: string, key: string, entry: Entry, lease?: Lease): Promise<boolean> {
    return this.faulty(() => this.inner.set(namespace, key, entry, lease));
  }

  delete(namespace: string, key: string, tombstone?: Tombstone): Promise<boolean> {
    return this.faulty(() => this.inner.delete(namespace, key, tombstone));
  }

  currentVersion(namespace: string, key: string): Promise<bigint> {
    const { inner } = this;
    return this.faulty(async () =>
      inner.currentVersion ? inner.currentVersion(namespace, key) : ((await inner.peek(namespace, key))?.version ?? 0n),
    );
  }

  clear(namespace?: string): Promise<void> {
    return this.faulty(() => this.inner.clear(namespace));
  }

  adjustTtl(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    return this.faulty(() => this.inner.adjustTtl(namespace, key, expiresAt));
  }

  counters(namespace?: string): LayerCounters {
    return this.inner.counters(namespace);
  }

  stamp(namespace: string, stamps: { tags: readonly string[]; prefix?: string }, at: number, retainMs: number) {
    const { inner } = this;
    return this.faulty(async () => inner.stamp?.(namespace, stamps, at, retainMs));
  }

  watchStamps(listener: (namespace: string, stamps: StampSet) => void): void {
    this.inner.watchStamps?.(listener);
  }

  status(): ServiceHealth {
    const inner = this.inner.status?.() ?? { name: this.name, up: true, detail: "", queued: 0, breakerState: "closed" };
    return this.failure ? { ...inner, up: false, detail: `${inner.detail} (failing by injection)`.trim() } : inner;
  }

  private async faulty<T>(call: () => Promise<T>): Promise<T> {
    if (this.delayMs > 0) await sleep(this.scheduler, this.delayMs);
    if (this.failure) {
      this.injectedFailures++;
      throw this.failure;
    }
    return call();
  }
}
