import { Cluster } from "ioredis";
import type { Clock, Scheduler } from "../../engine/clock.js";
import type { BreakerState } from "../../engine/health.js";
import { type Admission, BreakerOpenError, FastBreaker } from "./breaker.js";
import { connect, type RedisClient, type RedisConnection } from "./connection.js";
import { PendingCalls } from "./pending-calls.js";
import { isPermanentRefusal, queuedError } from "./refusals.js";
import { type QueuedDelete, type QueuedSet, type QueuedStamp, WriteQueue } from "./write-queue.js";

/**
 * Where the Redis layer reports what an operator should know: breaker state changes and
 * queued writes Redis refused for good. A pino logger fits as it is.
 */
export interface RedisLayerLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/** Options of a {@link GuardedClient}. */
export interface GuardedClientOptions {
  connection: RedisConnection;
  clock: Clock;
  scheduler: Scheduler;
  /** The command bound (ms): a call unanswered by then fails and the connection is made again. */
  commandTimeoutMs: number;
  /** Writes and invalidations kept while Redis is down, latest per key. */
  maxQueued: number;
  /** Breaker: open after this share of failed commands … */
  breakerErrorPercent: number;
  /** … and stay open this long before a trial command. */
  breakerResetMs: number;
  logger?: RedisLayerLogger | undefined;
}

/**
 * How the layer writes each kind of queued operation; a replay sends them through the guard.
 * Each answers the raw command's promise.
 */
export interface ReplayTarget {
  stamp(op: QueuedStamp): Promise<unknown>;
  delete(op: QueuedDelete): Promise<unknown>;
  set(op: QueuedSet, ttlMs: number): Promise<unknown>;
}

/** How soon writes kept back by {@link GuardedClient.holdWrites} are looked at again. */
const HOLD_RETRY_MS = 250;

/**
 * The Redis client with everything that keeps a slow or absent Redis from hurting the caller
 * (the part BentoCache's RemoteCache plays): a breaker in front of every call, the command
 * bound behind it, and the write queue replayed once Redis answers again. The layer sends
 * every command through {@link call}, or {@link write} for what must not be lost.
 */
export class GuardedClient {
  readonly client: RedisClient;
  readonly breaker: FastBreaker;
  /** Calls sent and not answered yet, failed once the command bound has passed. */
  readonly pending: PendingCalls;
  readonly commandTimeoutMs: number;
  /** Connected and past the handshake: commands can be sent. */
  ready = false;
  /** Why Redis is not usable, as the last error said (for status and error messages). */
  lastError = "";
  /** Queued writes and invalidations a replay dropped because Redis refused them for good. */
  replayDropped = 0;
  /** Where {@link write} keeps what Redis did not take. */
  readonly queue: WriteQueue;
  private readonly clock: Clock;
  private replaying: Promise<void> | undefined;
  /** Operations taken out of the queue by a replay and not yet applied. */
  private replayPending = 0;
  /** Why the last failed call failed: the cause logged when the breaker opens. */
  private lastFailure = "";
  private readonly logger: RedisLayerLogger | undefined;

  constructor(
    options: GuardedClientOptions,
    private readonly replayTarget: ReplayTarget,
  ) {
    this.clock = options.clock;
    this.commandTimeoutMs = options.commandTimeoutMs;
    this.client = connect(options.connection);
    this.pending = new PendingCalls(
      this.commandTimeoutMs,
      () => performance.now(),
      options.scheduler,
      () => this.dropConnection(),
    );
    this.queue = new WriteQueue(options.maxQueued);
    this.breaker = new FastBreaker({
      errorThresholdPercent: options.breakerErrorPercent,
      volumeThreshold: 5,
      windowMs: 10_000,
      resetTimeoutMs: options.breakerResetMs,
    });
    this.logger = options.logger;
    this.breaker.onStateChange((state) => this.logBreaker(state));
    this.watchConnection();
  }

  /** Writes and invalidations waiting for Redis, queued or taken out by a replay under way. */
  get queued(): number {
    return this.queue.size + this.replayPending;
  }

  /** True while writes go straight to the queue: not connected, or the breaker is open. */
  get refusing(): boolean {
    return !this.ready || this.breaker.opened;
  }

  /**
   * Runs a Redis call through the breaker (an open breaker fails at once) and within the
   * command bound: a call Redis has not answered by then fails with a RedisTimeoutError.
   */
  call<T>(action: () => Promise<T>): Promise<T> {
    const admission = this.breaker.admit();
    if (admission === undefined) return Promise.reject(new BreakerOpenError("redis circuit breaker is open"));
    let started: Promise<T>;
    try {
      started = action();
    } catch (error) {
      started = Promise.reject(error);
    }
    // Plain `then` rather than async/await, and one of it: this sits on every L2 call.
    return new Promise<T>((resolve, reject) => {
      const pending = this.pending.add((error) => {
        this.failed(error);
        this.breaker.settle(admission, false);
        reject(error);
      });
      started.then(
        (result) => {
          if (!this.pending.settle(pending)) return;
          this.settle(admission, true);
          resolve(result);
        },
        (error: unknown) => {
          if (!this.pending.settle(pending)) return;
          this.failed(error);
          this.settle(admission, false);
          reject(error);
        },
      );
    });
  }

  /**
   * A write or invalidation that must not be lost: queued instead when Redis is refused now or
   * the call fails, and the caller told so with UNAVAILABLE (`what` names it there).
   */
  async write<T>(what: string, action: () => Promise<T>, enqueue: () => void): Promise<T> {
    if (this.refusing) {
      enqueue();
      throw queuedError(what, this.lastError);
    }
    try {
      return await this.call(action);
    } catch (error) {
      enqueue();
      throw queuedError(what, (error as Error).message);
    }
  }

  /** After a Redis call the breaker let through: its outcome to the breaker. */
  settle(admission: Admission, ok: boolean, at?: number): void {
    this.breaker.settle(admission, ok, at);
    if (ok) this.replayIfQueued();
  }

  /**
   * Notes why a call failed. Callers that go on without Redis (a read that misses, a lease
   * that is unavailable) log nothing themselves: the cause is logged once, when the failures
   * open the breaker.
   */
  failed(error: unknown): void {
    this.lastFailure = error instanceof Error ? error.message : String(error);
  }

  /**
   * While it answers true, queued writes of values are kept back (deletions and stamps still
   * go): see {@link RedisLayer.holdQueuedWritesWhile}.
   */
  holdWrites: (() => boolean) | undefined;
  /** Until when (performance.now()) a replay is not started again after writes were kept back. */
  private heldUntil = 0;

  /** Redis answers again: apply what was queued while it did not. */
  replayIfQueued(): void {
    if (this.queue.size > 0 && !this.replaying && performance.now() >= this.heldUntil) this.replay();
  }

  /** Closes the connection (pending queued writes are dropped). */
  close(): void {
    this.client.disconnect();
  }

  /** Applies what was queued while Redis was down: stamps first, then deletes, then writes. */
  private replay(): void {
    if (this.replaying || this.queue.size === 0) return;
    this.replaying = (async () => {
      const drained = this.queue.drain();
      if (drained.sets.length > 0 && this.holdWrites?.()) {
        // Kept back (and looked at again shortly): a value queued before an invalidation this
        // instance has not heard of yet must not reach Redis, where that invalidation's
        // tombstone may already have been replaced by a later load.
        this.queue.restore({ stamps: [], deletes: [], sets: drained.sets });
        drained.sets = [];
        this.heldUntil = performance.now() + HOLD_RETRY_MS;
        setTimeout(() => this.replayIfQueued(), HOLD_RETRY_MS).unref();
      }
      this.replayPending = drained.stamps.length + drained.deletes.length + drained.sets.length;
      const failed: typeof drained = { stamps: [], deletes: [], sets: [] };
      const target = this.replayTarget;
      // Kept for the next replay unless Redis refused it for good (it would be refused again).
      const keepUnlessRefused = (kind: string, op: { namespace: string }, keep: () => void) => (error: unknown) => {
        if (!isPermanentRefusal(error)) return keep();
        this.replayDropped++;
        this.logger?.warn(
          { err: error, kind, namespace: op.namespace, ...("key" in op ? { key: op.key } : {}) },
          "redis refused a queued write for good; it is dropped from the write queue",
        );
      };
      for (const s of drained.stamps) {
        await this.call(() => target.stamp(s)).catch(keepUnlessRefused("stamps", s, () => failed.stamps.push(s)));
        this.replayPending--;
      }
      for (const d of drained.deletes) {
        await this.call(() => target.delete(d)).catch(keepUnlessRefused("delete", d, () => failed.deletes.push(d)));
        this.replayPending--;
      }
      const now = this.clock.now();
      for (const s of drained.sets) {
        const ttl = Math.ceil(s.entry.staleUntil - now);
        if (ttl > 0) {
          await this.call(() => target.set(s, ttl)).catch(keepUnlessRefused("write", s, () => failed.sets.push(s)));
        }
        this.replayPending--;
      }
      this.queue.restore(failed);
    })().finally(() => {
      this.replayPending = 0;
      this.replaying = undefined;
    });
  }

  /**
   * Calls went unanswered for the command bound: drop the connection and make it again (a
   * stalled server's socket would hold every later call too). Until the new one is ready,
   * writes are queued and leases unavailable at once.
   */
  private dropConnection(): void {
    this.lastError = `no answer from redis within ${this.commandTimeoutMs} ms`;
    this.ready = false;
    this.client.disconnect(true);
  }

  /** One line per breaker state change, the cause of the failures with the opening. */
  private logBreaker(state: BreakerState): void {
    const logger = this.logger;
    if (!logger) return;
    if (state === "open") {
      logger.warn(
        { cause: this.lastFailure || this.lastError, queued: this.queued },
        "redis circuit breaker open: reads miss and writes are queued until a trial command succeeds",
      );
    } else if (state === "half-open") {
      logger.info({}, "redis circuit breaker half-open: the next command is a trial");
    } else {
      logger.info({ queued: this.queued }, "redis circuit breaker closed: redis answers again");
    }
  }

  private watchConnection(): void {
    const client = this.client;
    client.on("ready", () => {
      this.ready = true;
      this.replay();
    });
    // A cluster's own error only says the slots could not be read; its nodes' errors say why
    // (a refused password, an untrusted certificate), which is what an operator needs.
    let nodeError = "";
    client.on("node error", (error: Error, address: string) => {
      // "Connection is closed." follows the error that closed it: keep that one.
      if (!nodeError || !error.message.startsWith("Connection is closed")) nodeError = `${error.message} (${address})`;
    });
    client.on("error", (error: Error & { lastNodeError?: Error }) => {
      const cause = nodeError || error.lastNodeError?.message;
      this.lastError = client instanceof Cluster && cause ? `${error.message} ${cause}` : error.message;
    });
    client.on("ready", () => {
      nodeError = "";
    });
    client.on("close", () => {
      this.ready = false;
    });
  }
}
