// Before kafkajs loads: its filter of aborted transactions is replaced (see the module).
import "./kafkajs-aborted-filter.js";
// Its admin's ListOffsets answers high-water marks, not last stable offsets (see the module).
import "./kafkajs-high-watermark.js";
import { type Admin, Kafka, type KafkaConfig, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "../logger.js";
import { type KafkaSaslSettings, type KafkaTlsSettings, kafkaClientSecurity } from "./kafka-security.js";

/** Where the Kafka topics are and how to reach the brokers. */
export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  topics: { invalidations: string; writes: string; deadLetters: string; policies: string };
  /** Partitions for topics this service creates (default 6). */
  partitions?: number;
  /** TLS to the brokers (`true`: system CAs). */
  ssl?: KafkaTlsSettings | undefined;
  /** SASL authentication (PLAIN or SCRAM), over TLS. */
  sasl?: KafkaSaslSettings | undefined;
}

/** Maps kafkajs' log levels onto the service's logger, so its lines look like ours. */
function logCreator(logger: Logger | undefined) {
  return () =>
    ({ level, log }: { level: number; log: { message: string } & Record<string, unknown> }) => {
      if (!logger) return;
      const { message, ...rest } = log;
      if (level <= logLevel.ERROR) logger.error({ kafka: rest }, message);
      else if (level === logLevel.WARN) logger.warn({ kafka: rest }, message);
    };
}

/**
 * One connection to the Kafka cluster: the kafkajs client, an admin for topics and offsets,
 * and the idempotent producer every publication goes through (acks from all in-sync
 * replicas, so an acknowledged event is durable). `up` follows the producer's connection.
 */
export class KafkaConnection {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  private connected = false;
  private lastError = "";

  constructor(
    readonly settings: KafkaSettings,
    private readonly logger?: Logger,
  ) {
    const config: KafkaConfig = {
      clientId: settings.clientId,
      brokers: [...settings.brokers],
      // Files and the password are read here, once; the kafkajs client is the only holder.
      ...kafkaClientSecurity(settings),
      logLevel: logLevel.WARN,
      logCreator: logCreator(logger),
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
      // Few, quick retries: a publication that cannot be made is queued or reported, not stuck.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    };
    this.kafka = new Kafka(config);
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.connected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  /** Connects the admin and producer and makes sure the topics exist. */
  async start(): Promise<void> {
    await this.admin.connect();
    const existing = new Set(await this.admin.listTopics());
    const { policies } = this.settings.topics;
    const topics = Object.values(this.settings.topics).filter((t) => !existing.has(t));
    if (topics.length > 0) {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((topic) =>
          topic === policies
            ? // Compacted: Kafka keeps each namespace's last change for ever. One partition: one order.
              { topic, numPartitions: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }
            : { topic, numPartitions: this.settings.partitions ?? 6 },
        ),
      });
    }
    await this.producer.connect();
    this.connected = true;
  }

  /** Records a failed call, so health can say why Kafka is down. */
  failed(error: unknown): void {
    this.lastError = error instanceof Error ? error.message : String(error);
    this.connected = false;
  }

  /** Records a successful call. */
  succeeded(): void {
    this.connected = true;
  }

  get up(): boolean {
    return this.connected;
  }

  get detail(): string {
    return this.connected ? "connected" : `down: ${this.lastError || "not connected"}`;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /**
   * Publishes records durably (acks from all in-sync replicas); rejects when Kafka cannot take
   * them within `timeoutMs`. Records sent while a request is in flight are gathered and go in
   * the next request together (the idempotent producer keeps one request in flight, so this is
   * what lets many concurrent publications share round trips). After a timeout the records may
   * still arrive later: consumers must tolerate duplicates, as at-least-once delivery implies.
   */
  send(topic: string, messages: { key: string; value: Uint8Array }[], timeoutMs = 5_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new Error(`kafka did not acknowledge within ${timeoutMs} ms`);
        this.failed(error);
        reject(error);
      }, timeoutMs);
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      let batch = this.gathering.get(topic);
      if (!batch) {
        batch = { messages: [], waiters: [] };
        this.gathering.set(topic, batch);
      }
      for (const m of messages) {
        batch.messages.push({ key: m.key, value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength) });
      }
      batch.waiters.push(settle);
      this.drain();
    });
  }

  /** Records waiting for the next request, per topic. */
  private readonly gathering = new Map<
    string,
    { messages: { key: string; value: Buffer }[]; waiters: ((error?: unknown) => void)[] }
  >();
  private sending = false;

  private drain(): void {
    if (this.sending || this.gathering.size === 0) return;
    this.sending = true;
    const topicMessages = [...this.gathering].map(([topic, batch]) => ({ topic, batch }));
    this.gathering.clear();
    this.producer
      .sendBatch({
        acks: -1,
        topicMessages: topicMessages.map(({ topic, batch }) => ({ topic, messages: batch.messages })),
      })
      .then(
        () => {
          this.succeeded();
          for (const { batch } of topicMessages) for (const done of batch.waiters) done();
        },
        (error: unknown) => {
          this.failed(error);
          this.logger?.warn({ err: error }, "kafka publication failed");
          for (const { batch } of topicMessages) for (const done of batch.waiters) done(error);
        },
      )
      .finally(() => {
        this.sending = false;
        this.drain();
      });
  }
}
