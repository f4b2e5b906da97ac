import { type Clock, systemClock } from "./clock.js";

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  perSecond: number;
  /** Most tokens held at once (the largest burst); at least 1. Default: `ceil(perSecond)`. */
  burst?: number;
  clock?: Clock;
}

/**
 * A token bucket: `burst` calls at once, then `perSecond` on average. Refilled lazily from
 * the clock on every take, so it needs no timer. Starts full.
 *
 *   const bucket = new TokenBucket({ perSecond: 50, burst: 10 });
 *   if (!bucket.tryTake()) throw tooMany();
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;

  constructor(options: TokenBucketOptions) {
    if (!(options.perSecond > 0)) throw new RangeError("rate limit perSecond must be greater than 0");
    this.perSecond = options.perSecond;
    this.burst = Math.max(1, options.burst ?? Math.ceil(options.perSecond));
    this.clock = options.clock ?? systemClock;
    this.tokens = this.burst;
    this.refilledAt = this.clock.now();
  }

  /** Takes one token if there is one; says whether it did. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole tokens available now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Milliseconds until the next token (0 when one is available). */
  msUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.refilledAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    this.refilledAt = now;
  }
}
