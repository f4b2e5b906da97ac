import type { Scheduler } from "../../engine/clock.js";

/** The error of a Redis call that was not answered within the command bound. */
export class RedisTimeoutError extends Error {
  override name = "RedisTimeoutError";
}

/** A Redis call waiting for its answer (see {@link PendingCalls}). */
export interface PendingCall {
  readonly startedAt: number;
  /** Fails the call: Redis did not answer it in time. */
  readonly expire: (error: RedisTimeoutError) => void;
}

/**
 * The Redis calls waiting for an answer, oldest first, and the one timer that fails those Redis
 * has not answered within the command bound. ioredis cannot be trusted to fail them: a command
 * written to a stalled server waits until the server answers, however long that takes, and its
 * own per-command timeout costs a timer per call (a third of the L2 read path). Here one timer
 * serves all calls: it is armed for the oldest call's deadline, and when it fires it fails every
 * call past its deadline and re-arms for the next oldest. Registering a call costs a clock read
 * and a Set insertion.
 */
export class PendingCalls {
  private readonly calls = new Set<PendingCall>();
  private armed = false;

  /**
   * @param boundMs how long a call may wait for Redis.
   * @param now a monotonic clock (ms).
   * @param onExpired called once per round that failed calls, before they are failed.
   */
  constructor(
    private readonly boundMs: number,
    private readonly now: () => number,
    private readonly scheduler: Scheduler,
    private readonly onExpired: (count: number) => void,
  ) {}

  /** Registers a call started now; `expire` runs if it is still pending after the bound. */
  add(expire: (error: RedisTimeoutError) => void): PendingCall {
    const call: PendingCall = { startedAt: this.now(), expire };
    this.calls.add(call);
    if (!this.armed) this.arm(this.boundMs);
    return call;
  }

  /** The call was answered. False when it had expired already: its answer came too late to use. */
  settle(call: PendingCall): boolean {
    return this.calls.delete(call);
  }

  /** Calls waiting now. */
  get size(): number {
    return this.calls.size;
  }

  private arm(delayMs: number): void {
    this.armed = true;
    this.scheduler.schedule(delayMs, this.check);
  }

  private readonly check = (): void => {
    this.armed = false;
    const oldestAllowed = this.now() - this.boundMs;
    const expired: PendingCall[] = [];
    // A Set iterates in insertion order, which is start order: stop at the first young call.
    for (const call of this.calls) {
      if (call.startedAt > oldestAllowed) {
        this.arm(call.startedAt - oldestAllowed);
        break;
      }
      this.calls.delete(call);
      expired.push(call);
    }
    if (expired.length === 0) return;
    this.onExpired(expired.length);
    const error = new RedisTimeoutError(
      `redis did not answer within ${this.boundMs} ms (redis.commandTimeout); going on without it`,
    );
    for (const call of expired) call.expire(error);
  };
}
