/** Where the engine reads the time from; injected so tests can move time by hand. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/**
 * Runs work later; injected beside the {@link Clock} (as Caffeine injects both) so that waits
 * and leases are testable on a manual clock.
 */
export interface Scheduler {
  /** Runs `task` once, `delayMs` from now; the returned function cancels it. Never keeps a process alive. */
  schedule(delayMs: number, task: () => void): () => void;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Node's timers, unreferenced. */
export const systemScheduler: Scheduler = {
  schedule(delayMs, task) {
    const timer = setTimeout(task, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on the scheduler's time. */
export function sleep(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(ms, resolve));
}

/**
 * A clock that only moves when told to, for tests; also a scheduler whose tasks run as time is
 * moved past them.
 *
 *   const clock = new ManualClock(0); clock.advance(1000);
 */
export class ManualClock implements Clock, Scheduler {
  private readonly tasks: { at: number; seq: number; task: () => void }[] = [];
  private seq = 0;
  constructor(private current = 0) {}
  now(): number {
    return this.current;
  }
  /** Moves time forward, running the tasks that come due, in time order, at their times. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.current = Math.max(this.current, next.at);
      next.task();
    }
    this.current = target;
  }
  set(ms: number): void {
    this.current = ms;
  }
  schedule(delayMs: number, task: () => void): () => void {
    const entry = { at: this.current + Math.max(0, delayMs), seq: this.seq++, task };
    this.tasks.push(entry);
    return () => {
      const index = this.tasks.indexOf(entry);
      if (index >= 0) this.tasks.splice(index, 1);
    };
  }
  /** Tasks scheduled and not run yet. */
  get pending(): number {
    return this.tasks.length;
  }
  private nextDue(until: number): { at: number; task: () => void } | undefined {
    let best = -1;
    this.tasks.forEach((t, i) => {
      const current = this.tasks[best];
      if (t.at <= until && (!current || t.at < current.at || (t.at === current.at && t.seq < current.seq))) best = i;
    });
    return best < 0 ? undefined : this.tasks.splice(best, 1)[0];
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
