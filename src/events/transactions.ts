import type { Kafka, Producer } from "kafkajs";
import { CacheError, Status } from "../errors.js";
import type { Logger } from "../logger.js";

/** A record for a topic. */
export interface TopicRecord {
  topic: string;
  key: string;
  value: Uint8Array;
}

/** Options of a {@link TransactionalPublisher}. */
export interface TransactionalPublisherOptions {
  kafka: Kafka;
  /** Stable per instance: a restarted instance fences its former self and aborts what it left open. */
  transactionalId: string;
  /** How long Kafka may keep a transaction open before aborting it on its own (default 30 s). */
  transactionTimeoutMs?: number;
  logger?: Logger;
}

interface Waiter {
  records: TopicRecord[];
  settle: (error?: CacheError) => void;
  timer: NodeJS.Timeout;
  phase: "gathering" | "sending" | "committing" | "settled";
}

/**
 * Publishes records in Kafka transactions, so that a publication the caller was told failed
 * can never be read by a read-committed consumer. Records handed in while a transaction is in
 * flight are gathered and go in the next one together (one producer, one transaction at a time).
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
  private producer: Producer | undefined;
  private connecting: Promise<void> | undefined;
  private readonly gathering: Waiter[] = [];
  private busy = false;
  private closed = false;
  /** Transactions committed. */
  committed = 0;
  /** Transactions aborted or abandoned before commit. */
  aborted = 0;
  /** Commits whose outcome could not be known. */
  unknown = 0;

  constructor(private readonly options: TransactionalPublisherOptions) {}

  /** Connects the producer (InitProducerId: fences a previous producer of the same id). */
  async start(): Promise<void> {
    await this.ensureProducer();
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
    await this.producer?.disconnect().catch(() => {});
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
    if (this.busy || this.closed || this.gathering.length === 0) return;
    this.busy = true;
    const batch = this.gathering.splice(0);
    void this.run(batch).finally(() => {
      this.busy = false;
      this.drain();
    });
  }

  /** One transaction for every record gathered; never commits once any waiter gave up. */
  private async run(batch: Waiter[]): Promise<void> {
    let producer: Producer;
    try {
      producer = await this.ensureProducer();
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
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const w of live) {
      for (const r of w.records) {
        let list = byTopic.get(r.topic);
        if (!list) {
          list = [];
          byTopic.set(r.topic, list);
        }
        list.push({ key: r.key, value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength) });
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
      await this.abort(producer, transaction);
      return;
    }
    if (live.some((w) => w.phase !== "sending")) {
      // Someone was told UNAVAILABLE while this was sending: the transaction must not commit.
      for (const w of live) {
        w.settle(new CacheError(Status.UNAVAILABLE, "kafka was too slow; the transaction is aborted"));
      }
      await this.abort(producer, transaction);
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
      await this.replace(producer);
    }
  }

  /** Aborts; if that fails, a new producer with the same id fences the old one and aborts for it. */
  private async abort(
    producer: Producer,
    transaction: Awaited<ReturnType<Producer["transaction"]>> | undefined,
  ): Promise<void> {
    this.aborted++;
    try {
      if (!transaction) throw new Error("no transaction");
      await transaction.abort();
    } catch {
      await this.replace(producer);
    }
  }

  /** Drops a producer whose transaction state cannot be trusted; the next run makes a new one. */
  private async replace(producer: Producer): Promise<void> {
    if (this.producer === producer) this.producer = undefined;
    await producer.disconnect().catch(() => {});
  }

  private async ensureProducer(): Promise<Producer> {
    while (!this.producer) {
      this.connecting ??= this.connect().finally(() => {
        this.connecting = undefined;
      });
      await this.connecting;
    }
    return this.producer;
  }

  private async connect(): Promise<void> {
    const producer = this.options.kafka.producer({
      transactionalId: this.options.transactionalId,
      transactionTimeout: this.options.transactionTimeoutMs ?? 30_000,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction started right after a commit meets CONCURRENT_TRANSACTIONS until the broker
      // has written the commit markers (a few ms): retry quickly, not after the default 300 ms.
      retry: { retries: 8, initialRetryTime: 5, maxRetryTime: 200 },
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    this.producer = producer;
  }
}
