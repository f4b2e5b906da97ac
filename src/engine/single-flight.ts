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

  /** Runs `work` unless a run for `key` is in progress; `shared` tells which happened. */
  run(key: string, now: number, work: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.flights.get(key);
    if (existing) {
      existing.waiters++;
      return { promise: existing.promise, shared: true };
    }
    // Cleanup runs after the flight is registered: `then` callbacks never run synchronously.
    const forget = () => {
      if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
    };
    let started: Promise<T>;
    try {
      started = work();
    } catch (error) {
      started = Promise.reject(error);
    }
    const promise: Promise<T> = started.then(
      (value) => {
        forget();
        return value;
      },
      (error: unknown) => {
        forget();
        throw error;
      },
    );
    this.flights.set(key, { promise, startedAt: now, waiters: 1 });
    return { promise, shared: false };
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
