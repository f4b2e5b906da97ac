/** A load in progress, shared by every request for its key. */
export interface Flight<T> {
  readonly promise: Promise<T>;
  /** When it started, or was last attached again (see {@link SingleFlight.reattach}). */
  startedAt: number;
  /** Requests waiting on it, the one that started it included. */
  waiters: number;
  /**
   * Set when the key was invalidated while the work ran: requests that come later start a new
   * flight, and the work must not store what it got (it may predate the change).
   */
  detached: boolean;
}

/**
 * Collapses concurrent work for one key into one call. The entry is removed as soon as the
 * work settles, so the map holds only what is running now.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /**
   * Runs `work` unless a run for `key` is in progress, and returns the flight to wait on:
   * `waiters` is 1 for the request that started it, more for one that joined. The work is
   * handed its own flight, so it can tell whether it was detached before it stores anything.
   */
  run(key: string, now: number, work: (flight: Flight<T>) => Promise<T>): Flight<T> {
    const existing = this.flights.get(key);
    if (existing) {
      existing.waiters++;
      return existing;
    }
    const flight = { promise: undefined as unknown as Promise<T>, startedAt: now, waiters: 1, detached: false };
    this.flights.set(key, flight);
    let promise: Promise<T>;
    try {
      promise = work(flight);
    } catch (error) {
      promise = Promise.reject(error);
    }
    flight.promise = promise;
    // Waiters get the work's own promise, so sharing adds no promise hop to their answer. This
    // reaction is registered before any waiter's (they subscribe after `run` returns, and `then`
    // callbacks never run synchronously): the entry is gone before any waiter resumes.
    const forget = () => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    };
    promise.then(forget, forget);
    return flight;
  }

  /**
   * Makes a detached flight the key's flight again, as of `now`, unless another runs for the
   * key: for work that was detached before it did anything the invalidation changed. Says
   * whether it did.
   */
  reattach(key: string, flight: Flight<T>, now: number): boolean {
    if (this.flights.has(key)) return false;
    flight.detached = false;
    flight.startedAt = now;
    this.flights.set(key, flight);
    return true;
  }

  /** The flight for a key, if one is running. */
  get(key: string): Flight<T> | undefined {
    return this.flights.get(key);
  }

  /**
   * Detaches the flights whose keys match (all of them without a predicate) and that started
   * at or before `startedBy` (every one without it): their waiters still get their answer,
   * later requests start anew. A flight that started after an invalidation's time loads what
   * came after it, so the invalidation leaves it alone. Returns how many were detached.
   */
  detach(matches?: (key: string) => boolean, startedBy = Number.POSITIVE_INFINITY): number {
    let detached = 0;
    for (const [key, flight] of this.flights) {
      if (flight.startedAt > startedBy) continue;
      if (matches && !matches(key)) continue;
      flight.detached = true;
      this.flights.delete(key);
      detached++;
    }
    return detached;
  }

  /** Detaches the flight of one key, if one runs and started at or before `startedBy` (see {@link detach}). */
  detachKey(key: string, startedBy = Number.POSITIVE_INFINITY): boolean {
    const flight = this.flights.get(key);
    if (!flight || flight.startedAt > startedBy) return false;
    flight.detached = true;
    this.flights.delete(key);
    return true;
  }

  /** Number of keys being worked on now. */
  get size(): number {
    return this.flights.size;
  }

  entries(): IterableIterator<[string, Flight<T>]> {
    return this.flights.entries();
  }
}
