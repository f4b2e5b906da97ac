import type { Consumer, EachBatchPayload } from "kafkajs";
import type { KafkaConnection } from "./kafka.js";
import { type AppliedOffsets, followProgress, type PartitionMark } from "./trust.js";

/** A topic's high-water marks and log starts at some moment. */
export interface TopicMarks {
  marks: PartitionMark[];
  low: Map<number, bigint>;
}

/**
 * A topic's high-water marks and log starts, from the admin client. High-water marks, not last
 * stable offsets: a record committed behind a transaction that is still open is below the first
 * and above the second, and must count as not applied yet (./kafkajs-high-watermark.ts).
 */
export async function fetchMarks(connection: KafkaConnection, topic: string): Promise<TopicMarks> {
  let offsets: Awaited<ReturnType<typeof connection.admin.fetchTopicOffsets>>;
  for (let attempt = 1; ; attempt++) {
    try {
      offsets = await connection.admin.fetchTopicOffsets(topic);
      break;
    } catch (error) {
      // A topic created a moment ago has no leader in the admin's metadata yet: ask again.
      if (attempt >= 20 || !(error as { retriable?: boolean }).retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    marks: offsets.map((o) => ({ partition: o.partition, high: BigInt(o.high) })),
    low: new Map(offsets.map((o) => [o.partition, BigInt(o.low)])),
  };
}

/**
 * What every consumer of a followed topic (invalidations, policies) shares: records applied in
 * log order, each marked applied in `applied` once its handler finished (also past records a
 * read-committed consumer never sees), and the moment it has caught up with the topic as it
 * was when following began. `stop` undoes all of it and disconnects the consumer.
 */
export class TopicFollower {
  private consumer: Consumer | undefined;
  private stopFollowing: (() => void) | undefined;
  private stopChecking: (() => void) | undefined;
  private caughtUp = false;
  /** Per partition: records between what was applied and the high-water mark of the last fetch. */
  private readonly lagByPartition = new Map<number, bigint>();
  private resolveCaughtUp: () => void = () => {};
  private readonly caughtUpPromise = new Promise<void>((resolve) => {
    this.resolveCaughtUp = resolve;
  });

  constructor(
    private readonly topic: string,
    private readonly applied: AppliedOffsets,
    private readonly apply: (value: Buffer) => unknown,
  ) {}

  /** Whether everything published before following began has been applied. */
  get ready(): boolean {
    return this.caughtUp;
  }

  /** Records not applied yet, summed over the partitions, as of each partition's last fetch. */
  get lag(): number {
    let sum = 0n;
    for (const records of this.lagByPartition.values()) sum += records;
    return Number(sum);
  }

  /** Resolves once everything published before following began has been applied. */
  caughtUpOnce(): Promise<void> {
    return this.caughtUpPromise;
  }

  /**
   * Follows `consumer` (not connected yet): its progress goes into `applied`, and catching up
   * means covering `start` (the topic's marks when following began) and then, when `marksNow`
   * is given, the marks as they are once that is done: what was published while the consumer
   * read its backlog (a policy changed while a restarted instance replayed the log) is applied
   * before the instance counts as caught up, not after it has begun to answer. If those marks
   * cannot be fetched, covering `start` is enough.
   */
  follow(consumer: Consumer, start: TopicMarks, marksNow?: () => Promise<TopicMarks>): void {
    this.consumer = consumer;
    this.stopFollowing = followProgress(consumer, this.applied);
    let target = start;
    let secondRound = marksNow;
    let refetching = false;
    const check = () => {
      if (this.caughtUp || refetching || !this.applied.covers(this.topic, target.marks, target.low)) return;
      if (secondRound) {
        const fetchMarksNow = secondRound;
        secondRound = undefined;
        refetching = true;
        fetchMarksNow().then(
          (marks) => {
            target = marks;
            refetching = false;
            check();
          },
          () => {
            refetching = false;
            check();
          },
        );
        return;
      }
      this.caughtUp = true;
      this.resolveCaughtUp();
    };
    this.stopChecking?.();
    const unsubscribe = this.applied.onAdvance(check);
    this.stopChecking = unsubscribe;
    this.caughtUpPromise.then(unsubscribe, unsubscribe);
    check();
  }

  /** The consumer's `eachBatch`: applies a fetched batch in order, recording each record as applied. */
  readonly eachBatch = async ({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> => {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      if (message.value) await this.apply(message.value);
      resolveOffset(message.offset);
      this.applied.advance(this.topic, batch.partition, BigInt(message.offset) + 1n);
    }
    // Past transaction markers and aborted records, which a read-committed consumer never sees.
    resolveOffset(batch.lastOffset());
    const next = BigInt(batch.lastOffset()) + 1n;
    this.applied.advance(this.topic, batch.partition, next);
    // Transaction markers sit below the high-water mark too: never less than nothing.
    const behind = BigInt(batch.highWatermark) - next;
    this.lagByPartition.set(batch.partition, behind > 0n ? behind : 0n);
    await heartbeat();
  };

  /** Stops following and disconnects the consumer. */
  async stop(): Promise<void> {
    this.stopFollowing?.();
    this.stopChecking?.();
    this.lagByPartition.clear();
    await this.consumer?.disconnect().catch(() => {});
    this.consumer = undefined;
  }
}
