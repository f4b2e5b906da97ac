import type { Consumer } from "kafkajs";
import type { L1Trust } from "../engine/cache-manager.js";

/** A partition's high-water mark at some moment. */
export interface PartitionMark {
  partition: number;
  /**
   * The offset after the last record written: every record acknowledged before the moment is
   * below it, also one committed behind a transaction still open, which a read-committed
   * consumer reaches only once that transaction ends.
   */
  high: bigint;
}

/**
 * How far a consumer has applied each partition: the offset of the next record it has not
 * applied yet. Advanced after a record's handler finished (or past records a read-committed
 * consumer never sees: transaction markers, aborted records), or set to where a consumer
 * starts (its committed offset).
 */
export class AppliedOffsets {
  private readonly next = new Map<string, Map<number, bigint>>();
  private readonly listeners = new Set<() => void>();

  /** Records that everything of `topic`/`partition` below `nextOffset` has been applied. */
  advance(topic: string, partition: number, nextOffset: bigint): void {
    let partitions = this.next.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.next.set(topic, partitions);
    }
    if ((partitions.get(partition) ?? -1n) >= nextOffset) return;
    partitions.set(partition, nextOffset);
    for (const listener of this.listeners) listener();
  }

  /** Whether every record below `marks` has been applied (empty partitions need nothing). */
  covers(topic: string, marks: readonly PartitionMark[], low?: ReadonlyMap<number, bigint>): boolean {
    const partitions = this.next.get(topic);
    return marks.every(
      (m) => m.high <= (low?.get(m.partition) ?? 0n) || (partitions?.get(m.partition) ?? -1n) >= m.high,
    );
  }

  /** Calls `listener` after every advance; returns an unsubscribe. */
  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Advances `applied` past fetched batches that held nothing to hand over (only transaction
 * markers or aborted records): kafkajs calls no handler for them, but reports them here.
 * Returns an unsubscribe.
 */
export function followProgress(consumer: Consumer, applied: AppliedOffsets): () => void {
  return consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) applied.advance(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
  });
}

/** What the tracker asks Kafka: the marks and log starts of the topics it follows. */
export type FetchMarks = (topic: string) => Promise<{ marks: PartitionMark[]; low: Map<number, bigint> }>;

/** Options of an {@link L1TrustTracker}. */
export interface L1TrustTrackerOptions {
  /** B, the propagation bound (ms). */
  boundMs: number;
  /** Topics whose every acknowledged record must have been applied (invalidations, policies). */
  topics: readonly string[];
  applied: AppliedOffsets;
  fetchMarks: FetchMarks;
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
}

/**
 * Whether this instance may use its L1 (consistency contract, README "Consistency").
 *
 * Every B/4 it notes the time T and asks Kafka for the high-water marks of the followed
 * topics. Everything acknowledged before T lies below those marks; once the consumers have
 * applied everything below them, every invalidation acknowledged before T is applied here, so
 * `trustedThrough` = T. L1 is trusted while now − trustedThrough ≤ B. An instance cut off
 * from Kafka (or whose consumer is stuck) cannot advance T, and after B stops using L1; so does
 * every instance while a transaction left open holds read-committed consumers before records
 * committed after it (until Kafka aborts it: the transaction timeout, or its producer's successor).
 *
 * `trusted` is a plain field (the read path reads it on every lookup), set when a check
 * succeeds and cleared by a timer at trustedThrough + B: it flips late by at most the event
 * loop's lag, never early.
 */
export class L1TrustTracker implements L1Trust {
  trusted = false;
  /** T of the last successful check (ms since the epoch); 0 before the first. */
  trustedThrough = 0;
  /** Checks whose marks were fetched but not yet covered, oldest first (bounded). */
  private pending: { at: number; marks: Map<string, { marks: PartitionMark[]; low: Map<number, bigint> }> }[] = [];
  private fetching = false;
  private ticker: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  constructor(private readonly options: L1TrustTrackerOptions) {
    this.now = options.now ?? Date.now;
    this.unsubscribe = options.applied.onAdvance(() => this.settle());
  }

  /** Starts checking every B/4 (and once now). */
  start(): void {
    if (this.ticker) return;
    void this.check();
    this.ticker = setInterval(() => void this.check(), Math.max(10, Math.floor(this.options.boundMs / 4)));
    this.ticker.unref();
  }

  stop(): void {
    clearInterval(this.ticker);
    clearTimeout(this.expiry);
    this.ticker = undefined;
    this.unsubscribe();
  }

  /** How long ago the last confirmed catch-up was taken (ms); Infinity before the first. */
  get lagMs(): number {
    return this.trustedThrough === 0 ? Number.POSITIVE_INFINITY : this.now() - this.trustedThrough;
  }

  /** One check: note T, fetch the marks, and settle if already covered. One at a time. */
  async check(): Promise<void> {
    if (this.fetching) return;
    this.fetching = true;
    const at = this.now();
    try {
      const marks = new Map<string, { marks: PartitionMark[]; low: Map<number, bigint> }>();
      for (const topic of this.options.topics) marks.set(topic, await this.options.fetchMarks(topic));
      this.pending.push({ at, marks });
      if (this.pending.length > 16) this.pending.shift();
      this.settle();
    } catch {
      // Kafka did not answer: T cannot advance, and trust runs out on its own.
    } finally {
      this.fetching = false;
    }
  }

  /** Moves trustedThrough to the newest pending check the consumers have covered. */
  private settle(): void {
    let newest = -1;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const check = this.pending[i];
      if (!check) continue;
      const covered = [...check.marks].every(([topic, m]) => this.options.applied.covers(topic, m.marks, m.low));
      if (covered) {
        newest = i;
        break;
      }
    }
    if (newest < 0) return;
    const at = this.pending[newest]?.at ?? 0;
    this.pending = this.pending.slice(newest + 1);
    if (at <= this.trustedThrough) return;
    this.trustedThrough = at;
    const left = at + this.options.boundMs - this.now();
    clearTimeout(this.expiry);
    this.trusted = left >= 0;
    if (left >= 0) {
      this.expiry = setTimeout(() => {
        this.trusted = false;
      }, left + 1);
      this.expiry.unref();
    }
  }
}
