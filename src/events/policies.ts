import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Consumer, EachBatchPayload } from "kafkajs";
import { type PolicyEvent, PolicyEventSchema } from "../gen/mlcache/v1/events_pb.js";
import type { Logger } from "../logger.js";
import { fetchMarks } from "./invalidations.js";
import type { KafkaConnection } from "./kafka.js";
import type { TransactionalPublisher } from "./transactions.js";
import { type AppliedOffsets, followProgress } from "./trust.js";

/** Options of a {@link PolicyLog}. */
export interface PolicyLogOptions {
  connection: KafkaConnection;
  /** Policy events go in transactions: one that was reported failed is never applied anywhere. */
  publisher: TransactionalPublisher;
  instanceId: string;
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
  private consumer: Consumer | undefined;
  private stopFollowing: (() => void) | undefined;
  private stopChecking: (() => void) | undefined;
  private caughtUp = false;
  private resolveCaughtUp: () => void = () => {};
  private readonly caughtUpPromise = new Promise<void>((resolve) => {
    this.resolveCaughtUp = resolve;
  });
  /** Events applied (own included). */
  appliedEvents = 0;

  constructor(private readonly options: PolicyLogOptions) {
    this.topic = options.connection.settings.topics.policies;
  }

  /** Whether every change made before this instance started is applied. */
  get ready(): boolean {
    return this.caughtUp;
  }

  /** Resolves once every change made before this instance started is applied. */
  caughtUpOnce(): Promise<void> {
    return this.caughtUpPromise;
  }

  /**
   * Publishes a change; resolves once Kafka committed it. Rejects with the publisher's
   * CacheError: UNAVAILABLE (not published, never will be) or DEADLINE_EXCEEDED (unknown).
   */
  publish(event: PolicyEvent, timeoutMs = 5_000): Promise<void> {
    return this.options.publisher.publish(
      [{ topic: this.topic, key: event.namespace, value: toBinary(PolicyEventSchema, event) }],
      timeoutMs,
    );
  }

  /** Starts reading from the beginning; `caughtUpOnce()` tells when the past is applied. */
  async start(): Promise<void> {
    const { applied } = this.options;
    const startMarks = await fetchMarks(this.options.connection, this.topic);
    const consumer = this.options.connection.kafka.consumer({
      groupId: `mlcache-policies-${this.options.instanceId}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2_000 },
      readUncommitted: false,
    });
    this.consumer = consumer;
    this.stopFollowing = followProgress(consumer, applied);
    const check = () => {
      if (!this.caughtUp && applied.covers(this.topic, startMarks.marks, startMarks.low)) {
        this.caughtUp = true;
        this.resolveCaughtUp();
      }
    };
    this.stopChecking?.();
    const unsubscribe = applied.onAdvance(check);
    this.stopChecking = unsubscribe;
    this.caughtUpPromise.then(unsubscribe, unsubscribe);
    check();
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      // Never committed: every start reads the whole (compacted) log again.
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.applyBatch(payload),
    });
  }

  async close(): Promise<void> {
    this.stopFollowing?.();
    this.stopChecking?.();
    await this.consumer?.disconnect().catch(() => {});
    this.consumer = undefined;
  }

  private async applyBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      if (message.value) this.apply(message.value);
      resolveOffset(message.offset);
      this.options.applied.advance(this.topic, batch.partition, BigInt(message.offset) + 1n);
    }
    resolveOffset(batch.lastOffset());
    this.options.applied.advance(this.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
    await heartbeat();
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
