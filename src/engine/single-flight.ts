/** A load in progress, shared by every request for its key. */
export interface Flight<T> {
  readonly promise: Promise<T>;
  readonly startedAt: number;
  /** Requests waiting on it, the one that started it included. */
  waiters: number;
}

/**
 * Collapses concurrent work for one key into one call. The entry is removed as soon as the
 * work settles, so the map holds only what is running now.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /**
   * Runs `work` unless a run for `key` is in progress, and returns the flight to wait on:
   * `waiters` is 1 for the request that started it, more for one that joined.
   */
  run(key: string, now: number, work: () => Promise<T>): Flight<T> {
    const existing = this.flights.get(key);
    if (existing) {
      existing.waiters++;
      return existing;
    }
    let promise: Promise<T>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const flight: Flight<T> = { promise, startedAt: now, waiters: 1 };
    this.flights.set(key, flight);
    // Waiters get the work's own promise, so sharing adds no promise hop to their answer. This
    // reaction is registered before any waiter's (they subscribe after `run` returns, and `then`
    // callbacks never run synchronously): the entry is gone before any waiter resumes.
    const forget = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    promise.then(forget, forget);
    return flight;
  }

  /** The flight for a key, if one is running. */
  get(key: string): Flight<T> | undefined {
    return this.flights.get(key);
  }

  /** Number of keys being worked on now. */
  get size(): number {
    return this.flights.size;
  }

  entries(): IterableIterator<[string, Flight<T>]> {
    return this.flights.entries();
  }
}
