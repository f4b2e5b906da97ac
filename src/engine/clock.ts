/** Where the engine reads the time from; injected so tests can move time by hand. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when told to, for tests.
 *
 *   const clock = new ManualClock(0); clock.advance(1000);
 */
export class ManualClock implements Clock {
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}

/**
 * Strictly increasing timestamps from a clock: two calls in the same millisecond differ by
 * a microsecond, so "created before an invalidation" is never ambiguous within an instance.
 */
export class MonotonicTime {
  private last = 0;
  constructor(private readonly clock: Clock) {}
  next(): number {
    const now = this.clock.now();
    this.last = now > this.last ? now : this.last + 0.001;
    return this.last;
  }
}
