import type { EventBus, InvalidationNotice, WriteBehindEvent } from "../engine/events.js";
import type { LayerStatus } from "../engine/layer.js";
import type { DeadLetterRecord } from "../loaders/dead-letters.js";
import type { Logger } from "../logger.js";
import { deadLetterPublisher } from "./dead-letters.js";
import { InvalidationBus, type InvalidationHandler } from "./invalidations.js";
import { KafkaConnection, type KafkaSettings } from "./kafka.js";
import { publishWrite } from "./write-behind.js";

/**
 * Everything one service instance does with Kafka: publishes invalidations, write-behind
 * writes and dead letters, and consumes the invalidations of others. If Kafka cannot be
 * reached at start the instance serves anyway (invalidations apply locally and in Redis, their
 * publication is queued) and keeps trying to connect in the background.
 */
export class ServiceEvents implements EventBus {
  readonly connection: KafkaConnection;
  private readonly bus: InvalidationBus;
  private readonly publishDead: (record: DeadLetterRecord) => Promise<void>;
  private started = false;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    settings: KafkaSettings,
    private readonly instanceId: string,
    handler: InvalidationHandler,
    private readonly logger: Logger,
  ) {
    this.connection = new KafkaConnection(settings, logger);
    this.bus = new InvalidationBus({ connection: this.connection, instanceId, handler, logger });
    this.publishDead = deadLetterPublisher(this.connection, instanceId);
  }

  /**
   * Connects and replays the invalidations this instance missed (bounded by `timeoutMs`).
   * Never rejects: on failure it retries in the background.
   */
  async start(timeoutMs = 30_000): Promise<void> {
    try {
      await this.connection.start();
      await this.bus.start(timeoutMs);
      this.started = true;
    } catch (error) {
      this.connection.failed(error);
      this.logger.warn({ err: error }, "kafka is not reachable: invalidations are queued until it is");
      this.scheduleRetry();
    }
  }

  /** Whether the instance has caught up with the invalidations published before it started. */
  get ready(): boolean {
    return this.bus.ready || !this.started;
  }

  invalidated(namespace: string, notice: InvalidationNotice): Promise<boolean> {
    return this.bus.publish(namespace, notice);
  }

  writeBehind(event: WriteBehindEvent): Promise<void> {
    return publishWrite(this.connection, event, this.instanceId);
  }

  /** Hook for the dead-letter log: never awaited by loads, failures only logged. */
  deadLetter = (record: DeadLetterRecord): void => {
    const attempt = (n: number): void => {
      this.publishDead(record).catch((error: unknown) => {
        if (n < 3 && !this.closed) {
          setTimeout(() => attempt(n + 1), 500 * n).unref();
          return;
        }
        this.logger.warn({ err: error, key: record.key }, "dead letter not published to kafka (kept in the local log)");
      });
    };
    attempt(1);
  };

  status(): LayerStatus {
    const up = this.connection.up;
    return {
      name: "kafka",
      up,
      detail: up ? "connected" : `${this.connection.detail}; invalidations apply locally and are queued`,
      queued: this.bus.queued,
      breakerState: up ? "closed" : "open",
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.bus.close();
    await this.connection.close();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      void this.start();
    }, 5_000);
    this.retry.unref();
  }
}
