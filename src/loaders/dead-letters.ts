import { type Clock, systemClock } from "../engine/clock.js";
import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { CacheError, Status } from "../errors.js";
import { isOriginFailure } from "./failures.js";

/** A key whose loads kept failing. Times are ms since the epoch. */
export interface DeadLetterRecord {
  namespace: string;
  key: string;
  /** The last failure's message. */
  lastError: string;
  /** The last failure's gRPC status code (UNKNOWN for errors without one). */
  lastErrorCode: number;
  /** Failures counted in the current window. */
  failures: number;
  firstFailure: number;
  lastFailure: number;
}

/** Options of a {@link DeadLetterLog}. */
export interface DeadLetterOptions {
  /** Failures of one key within `windowMs` that dead-letter it. Default 5. */
  maxFailures?: number;
  /** The window failures are counted in, from a key's first failure. Default 60 s. */
  windowMs?: number;
  /** Records kept in the local log (a ring: the oldest goes first). Default 1,000. */
  capacity?: number;
  /** Keys with failures tracked at once (the oldest tracked is forgotten first). Default 10,000. */
  maxTrackedKeys?: number;
  clock?: Clock;
  /**
   * Called once when a key is dead-lettered (e.g. to a Kafka topic), with a copy of the record.
   * Never awaited by a load; its errors (thrown or rejected) go to `onPublishError`.
   */
  publish?: (record: DeadLetterRecord) => void | Promise<void>;
  onPublishError?: (error: unknown, record: DeadLetterRecord) => void;
}

interface Tracked {
  failures: number;
  firstFailure: number;
  /** The record in the ring once the key is dead-lettered in this window. */
  record: DeadLetterRecord | undefined;
}

/**
 * Tracks keys whose loads keep failing. When a key fails `maxFailures` times within
 * `windowMs`, a record goes to a bounded local log (readable with `list()`, for Inspect) and
 * to the `publish` hook once; further failures in the window update the record. A success
 * resets the key. Every map here is bounded.
 *
 *   const deadLetters = new DeadLetterLog({ maxFailures: 5, windowMs: 60_000, publish: toKafka });
 */
export class DeadLetterLog {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly capacity: number;
  readonly maxTrackedKeys: number;
  private readonly clock: Clock;
  private readonly publish: DeadLetterOptions["publish"];
  private readonly onPublishError: NonNullable<DeadLetterOptions["onPublishError"]>;
  /** Per `namespace U+0000 key`, oldest tracked first. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly ring: DeadLetterRecord[] = [];
  private ringStart = 0;
  private publishedCount = 0;
  private publishFailureCount = 0;

  constructor(options: DeadLetterOptions = {}) {
    this.maxFailures = Math.max(1, Math.floor(options.maxFailures ?? 5));
    this.windowMs = Math.max(1, options.windowMs ?? 60_000);
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 1000));
    this.maxTrackedKeys = Math.max(1, Math.floor(options.maxTrackedKeys ?? 10_000));
    this.clock = options.clock ?? systemClock;
    this.publish = options.publish;
    this.onPublishError = options.onPublishError ?? (() => {});
  }

  /** Counts a failed load of a key; dead-letters it when the threshold is reached. */
  recordFailure(namespace: string, key: string, error: unknown): void {
    const now = this.clock.now();
    const id = `${namespace}\u0000${key}`;
    let state = this.tracked.get(id);
    if (!state || now - state.firstFailure > this.windowMs) {
      state = { failures: 0, firstFailure: now, record: undefined };
    }
    this.tracked.delete(id);
    this.tracked.set(id, state);
    if (this.tracked.size > this.maxTrackedKeys) {
      const oldest = this.tracked.keys().next();
      if (!oldest.done) this.tracked.delete(oldest.value);
    }
    state.failures++;
    const lastError = error instanceof Error ? error.message : String(error);
    const lastErrorCode = error instanceof CacheError ? error.code : Status.UNKNOWN;
    if (state.record) {
      Object.assign(state.record, { lastError, lastErrorCode, failures: state.failures, lastFailure: now });
      return;
    }
    if (state.failures < this.maxFailures) return;
    state.record = {
      namespace,
      key,
      lastError,
      lastErrorCode,
      failures: state.failures,
      firstFailure: state.firstFailure,
      lastFailure: now,
    };
    this.append(state.record);
    this.announce({ ...state.record });
  }

  /** A successful load: the key starts from zero. */
  recordSuccess(namespace: string, key: string): void {
    this.tracked.delete(`${namespace}\u0000${key}`);
  }

  /** Dead-lettered keys, oldest first, optionally of one namespace (copies). */
  list(namespace?: string): DeadLetterRecord[] {
    const out: DeadLetterRecord[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const record = this.ring[(this.ringStart + i) % this.ring.length] as DeadLetterRecord;
      if (namespace === undefined || record.namespace === namespace) out.push({ ...record });
    }
    return out;
  }

  /** Keys with failures tracked now (at most `maxTrackedKeys`). */
  get trackedKeys(): number {
    return this.tracked.size;
  }

  /** Records handed to `publish`, and how many of those failed. */
  publishCounts(): { published: number; failed: number } {
    return { published: this.publishedCount, failed: this.publishFailureCount };
  }

  private append(record: DeadLetterRecord): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(record);
      return;
    }
    this.ring[this.ringStart] = record;
    this.ringStart = (this.ringStart + 1) % this.capacity;
  }

  /** Hands the record to `publish` after the current load, catching whatever it does. */
  private announce(record: DeadLetterRecord): void {
    const publish = this.publish;
    if (!publish) return;
    this.publishedCount++;
    const failed = (error: unknown) => {
      this.publishFailureCount++;
      try {
        this.onPublishError(error, record);
      } catch {
        // Reporting a failed publish must not fail anything else.
      }
    };
    queueMicrotask(() => {
      try {
        Promise.resolve(publish(record)).catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  }
}

/**
 * A Loader that reports each key's outcome to a {@link DeadLetterLog}. Only origin failures
 * count (see `isOriginFailure`): local refusals (rate limit, open breaker, throttle) and
 * caller cancellations say nothing about the key.
 *
 *   const loader = new DeadLetterLoader(resilient, deadLetters);
 */
export class DeadLetterLoader implements Loader {
  readonly loadMany?: (
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ) => Promise<Map<string, LoadResult | Error>>;

  constructor(
    private readonly inner: Loader,
    private readonly log: DeadLetterLog,
  ) {
    const loadMany = inner.loadMany?.bind(inner);
    if (loadMany) {
      this.loadMany = async (namespace, keys, context) => {
        let outcomes: Map<string, LoadResult | Error>;
        try {
          outcomes = await loadMany(namespace, keys, context);
        } catch (error) {
          for (const key of keys) this.observe(namespace, key, error);
          throw error;
        }
        for (const key of keys) this.observe(namespace, key, outcomes.get(key));
        return outcomes;
      };
    }
  }

  async load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    try {
      const result = await this.inner.load(namespace, key, context);
      this.log.recordSuccess(namespace, key);
      return result;
    } catch (error) {
      this.observe(namespace, key, error);
      throw error;
    }
  }

  private observe(namespace: string, key: string, outcome: unknown): void {
    if (!(outcome instanceof Error)) this.log.recordSuccess(namespace, key);
    else if (isOriginFailure(outcome)) this.log.recordFailure(namespace, key, outcome);
  }
}
