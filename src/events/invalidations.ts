import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { InvalidationNotice } from "../engine/events.js";
import { CacheError, Status } from "../errors.js";
import { CacheLayer } from "../gen/mlcache/v1/common_pb.js";
import { InvalidationCause, type InvalidationEvent, InvalidationEventSchema } from "../gen/mlcache/v1/events_pb.js";
import type { Logger } from "../logger.js";
import type { KafkaConnection } from "./kafka.js";
import { fetchMarks, TopicFollower } from "./topic-follower.js";
import type { AppliedOffsets } from "./trust.js";

/** The record key of an event: events about one key (or tag, or prefix) stay in order. */
export function invalidationKey(
  namespace: string,
  notice: { keys: readonly string[]; tags: readonly string[]; prefix?: string | undefined },
): string {
  if (notice.keys.length === 1 && notice.tags.length === 0 && notice.prefix === undefined) {
    return `${namespace}/${notice.keys[0]}`;
  }
  if (notice.prefix !== undefined) return `${namespace}/prefix:${notice.prefix}`;
  if (notice.tags.length > 0 && notice.keys.length === 0) return `${namespace}/tag:${notice.tags[0]}`;
  return namespace;
}

/** The protobuf event for a notice. */
export function toEvent(namespace: string, notice: InvalidationNotice, instanceId: string): InvalidationEvent {
  return create(InvalidationEventSchema, {
    namespace,
    keys: [...notice.keys],
    tags: [...notice.tags],
    ...(notice.prefix !== undefined ? { prefix: notice.prefix } : {}),
    version: notice.version ?? 0n,
    originInstance: instanceId,
    time: timestampFromMs(Math.floor(notice.at)),
    cause: causes[notice.cause],
    eventId: randomUUID(),
    ...(notice.ttlAdjustment
      ? {
          ttlAdjustment: {
            ttl: durationFromMs(notice.ttlAdjustment.ttlMs),
            layer: layers[notice.ttlAdjustment.layer],
          },
        }
      : {}),
  });
}

const causes = {
  invalidate: InvalidationCause.INVALIDATE,
  set: InvalidationCause.SET,
  "adjust-ttl": InvalidationCause.ADJUST_TTL,
} as const;

const layers = { all: CacheLayer.UNSPECIFIED, l1: CacheLayer.L1, l2: CacheLayer.L2 } as const;

/** The notice's TTL adjustment of an event, when it carries one. */
function ttlAdjustmentOf(event: InvalidationEvent): InvalidationNotice["ttlAdjustment"] {
  const adjustment = event.ttlAdjustment;
  if (event.cause !== InvalidationCause.ADJUST_TTL || !adjustment?.ttl) return undefined;
  const layer = adjustment.layer === CacheLayer.L1 ? "l1" : adjustment.layer === CacheLayer.L2 ? "l2" : "all";
  return { ttlMs: durationMs(adjustment.ttl), layer };
}

/** What the consumer does with an event from another publisher. */
export type InvalidationHandler = (
  namespace: string,
  notice: InvalidationNotice,
  /** True for outside publishers (no origin instance): the shared layer must be updated too. */
  external: boolean,
) => Promise<void>;

export interface InvalidationBusOptions {
  connection: KafkaConnection;
  instanceId: string;
  /** Where the consumer records what it has applied (for readiness and the L1 trust tracker). */
  applied: AppliedOffsets;
  /** Consumer group = prefix + instance id: a stable identity resumes where it stopped. */
  groupPrefix?: string;
  /** Publications kept while Kafka is down (default 10,000); beyond, the oldest is dropped and counted. */
  maxQueued?: number;
  /** How long `publish` waits for Kafka's acknowledgement (default 2 s). */
  publishTimeoutMs?: number;
  handler: InvalidationHandler;
  logger?: Logger;
}

interface Queued {
  record: { key: string; value: Uint8Array };
  /** Called once Kafka acknowledged the record (or with an error when it was dropped). */
  done?: ((error?: Error) => void) | undefined;
}

/**
 * Invalidations between instances over Kafka. Every local invalidation (and Set) is published;
 * every instance consumes the topic with a consumer group of its own and applies what others
 * published (its own events are skipped, it applied them already). A restarted instance
 * resumes from its committed offset and reports caught-up only once it has replayed what it
 * missed. Publications go through a bounded queue, oldest first, flushed as soon as Kafka
 * takes them; one that Kafka cannot take in time stays queued and is delivered later.
 */
export class InvalidationBus {
  private readonly connection: KafkaConnection;
  private readonly topic: string;
  private readonly groupId: string;
  private readonly queue: Queued[] = [];
  private readonly maxQueued: number;
  private readonly follower: TopicFollower;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing = false;
  /** Publications dropped because the queue was full. */
  dropped = 0;
  /** Events applied from other publishers. */
  applied = 0;

  constructor(private readonly options: InvalidationBusOptions) {
    this.connection = options.connection;
    this.topic = options.connection.settings.topics.invalidations;
    this.groupId = `${options.groupPrefix ?? "mlcache-invalidations-"}${options.instanceId}`;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.follower = new TopicFollower(this.topic, options.applied, (value) => this.apply(value));
  }

  /** Records of the topic this instance has not applied yet, as of its consumer's last fetches. */
  get consumerLag(): number {
    return this.follower.lag;
  }

  /** Publications waiting for Kafka. */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether the consumer has applied everything published before it started. */
  get ready(): boolean {
    return this.follower.ready;
  }

  /**
   * Publishes a local invalidation. Resolves true once Kafka acknowledged it (acks from all
   * in-sync replicas). When Kafka does not acknowledge within `publishTimeoutMs` (2 s) it
   * rejects with a CacheError UNAVAILABLE — and the record stays queued (bounded, oldest
   * first) and is published when Kafka takes it, so a retry by the caller is safe but not
   * needed. Never resolves false.
   */
  publish(namespace: string, notice: InvalidationNotice): Promise<boolean> {
    const timeoutMs = this.options.publishTimeoutMs ?? 2_000;
    const entry: Queued = {
      record: {
        key: invalidationKey(namespace, notice),
        value: toBinary(InvalidationEventSchema, toEvent(namespace, notice, this.options.instanceId)),
      },
    };
    const acknowledged = new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => {
        entry.done = undefined; // stays queued; nobody waits for it any more
        reject(
          new CacheError(
            Status.UNAVAILABLE,
            `kafka did not acknowledge the invalidation within ${timeoutMs} ms; it is queued (${this.queue.length} waiting) and will be published when kafka takes it`,
          ),
        );
      }, timeoutMs);
      entry.done = (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(true);
      };
    });
    this.enqueue(entry);
    void this.flush();
    return acknowledged;
  }

  /**
   * Starts consuming: the group resumes from its committed offsets (a new identity starts at
   * the current end: its L1 is empty). Resolves once the consumer runs; `caughtUp()` resolves
   * once everything published before the start has been applied.
   */
  async start(): Promise<void> {
    const committed = await this.committedOffsets();
    const startMarks = await fetchMarks(this.connection, this.topic);
    for (const [partition, offset] of committed) {
      if (offset >= 0n) this.options.applied.advance(this.topic, partition, offset);
    }
    // A new identity (no committed offset) starts at the end as seen now: its L1 is empty.
    const fresh = startMarks.marks.filter((m) => (committed.get(m.partition) ?? -1n) < 0n);
    for (const m of fresh) this.options.applied.advance(this.topic, m.partition, m.high);
    const consumer = this.connection.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    this.follower.follow(consumer, startMarks, () => fetchMarks(this.connection, this.topic));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    await consumer.run({
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      eachBatch: this.follower.eachBatch,
    });
    // Exactly there, so that the consumer and the catch-up check agree on where it starts (a
    // consumer left to find "latest" itself could skip a record published meanwhile); the
    // seek is committed, so a restart resumes from there even if nothing came in between.
    for (const m of fresh) consumer.seek({ topic: this.topic, partition: m.partition, offset: m.high.toString() });
  }

  /** Resolves once the consumer has applied everything published before it started. */
  caughtUpOnce(): Promise<void> {
    return this.follower.caughtUpOnce();
  }

  /** Stops publishing (what is queued stays unsent) and consuming. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    await this.stopConsuming();
  }

  /** Stops consuming (a failed start cleans up with this); publishing goes on. */
  async stopConsuming(): Promise<void> {
    await this.follower.stop();
  }

  private async apply(bytes: Buffer): Promise<void> {
    let event: InvalidationEvent;
    try {
      event = fromBinary(InvalidationEventSchema, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      this.options.logger?.warn({ err: error }, "skipping an invalidation event that is not an InvalidationEvent");
      return;
    }
    if (event.originInstance === this.options.instanceId) return; // applied when it was made
    const external = event.originInstance === "";
    const notice: InvalidationNotice = {
      keys: event.keys,
      tags: event.tags,
      prefix: event.prefix,
      version: event.version > 0n ? event.version : undefined,
      cause: event.cause === InvalidationCause.SET ? "set" : "invalidate",
      at: event.time ? timestampMs(event.time) : Date.now(),
    };
    const ttlAdjustment = ttlAdjustmentOf(event);
    // An adjustment without a usable TTL is applied as what older consumers do: the keys are dropped.
    if (ttlAdjustment && ttlAdjustment.ttlMs > 0) {
      notice.cause = "adjust-ttl";
      notice.ttlAdjustment = ttlAdjustment;
    }
    try {
      await this.options.handler(event.namespace || "default", notice, external);
      this.applied++;
    } catch (error) {
      this.options.logger?.warn({ err: error, namespace: event.namespace }, "applying an invalidation event failed");
    }
  }

  private async committedOffsets(): Promise<Map<number, bigint>> {
    const [topic] = await this.connection.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  private enqueue(entry: Queued): void {
    if (this.queue.length >= this.maxQueued) {
      const oldest = this.queue.shift();
      oldest?.done?.(new CacheError(Status.UNAVAILABLE, "the invalidation queue overflowed; this one was dropped"));
      this.dropped++;
    }
    this.queue.push(entry);
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, 500);
    this.flushTimer.unref();
  }

  /**
   * Sends what is queued, oldest first, in order, many records per request; stops at the first
   * failure and tries again shortly. Records queued while a request is out go in the next.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, 500);
        await this.connection.send(
          this.topic,
          batch.map((q) => q.record),
        );
        // The queue may have dropped some of these meanwhile (overflow drops the oldest).
        const sent = new Set(batch);
        let n = 0;
        while (n < this.queue.length && sent.has(this.queue[n] as Queued)) n++;
        this.queue.splice(0, n);
        for (const q of batch) q.done?.();
      }
    } catch {
      // Kafka still down: try again shortly.
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.scheduleFlush();
    }
  }
}
