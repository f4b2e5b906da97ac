import type { Clock } from "../engine/clock.js";
import { TokenBucket } from "../engine/token-bucket.js";
import { Status } from "../errors.js";
import { withAttemptTimeout } from "./attempt-timeout.js";
import { type BreakerListener, type BreakerOptions, type BreakerState, OriginBreaker } from "./breaker.js";
import { Semaphore } from "./concurrency.js";
import { isOriginFailure, RejectedBy, rejection, rejectionOf } from "./failures.js";
import { type RetryOptions, retry } from "./retry.js";

/** Options of a {@link Resilience} stack. Each guard is off when its option is unset. */
export interface ResilienceOptions {
  /** Names the origin in messages, e.g. `origin for namespace products`. */
  name: string;
  /** Token bucket for every call to the origin, retries included. */
  rateLimit?: { perSecond: number; burst?: number };
  /** Calls to the origin running at once; more wait in a bounded queue. */
  maxConcurrency?: number;
  /** Calls waiting for a concurrency slot; default 4 × maxConcurrency. */
  maxQueue?: number;
  breaker?: Omit<BreakerOptions, "name">;
  retry?: Pick<RetryOptions, "maxAttempts" | "initialBackoffMs" | "maxBackoffMs" | "random">;
  /** Each attempt is abandoned after this many ms (DEADLINE_EXCEEDED, retryable). 0: none. */
  attemptTimeoutMs?: number;
  clock?: Clock;
}

/** What a resilience stack counted since it was made. */
export interface OriginCounters {
  /** Calls into the stack (a bulk call counts once), refused ones included. */
  calls: number;
  /** Attempts that went to the origin (first tries and retries). */
  attempts: number;
  /** Calls that failed with an origin failure after their last attempt. */
  failures: number;
  /** Attempts after the first. */
  retries: number;
  /** Retries not made because the rate limit had no token left. */
  retriesDenied: number;
  /** Calls refused because the rate limit had no token. */
  rejectedByRateLimit: number;
  /** Calls refused because the concurrency queue was full. */
  rejectedByConcurrency: number;
  /** Calls refused because the breaker was open. */
  rejectedByBreaker: number;
}

/** Counters all at zero. */
export function emptyOriginCounters(): OriginCounters {
  return {
    calls: 0,
    attempts: 0,
    failures: 0,
    retries: 0,
    retriesDenied: 0,
    rejectedByRateLimit: 0,
    rejectedByConcurrency: 0,
    rejectedByBreaker: 0,
  };
}

/**
 * The guards every call to an origin passes, outermost first: rate limit (token bucket,
 * fail fast), concurrency cap (semaphore, bounded queue), circuit breaker (opossum; while it
 * is open it refuses before the rate limit, spending no token), retry
 * (exponential backoff, full jitter, retryable failures only; each retry takes a token, so
 * the origin never sees more calls than the rate limit allows), per-attempt timeout.
 *
 *   const guard = new Resilience({ name: "origin for namespace products", maxConcurrency: 64 });
 *   const value = await guard.run((signal) => fetch(url, { signal }), context.signal);
 */
export class Resilience {
  readonly name: string;
  private readonly bucket: TokenBucket | undefined;
  private readonly semaphore: Semaphore | undefined;
  private readonly breaker: OriginBreaker | undefined;
  private readonly retryOptions: RetryOptions;
  private readonly attemptTimeoutMs: number;
  private readonly counts = emptyOriginCounters();

  constructor(options: ResilienceOptions) {
    this.name = options.name;
    this.bucket = options.rateLimit
      ? new TokenBucket({ ...options.rateLimit, ...(options.clock ? { clock: options.clock } : {}) })
      : undefined;
    this.semaphore = options.maxConcurrency
      ? new Semaphore({
          maxConcurrent: options.maxConcurrency,
          name: options.name,
          ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
        })
      : undefined;
    this.breaker = options.breaker ? new OriginBreaker({ ...options.breaker, name: options.name }) : undefined;
    const bucket = this.bucket;
    this.retryOptions = {
      maxAttempts: 1,
      initialBackoffMs: 0,
      maxBackoffMs: 0,
      ...options.retry,
      mayRetry: () => {
        if (!bucket || bucket.tryTake()) return true;
        this.counts.retriesDenied++;
        return false;
      },
      onRetry: () => {
        this.counts.retries++;
      },
    };
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 0;
  }

  /** Runs `call` behind every guard; `signal` is the caller's (aborting it cancels the call). */
  async run<T>(call: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    this.counts.calls++;
    // An open breaker refuses before the rate limit, so refused calls spend no token and the
    // half-open trial finds one.
    const refused = this.breaker?.refusal();
    if (refused) {
      this.counts.rejectedByBreaker++;
      throw refused;
    }
    if (this.bucket && !this.bucket.tryTake()) {
      this.counts.rejectedByRateLimit++;
      throw rejection(
        Status.RESOURCE_EXHAUSTED,
        RejectedBy.RATE_LIMIT,
        `${this.name} is rate-limited to ${this.bucket.perSecond} calls/s (burst ${this.bucket.burst}); next call allowed in about ${this.bucket.msUntilNext()} ms`,
      );
    }
    let release: (() => void) | undefined;
    try {
      release = await this.semaphore?.acquire(signal);
    } catch (error) {
      if (rejectionOf(error) === RejectedBy.CONCURRENCY) this.counts.rejectedByConcurrency++;
      throw error;
    }
    try {
      const attempts = () =>
        retry(
          () => {
            this.counts.attempts++;
            return withAttemptTimeout(call, this.attemptTimeoutMs, signal, this.name);
          },
          this.retryOptions,
          signal,
        );
      return await (this.breaker ? this.breaker.run(attempts) : attempts());
    } catch (error) {
      if (rejectionOf(error) === RejectedBy.BREAKER) this.counts.rejectedByBreaker++;
      else if (isOriginFailure(error)) this.counts.failures++;
      throw error;
    } finally {
      release?.();
    }
  }

  /** The breaker's state; "closed" when there is no breaker. */
  breakerState(): BreakerState {
    return this.breaker?.state() ?? "closed";
  }

  /** Calls `listener` on every breaker state change. Returns an unsubscribe. */
  onBreakerStateChange(listener: BreakerListener): () => void {
    return this.breaker?.onStateChange(listener) ?? (() => {});
  }

  /** A copy of the counters. */
  counters(): OriginCounters {
    return { ...this.counts };
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.breaker?.close();
  }
}
