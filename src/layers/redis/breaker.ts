import type { BreakerListener, BreakerState } from "../../engine/health.js";

/** Options of {@link FastBreaker}. */
export interface FastBreakerOptions {
  /** Open when at least this share (0..100) of the calls in the window failed … */
  errorThresholdPercent: number;
  /** … and the window holds at least this many calls. */
  volumeThreshold: number;
  /** Length of the counting window (ms); counts restart after it. */
  windowMs: number;
  /** Time open before one trial call is let through (ms). */
  resetTimeoutMs: number;
  now?: () => number;
}

/** The error of a call refused while the breaker is open. */
export class BreakerOpenError extends Error {
  override name = "BreakerOpenError";
}

/** How {@link FastBreaker.admit} let a call through: an ordinary call, or a half-open trial. */
export type Admission = "call" | "trial";

/**
 * A circuit breaker for the Redis hot path. opossum (used for origins, whose calls take
 * milliseconds) costs 1–2 µs per call in promise hops and events — a noticeable share of an
 * L2 read that takes tens of µs of CPU. This one is a counter pair and a state, checked
 * synchronously: closed → open when the window's failure share passes the threshold; open →
 * half-open after the reset timeout (one trial call); half-open → closed on its success,
 * open again on its failure. Same states and listener as the origins' OriginBreaker.
 */
export class FastBreaker {
  private current: BreakerState = "closed";
  private calls = 0;
  private failures = 0;
  private windowStart: number;
  private openedAt = 0;
  private trialRunning = false;
  private readonly now: () => number;
  private readonly listeners = new Set<BreakerListener>();

  constructor(private readonly options: FastBreakerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.windowStart = this.now();
  }

  get opened(): boolean {
    return this.state() === "open";
  }

  /** The state now (an open breaker turns half-open once the reset timeout has passed). */
  state(): BreakerState {
    if (this.current === "open" && this.now() - this.openedAt >= this.options.resetTimeoutMs) this.change("half-open");
    return this.current;
  }

  /** Calls `listener` on every state change. Returns an unsubscribe. */
  onStateChange(listener: BreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks to make a call: undefined while the breaker refuses, else how the call goes (an
   * ordinary call, or the one trial of a half-open breaker). The caller reports its outcome
   * with {@link settle}. Two plain calls rather than a wrapper around a promise: the Redis read
   * path then needs no promise of its own for the breaker.
   */
  admit(): Admission | undefined {
    const state = this.state();
    if (state === "closed") return "call";
    if (state === "open" || this.trialRunning) return undefined;
    this.trialRunning = true;
    return "trial";
  }

  /**
   * Records the outcome of a call {@link admit} let through. `at` is the time now when the
   * caller has just read it (a clock read costs as much as the rest of this method).
   */
  settle(admission: Admission, ok: boolean, at = this.now()): void {
    if (admission === "trial") {
      this.trialRunning = false;
      if (ok) this.reset("closed");
      else this.open();
      return;
    }
    if (at - this.windowStart > this.options.windowMs) {
      this.windowStart = at;
      this.calls = 0;
      this.failures = 0;
    }
    this.calls++;
    if (!ok) this.failures++;
    if (
      this.current === "closed" &&
      this.calls >= this.options.volumeThreshold &&
      (this.failures * 100) / this.calls >= this.options.errorThresholdPercent
    ) {
      this.open();
    }
  }

  private open(): void {
    this.openedAt = this.now();
    this.change("open");
  }

  private reset(state: "closed"): void {
    this.calls = 0;
    this.failures = 0;
    this.windowStart = this.now();
    this.change(state);
  }

  private change(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch {
        // A listener's failure must not break the breaker.
      }
    }
  }
}
