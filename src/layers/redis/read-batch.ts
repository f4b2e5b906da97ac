import { Cluster } from "ioredis";
import type { Admission } from "./breaker.js";
import type { GuardedClient } from "./guarded-client.js";
import type { RedisKeys } from "./keys.js";
import type { StampSync } from "./stamp-sync.js";

/** Reads per batch at most: Redis serves nothing else while it runs one MGET, so a burst goes as several. */
const MAX_BATCH_READS = 500;

/** Replies of a read batch, in its key order: null for a key Redis does not hold. */
type BatchReplies = readonly (Buffer | null)[];

/** One read's reply: null when Redis does not hold the key, undefined when the read failed. */
export type ReadReply = Buffer | null | undefined;

/** Where a read's reply will be: in its batch's replies (undefined on failure), at `index`. */
export interface PendingRead {
  readonly replies: Promise<BatchReplies | undefined>;
  readonly index: number;
}

/**
 * The reads of one namespace started in one turn of the event loop, sent to Redis together at
 * the turn's end with the namespace's stamp version.
 */
class ReadBatch {
  /** The namespace's stamp version key first, then each read's data key. */
  readonly keys: string[];
  /** The breaker's admission of each read, in the order of its key. */
  readonly admissions: Admission[] = [];
  /** Settles with the replies once the stamps they carry were applied; undefined on failure. */
  readonly replies: Promise<BatchReplies | undefined>;
  answer!: (replies: BatchReplies | undefined) => void;

  constructor(versionKey: string) {
    this.keys = [versionKey];
    this.replies = new Promise((resolve) => {
      this.answer = resolve;
    });
  }
}

/** A namespace's place in the batcher, kept for the batcher's life: its batch of this turn, if any. */
class NamespaceReads {
  batch: ReadBatch | undefined;
  constructor(
    readonly namespace: string,
    readonly versionKey: string,
  ) {}
}

/**
 * The one way the Redis layer reads entries, for `get` and `getMany` alike. The reads of a
 * namespace started in one turn of the event loop go to Redis together on the turn's next
 * tick: one MGET of their keys and the namespace's stamp version (a GET each on a cluster,
 * where one MGET cannot span slots). One command for many reads costs Redis and the client far
 * less than a command each, and adds no wait: ioredis sends auto-pipelined commands in a later
 * turn anyway. Every read still sees the stamps written before it started, as the version is
 * read after every read of the batch had started.
 */
export class ReadBatcher {
  /**
   * Each namespace read so far; nothing is added or removed per turn. A Map of the turn's batches
   * cleared every turn made lone reads promote ~3 KB each to the old generation (--trace-gc-nvp:
   * 200 MB per 60 k reads, 6 MB with this), likely V8's cleared tables each linked to the next for
   * live iterators; GC was then half the CPU of a lone read.
   */
  private readonly namespaces = new Map<string, NamespaceReads>();
  /** The namespaces with a batch to send on this turn's next tick. */
  private due: NamespaceReads[] = [];
  private readonly sendAll = () => {
    const due = this.due;
    this.due = [];
    for (const reads of due) {
      const batch = reads.batch;
      if (!batch) continue; // sent when it filled up
      reads.batch = undefined;
      this.send(reads.namespace, batch);
    }
  };

  constructor(
    private readonly guard: GuardedClient,
    private readonly keys: RedisKeys,
    private readonly stamps: StampSync,
  ) {}

  /** Reads one data key; undefined when the breaker refuses the read now. */
  read(namespace: string, dataKey: string): PendingRead | undefined {
    const admission = this.guard.breaker.admit();
    if (admission === undefined) return undefined;
    return this.push(namespace, dataKey, admission);
  }

  /** Reads data keys (in as few batches as fit), answering each read's reply in their order. */
  readMany(namespace: string, dataKeys: readonly string[]): Promise<ReadReply[]> {
    return Promise.all(
      dataKeys.map((dataKey) => {
        const read = this.read(namespace, dataKey);
        return read ? read.replies.then((replies) => replies?.[read.index]) : undefined;
      }),
    );
  }

  private push(namespace: string, dataKey: string, admission: Admission): PendingRead {
    let reads = this.namespaces.get(namespace);
    if (!reads) {
      reads = new NamespaceReads(namespace, this.keys.stampVersion(namespace));
      this.namespaces.set(namespace, reads);
    }
    let batch = reads.batch;
    if (!batch) {
      if (this.due.length === 0) process.nextTick(this.sendAll);
      batch = new ReadBatch(reads.versionKey);
      reads.batch = batch;
      this.due.push(reads);
    }
    const index = batch.keys.push(dataKey) - 1;
    batch.admissions.push(admission);
    if (index === MAX_BATCH_READS) {
      // Full: sent now (its reads have all started), and the turn's next reads start another.
      reads.batch = undefined;
      this.send(namespace, batch);
    }
    return { replies: batch.replies, index };
  }

  private send(namespace: string, batch: ReadBatch): void {
    // Past the command bound the batch's reads miss, and a late answer is ignored.
    const pending = this.guard.pending.add((error) => {
      this.guard.failed(error);
      this.settle(batch, () => false);
      batch.answer(undefined);
    });
    const client = this.guard.client;
    if (client instanceof Cluster) {
      // A read fails alone when its node does; without the version, every read misses.
      Promise.allSettled(batch.keys.map((key) => client.getBuffer(key))).then((outcomes) => {
        if (!this.guard.pending.settle(pending)) return;
        this.settle(batch, (i) => outcomes[i + 1]?.status === "fulfilled");
        if (outcomes[0]?.status !== "fulfilled") return batch.answer(undefined);
        this.apply(
          namespace,
          batch,
          outcomes.map((o) => (o.status === "fulfilled" ? o.value : null)),
        );
      });
      return;
    }
    client.mgetBuffer(...batch.keys).then(
      (replies) => {
        if (!this.guard.pending.settle(pending)) return;
        this.settle(batch, () => true);
        this.apply(namespace, batch, replies);
      },
      (error: unknown) => {
        if (!this.guard.pending.settle(pending)) return;
        this.guard.failed(error);
        this.settle(batch, () => false);
        batch.answer(undefined);
      },
    );
  }

  /** Tells the breaker how each of a batch's reads went. */
  private settle(batch: ReadBatch, succeeded: (read: number) => boolean): void {
    const at = performance.now();
    let anyOk = false;
    batch.admissions.forEach((admission, read) => {
      const ok = succeeded(read);
      anyOk ||= ok;
      this.guard.breaker.settle(admission, ok, at);
    });
    if (anyOk) this.guard.replayIfQueued();
  }

  /** Answers a batch's reads, after fetching the stamps when their version changed. */
  private apply(namespace: string, batch: ReadBatch, replies: BatchReplies): void {
    const syncing = this.stamps.ifChanged(namespace, replies[0] ? replies[0].toString() : null);
    if (!syncing) batch.answer(replies);
    else {
      syncing.then(
        () => batch.answer(replies),
        () => batch.answer(undefined),
      );
    }
  }
}
