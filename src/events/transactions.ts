import type { Kafka, Producer } from "kafkajs";
import { CacheError, Status } from "../errors.js";
import type { Logger } from "../logger.js";

/** A record for a topic. */
export interface TopicRecord {
  topic: string;
  key: string;
  value: Uint8Array;
  /** Record headers (the write's `traceparent` when tracing is on). */
  headers?: Record<string, string> | undefined;
}

/** Options of a {@link TransactionalPublisher}. */
export interface TransactionalPublisherOptions {
  kafka: Kafka;
  /**
   * Stable per instance: a restarted instance fences its former self and aborts what it left
   * open. Lane i uses `<transactionalId>-<i>`.
   */
  transactionalId: string;
  /**
   * Producers with a transaction in flight at once (default 2; each takes what gathered
   * meanwhile). More lanes mean smaller transactions: on a CPU-bound broker one or two lanes
   * carried the most (a 32-caller probe: 1 lane 4.6–8 k records/s, 2 lanes 4.1–4.9 k, 4 lanes 2.8–3.5 k).
   */
  lanes?: number;
  /**
   * How long Kafka may keep a transaction open before aborting it on its own (default 10 s: a
   * publication is bounded at 5 s, and a transaction left open by an instance that died holds
   * every read-committed consumer of its partitions back until then, plus up to the broker's
   * cleanup interval; measured here, an open transaction held them 15.9 s with 10 s).
   */
  transactionTimeoutMs?: number;
  logger?: Logger;
}

interface Waiter {
  records: TopicRecord[];
  settle: (error?: CacheError) => void;
  timer: NodeJS.Timeout;
  phase: "gathering" | "sending" | "committing" | "settled";
}

/** One transactional producer and whether it has a transaction in flight. */
interface Lane {
  id: string;
  producer: Producer | undefined;
  connecting: Promise<void> | undefined;
  busy: boolean;
  /** When its last transaction ended (performance.now()). */
  idleSince: number;
}

/**
 * Publishes records in Kafka transactions, so that a publication the caller was told failed
 * can never be read by a read-committed consumer. A few producers ("lanes", each one
 * transaction at a time) take turns: records handed in while every lane is busy are gathered
 * and go together in the next free lane's transaction. A transaction costs about three round
 * trips (add partitions, produce, end), so lanes keep callers from waiting for one another's.
 * Writes a caller made one after the other (the second after the first was acknowledged)
 * stay in that order in their partition.
 *
 * Outcomes of `publish`, within its bound:
 * - resolves: committed (durable, acks from all in-sync replicas);
 * - rejects UNAVAILABLE: not committed and never will be — the transaction was not sent, or
 *   failed, or was still sending at the bound; it is aborted (a replacement producer with the
 *   same transactional id aborts it if the abort itself cannot be sent);
 * - rejects DEADLINE_EXCEEDED: the commit was sent and no answer came in time (or it failed
 *   in a way that does not say whether it was applied): the records may or may not be visible.
 */
export class TransactionalPublisher {
  private readonly lanes: Lane[];
  private readonly gathering: Waiter[] = [];
  private closed = false;
  /** Transactions committed. */
  committed = 0;
  /** Transactions aborted or abandoned before commit. */
  aborted = 0;
  /** Commits whose outcome could not be known. */
  unknown = 0;

  constructor(private readonly options: TransactionalPublisherOptions) {
    this.lanes = Array.from({ length: options.lanes ?? 2 }, (_, i) => ({
      id: `${options.transactionalId}-${i}`,
      producer: undefined,
      connecting: undefined,
      busy: false,
      idleSince: 0,
    }));
  }

  /** Connects every lane (InitProducerId: fences the previous producers of the same ids). */
  async start(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => this.ensureProducer(lane)));
  }

  /**
   * Publishes `records` in the next transaction; see the class comment for the outcomes.
   * `timeoutMs` bounds the wait from now.
   */
  publish(records: TopicRecord[], timeoutMs = 5_000): Promise<void> {
    if (this.closed) {
      return Promise.reject(new CacheError(Status.UNAVAILABLE, "kafka publisher is closed; nothing was published"));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        records,
        phase: "gathering",
        timer: setTimeout(() => this.expire(waiter, timeoutMs), timeoutMs),
        settle: (error) => {
          if (waiter.phase === "settled") return;
          waiter.phase = "settled";
          clearTimeout(waiter.timer);
          if (error) reject(error);
          else resolve();
        },
      };
      this.gathering.push(waiter);
      this.drain();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.gathering.splice(0)) {
      waiter.settle(new CacheError(Status.UNAVAILABLE, "kafka publisher closed before sending; nothing was published"));
    }
    await Promise.all(this.lanes.map((lane) => lane.producer?.disconnect().catch(() => {})));
  }

  /** A waiter's bound passed: what it is told depends on how far its transaction got. */
  private expire(waiter: Waiter, timeoutMs: number): void {
    switch (waiter.phase) {
      case "gathering": {
        const at = this.gathering.indexOf(waiter);
        if (at >= 0) this.gathering.splice(at, 1);
        waiter.settle(
          new CacheError(
            Status.UNAVAILABLE,
            `kafka could not take a transaction within ${timeoutMs} ms (nothing was sent, nothing will be applied)`,
          ),
        );
        return;
      }
      case "sending":
        // Its transaction will be aborted, never committed (see run()): a definite failure.
        waiter.settle(
          new CacheError(
            Status.UNAVAILABLE,
            `kafka did not acknowledge within ${timeoutMs} ms; the transaction is aborted, nothing will be applied`,
          ),
        );
        return;
      case "committing":
        waiter.settle(
          new CacheError(
            Status.DEADLINE_EXCEEDED,
            `kafka did not answer the commit within ${timeoutMs} ms: the write may or may not have been applied`,
          ),
        );
        return;
      default:
    }
  }

  private drain(): void {
    if (this.closed || this.gathering.length === 0) return;
    // The lane idle longest: right after a commit the broker still writes its markers, and a
    // new transaction on that producer would meet CONCURRENT_TRANSACTIONS and wait.
    let lane: Lane | undefined;
    for (const l of this.lanes) if (!l.busy && (!lane || l.idleSince < lane.idleSince)) lane = l;
    if (!lane) return; // the first lane to finish takes what gathered meanwhile
    const chosen = lane;
    chosen.busy = true;
    const batch = this.gathering.splice(0);
    void this.run(chosen, batch).finally(() => {
      chosen.busy = false;
      chosen.idleSince = performance.now();
      this.drain();
    });
  }

  /** One transaction for every record gathered; never commits once any waiter gave up. */
  private async run(lane: Lane, batch: Waiter[]): Promise<void> {
    let producer: Producer;
    try {
      producer = await this.ensureProducer(lane);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const w of batch) {
        w.settle(new CacheError(Status.UNAVAILABLE, `kafka is not reachable (nothing was sent): ${message}`));
      }
      return;
    }
    const live = batch.filter((w) => w.phase === "gathering");
    if (live.length === 0) return;
    for (const w of live) w.phase = "sending";
    const byTopic = new Map<string, { key: string; value: Buffer; headers?: Record<string, string> }[]>();
    for (const w of live) {
      for (const r of w.records) {
        let list = byTopic.get(r.topic);
        if (!list) {
          list = [];
          byTopic.set(r.topic, list);
        }
        const value = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        list.push(r.headers ? { key: r.key, value, headers: r.headers } : { key: r.key, value });
      }
    }
    let transaction: Awaited<ReturnType<Producer["transaction"]>> | undefined;
    try {
      transaction = await producer.transaction();
      await transaction.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const w of live) {
        w.settle(new CacheError(Status.UNAVAILABLE, `kafka refused the write (nothing will be applied): ${message}`));
      }
      await this.abort(lane, producer, transaction);
      // A produce request of the failed send may still reach the broker later (retried, or
      // held by a stalled broker). Under the same producer epoch it could be taken into this
      // lane's next transaction and committed with it; a new producer (a new epoch) fences it.
      await this.replace(lane, producer);
      return;
    }
    if (live.some((w) => w.phase !== "sending")) {
      // Someone was told UNAVAILABLE while this was sending: the transaction must not commit.
      for (const w of live) {
        w.settle(new CacheError(Status.UNAVAILABLE, "kafka was too slow; the transaction is aborted"));
      }
      await this.abort(lane, producer, transaction);
      return;
    }
    for (const w of live) w.phase = "committing";
    try {
      await transaction.commit();
      this.committed++;
      for (const w of live) w.settle();
    } catch (error) {
      this.unknown++;
      const message = error instanceof Error ? error.message : String(error);
      this.options.logger?.warn({ err: error }, "kafka transaction commit failed; its outcome is unknown");
      for (const w of live) {
        w.settle(
          new CacheError(
            Status.DEADLINE_EXCEEDED,
            `kafka did not confirm the commit (${message}): the write may or may not have been applied`,
          ),
        );
      }
      // The producer's transaction state is unknown too: start again from a fresh one.
      await this.replace(lane, producer);
    }
  }

  /** Aborts; if that fails, a new producer with the same id fences the old one and aborts for it. */
  private async abort(
    lane: Lane,
    producer: Producer,
    transaction: Awaited<ReturnType<Producer["transaction"]>> | undefined,
  ): Promise<void> {
    this.aborted++;
    try {
      if (!transaction) throw new Error("no transaction");
      await transaction.abort();
    } catch {
      await this.replace(lane, producer);
    }
  }

  /** Drops a producer whose transaction state cannot be trusted; the next run makes a new one. */
  private async replace(lane: Lane, producer: Producer): Promise<void> {
    if (lane.producer === producer) lane.producer = undefined;
    await producer.disconnect().catch(() => {});
  }

  private async ensureProducer(lane: Lane): Promise<Producer> {
    while (!lane.producer) {
      lane.connecting ??= this.connect(lane).finally(() => {
        lane.connecting = undefined;
      });
      await lane.connecting;
    }
    return lane.producer;
  }

  private async connect(lane: Lane): Promise<void> {
    const producer = this.options.kafka.producer({
      transactionalId: lane.id,
      transactionTimeout: this.options.transactionTimeoutMs ?? 10_000,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction started right after a commit meets CONCURRENT_TRANSACTIONS until the broker
      // has written the commit markers (a few ms): retry quickly, not after the default 300 ms.
      retry: { retries: 8, initialRetryTime: 5, maxRetryTime: 200 },
    });
    try {
      await producer.connect();
      // kafkajs's connect asks for a producer id without the transactional id; only a
      // transaction asks with it, and that request is what fences a former producer with this id
      // (this instance before a restart, or a producer dropped after a failed abort) and makes
      // Kafka abort the transaction it left open. Asked now, not at the lane's first publication,
      // which may come much later: until then an open transaction holds every read-committed
      // consumer (the fleet's policy followers, the sink) before the records committed after it.
      // Nothing is added to this transaction, so its abort sends nothing.
      const fence = await producer.transaction();
      await fence.abort();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    lane.producer = producer;
  }
}
