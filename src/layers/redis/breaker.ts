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

/** Thrown by {@link FastBreaker.run} while the breaker is open. */
export class BreakerOpenError extends Error {
  override name = "BreakerOpenError";
}

/**
 * A circuit breaker for the Redis hot path. opossum (used for origins, whose calls take
 * milliseconds) costs 1–2 µs per call in promise hops and events — a noticeable share of an
 * L2 read that takes tens of µs of CPU. This one is a counter pair and a state, checked
 * synchronously: closed → open when the window's failure share passes the threshold; open →
 * half-open after the reset timeout (one trial call); half-open → closed on its success,
 * open again on its failure.
 */
export class FastBreaker {
  private state: "closed" | "open" | "half-open" = "closed";
  private calls = 0;
  private failures = 0;
  private windowStart: number;
  private openedAt = 0;
  private trialRunning = false;
  private readonly now: () => number;

  constructor(private readonly options: FastBreakerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.windowStart = this.now();
  }

  get opened(): boolean {
    return this.currentState() === "open";
  }

  get halfOpen(): boolean {
    return this.currentState() === "half-open";
  }

  /** The state now (an open breaker turns half-open once the reset timeout has passed). */
  currentState(): "closed" | "open" | "half-open" {
    if (this.state === "open" && this.now() - this.openedAt >= this.options.resetTimeoutMs) this.state = "half-open";
    return this.state;
  }

  /** Runs `action` unless the breaker refuses it; records the outcome. */
  run<T>(action: () => Promise<T>): Promise<T> {
    const state = this.currentState();
    if (state === "open" || (state === "half-open" && this.trialRunning)) {
      return Promise.reject(new BreakerOpenError("redis circuit breaker is open"));
    }
    const trial = state === "half-open";
    if (trial) this.trialRunning = true;
    let started: Promise<T>;
    try {
      started = action();
    } catch (error) {
      started = Promise.reject(error);
    }
    return started.then(
      (result) => {
        if (trial) this.trialRunning = false;
        this.record(true, trial);
        return result;
      },
      (error: unknown) => {
        if (trial) this.trialRunning = false;
        this.record(false, trial);
        throw error;
      },
    );
  }

  private record(ok: boolean, trial: boolean): void {
    if (trial) {
      if (ok) this.reset("closed");
      else this.open();
      return;
    }
    const now = this.now();
    if (now - this.windowStart > this.options.windowMs) {
      this.windowStart = now;
      this.calls = 0;
      this.failures = 0;
    }
    this.calls++;
    if (!ok) this.failures++;
    if (
      this.state === "closed" &&
      this.calls >= this.options.volumeThreshold &&
      (this.failures * 100) / this.calls >= this.options.errorThresholdPercent
    ) {
      this.open();
    }
  }

  private open(): void {
    this.state = "open";
    this.openedAt = this.now();
  }

  private reset(state: "closed"): void {
    this.state = state;
    this.calls = 0;
    this.failures = 0;
    this.windowStart = this.now();
  }
}
