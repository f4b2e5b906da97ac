import { randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Consumer } from "kafkajs";
import type { InvalidationNotice } from "../engine/events.js";
import { InvalidationCause, type InvalidationEvent, InvalidationEventSchema } from "../gen/mlcache/v1/events_pb.js";
import type { Logger } from "../logger.js";
import type { KafkaConnection } from "./kafka.js";

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
    cause: notice.cause === "set" ? InvalidationCause.SET : InvalidationCause.INVALIDATE,
    eventId: randomUUID(),
  });
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
  /** Consumer group = prefix + instance id: a stable identity resumes where it stopped. */
  groupPrefix?: string;
  /** Publications kept while Kafka is down (default 10,000); beyond, the oldest is dropped and counted. */
  maxQueued?: number;
  handler: InvalidationHandler;
  logger?: Logger;
}

/**
 * Invalidations between instances over Kafka. Every local invalidation (and Set) is published;
 * every instance consumes the topic with a consumer group of its own and applies what others
 * published (its own events are skipped, it applied them already). A restarted instance
 * resumes from its committed offset and reports caught-up only once it has replayed what it
 * missed. Publications that Kafka cannot take are queued (bounded) and flushed when it is back.
 */
export class InvalidationBus {
  private readonly connection: KafkaConnection;
  private readonly topic: string;
  private readonly groupId: string;
  private readonly queue: { key: string; value: Uint8Array }[] = [];
  private readonly maxQueued: number;
  private consumer: Consumer | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing = false;
  /** Publications dropped because the queue was full. */
  dropped = 0;
  /** Events applied from other publishers. */
  applied = 0;
  private caughtUp = false;

  constructor(private readonly options: InvalidationBusOptions) {
    this.connection = options.connection;
    this.topic = options.connection.settings.topics.invalidations;
    this.groupId = `${options.groupPrefix ?? "mlcache-invalidations-"}${options.instanceId}`;
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  /** Publications waiting for Kafka. */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether the consumer has applied everything published before it started. */
  get ready(): boolean {
    return this.caughtUp;
  }

  /** Publishes a local invalidation; resolves false when it was queued instead. */
  async publish(namespace: string, notice: InvalidationNotice): Promise<boolean> {
    const record = {
      key: invalidationKey(namespace, notice),
      value: toBinary(InvalidationEventSchema, toEvent(namespace, notice, this.options.instanceId)),
    };
    if (this.queue.length === 0 && this.connection.up) {
      try {
        // Short: an Invalidate call must not hang on Kafka; the queue takes over.
        await this.connection.send(this.topic, [record], 2_000);
        return true;
      } catch {
        // fall through to the queue
      }
    }
    this.enqueue(record);
    return false;
  }

  /**
   * Starts consuming. Resolves once everything published before now has been applied (bounded
   * by `timeoutMs`; past it the consumer goes on and `ready` turns true when it catches up).
   */
  async start(timeoutMs = 30_000): Promise<void> {
    const consumer = this.connection.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    this.consumer = consumer;
    await consumer.connect();
    // A new identity starts from now (its L1 is empty); a known one resumes from its offset.
    await consumer.subscribe({ topic: this.topic, fromBeginning: false });
    const highWater = await this.highWatermarks();
    const pending = new Map(highWater);
    let resolveCaughtUp: () => void = () => {};
    const caughtUp = new Promise<void>((resolve) => {
      resolveCaughtUp = resolve;
    });
    const check = () => {
      if (pending.size === 0 && !this.caughtUp) {
        this.caughtUp = true;
        resolveCaughtUp();
      }
    };
    consumer.on(consumer.events.GROUP_JOIN, async () => {
      const committed = await this.committedOffsets().catch(() => new Map<number, bigint>());
      // A new identity commits where it starts, so that after a restart it resumes from
      // there even if it never received an event before it stopped.
      const now = await this.connection.admin.fetchTopicOffsets(this.topic).catch(() => []);
      const fresh = now.filter((o) => (committed.get(o.partition) ?? -1n) < 0n);
      if (fresh.length > 0) {
        await consumer
          .commitOffsets(fresh.map((o) => ({ topic: this.topic, partition: o.partition, offset: o.high })))
          .catch((error: unknown) => this.options.logger?.warn({ err: error }, "could not commit the start offsets"));
      }
      // Partitions whose committed offset already reached the high-water mark need no replay.
      for (const [partition, high] of [...pending]) {
        const offset = committed.get(partition);
        if (offset === undefined || offset < 0n || offset >= high) pending.delete(partition);
      }
      check();
    });
    await consumer.run({
      autoCommitInterval: 1_000,
      eachMessage: async ({ partition, message }) => {
        if (message.value) await this.apply(message.value);
        const high = pending.get(partition);
        if (high !== undefined && BigInt(message.offset) + 1n >= high) {
          pending.delete(partition);
          check();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      caughtUp,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.options.logger?.warn({ pending: pending.size }, "invalidation replay not finished; serving meanwhile");
          resolve();
        }, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    await this.consumer?.disconnect().catch(() => {});
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
    try {
      await this.options.handler(event.namespace || "default", notice, external);
      this.applied++;
    } catch (error) {
      this.options.logger?.warn({ err: error, namespace: event.namespace }, "applying an invalidation event failed");
    }
  }

  private async highWatermarks(): Promise<Map<number, bigint>> {
    const offsets = await this.connection.admin.fetchTopicOffsets(this.topic);
    return new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  }

  private async committedOffsets(): Promise<Map<number, bigint>> {
    const [topic] = await this.connection.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
    return new Map((topic?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  private enqueue(record: { key: string; value: Uint8Array }): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(record);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, 500);
    this.flushTimer.unref();
  }

  /** Sends what was queued, oldest first, in order; stops at the first failure and retries later. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, 500);
        await this.connection.send(this.topic, batch);
        this.queue.splice(0, batch.length);
      }
    } catch {
      // Kafka still down: try again shortly.
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.scheduleFlush();
    }
  }
}
