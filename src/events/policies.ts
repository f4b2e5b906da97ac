import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type PolicyEvent, PolicyEventSchema } from "../gen/mlcache/v1/events_pb.js";
import type { Logger } from "../logger.js";
import type { KafkaConnection } from "./kafka.js";
import { fetchMarks, TopicFollower } from "./topic-follower.js";
import type { TransactionalPublisher } from "./transactions.js";
import type { AppliedOffsets } from "./trust.js";

/** Options of a {@link PolicyLog}. */
export interface PolicyLogOptions {
  connection: KafkaConnection;
  /**
   * Policy events go in transactions: one that was reported failed is never applied anywhere.
   * Needed only to publish (a log that only follows, like the write-behind sink's, has none).
   */
  publisher?: TransactionalPublisher;
  instanceId: string;
  /** Consumer group of the follower (default `mlcache-policies-<instanceId>`); it never commits. */
  groupId?: string;
  applied: AppliedOffsets;
  /** Applies an event to this instance; a throw is logged and the log goes on. */
  apply: (event: PolicyEvent) => void;
  logger?: Logger;
}

/**
 * Run-time policy changes for the whole fleet, on a compacted topic keyed by namespace (so
 * Kafka keeps each namespace's last change). Every instance reads the topic from the beginning
 * when it starts (its consumer never commits) and then follows it, applying events in log
 * order — its own too, so concurrent changes end at the log's last one on every instance.
 */
export class PolicyLog {
  private readonly topic: string;
  private readonly follower: TopicFollower;
  /** Events applied (own included). */
  appliedEvents = 0;

  constructor(private readonly options: PolicyLogOptions) {
    this.topic = options.connection.settings.topics.policies;
    this.follower = new TopicFollower(this.topic, options.applied, (value) => this.apply(value));
  }

  /** Whether every change made before this instance started is applied. */
  get ready(): boolean {
    return this.follower.ready;
  }

  /** Resolves once every change made before this instance started is applied. */
  caughtUpOnce(): Promise<void> {
    return this.follower.caughtUpOnce();
  }

  /**
   * Publishes a change; resolves once Kafka committed it. Rejects with the publisher's
   * CacheError: UNAVAILABLE (not published, never will be) or DEADLINE_EXCEEDED (unknown).
   */
  publish(event: PolicyEvent, timeoutMs = 5_000): Promise<void> {
    if (!this.options.publisher) return Promise.reject(new Error("this policy log only follows; it cannot publish"));
    return this.options.publisher.publish(
      [{ topic: this.topic, key: event.namespace, value: toBinary(PolicyEventSchema, event) }],
      timeoutMs,
    );
  }

  /** Starts reading from the beginning; `caughtUpOnce()` tells when the past is applied. */
  async start(): Promise<void> {
    const startMarks = await fetchMarks(this.options.connection, this.topic);
    const consumer = this.options.connection.kafka.consumer({
      groupId: this.options.groupId ?? `mlcache-policies-${this.options.instanceId}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
      readUncommitted: false,
    });
    this.follower.follow(consumer, startMarks, () => fetchMarks(this.options.connection, this.topic));
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      // Never committed: every start reads the whole (compacted) log again.
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: this.follower.eachBatch,
    });
  }

  async close(): Promise<void> {
    await this.follower.stop();
  }

  private apply(bytes: Buffer): void {
    let event: PolicyEvent;
    try {
      event = fromBinary(PolicyEventSchema, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      this.options.logger?.warn({ err: error }, "skipping a policy record that is not a PolicyEvent");
      return;
    }
    try {
      this.options.apply(event);
      this.appliedEvents++;
    } catch (error) {
      this.options.logger?.warn({ err: error, namespace: event.namespace }, "a policy change could not be applied");
    }
  }
}
