import type { Encryption } from "../crypto/key-ring.js";
import type { EventBus, InvalidationNotice, WriteBehindEvent } from "../engine/events.js";
import type { ServiceHealth } from "../engine/health.js";
import type { PolicyEvent } from "../gen/mlcache/v1/events_pb.js";
import type { DeadLetterRecord } from "../loaders/dead-letters.js";
import type { Logger } from "../logger.js";
import { deadLetterPublisher } from "./dead-letters.js";
import { InvalidationBus, type InvalidationHandler } from "./invalidations.js";
import { KafkaConnection, type KafkaSettings } from "./kafka.js";
import { credentialsRefused } from "./kafka-security.js";
import { PolicyLog } from "./policies.js";
import { fetchMarks } from "./topic-follower.js";
import { TransactionalPublisher } from "./transactions.js";
import { AppliedOffsets, L1TrustTracker } from "./trust.js";
import { publishWrite } from "./write-behind.js";

/** Options of {@link ServiceEvents} besides the Kafka settings. */
export interface ServiceEventsOptions {
  instanceId: string;
  /** Applies invalidations heard from others. */
  handler: InvalidationHandler;
  /** Applies policy changes from the policy log (the instance's own included). */
  applyPolicy: (event: PolicyEvent) => void;
  /** B of the consistency contract (ms). */
  propagationBoundMs: number;
  logger: Logger;
  /** Seals the values of write-behind events of encrypted namespaces. */
  encryption?: Encryption | undefined;
}

/**
 * Everything one service instance does with Kafka: publishes invalidations, write-behind
 * writes, policy changes and dead letters; consumes the invalidations of others and the
 * policy log; and tracks whether L1 may be trusted (see {@link L1TrustTracker}). If Kafka
 * cannot be reached at start the instance serves anyway — L1 untrusted, not ready — and keeps
 * trying to connect in the background.
 */
export class ServiceEvents implements EventBus {
  readonly connection: KafkaConnection;
  /** Whether L1 may be used now (the engine's `l1Trust`). */
  readonly trust: L1TrustTracker;
  readonly policies: PolicyLog;
  private readonly bus: InvalidationBus;
  private readonly transactions: TransactionalPublisher;
  private readonly applied = new AppliedOffsets();
  private readonly publishDead: (record: DeadLetterRecord) => Promise<void>;
  private started = false;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  /** Resolved when the brokers refuse this instance's credentials: start() need not wait then. */
  private refusedCredentials!: () => void;
  private readonly refused = new Promise<void>((resolve) => {
    this.refusedCredentials = resolve;
  });

  constructor(
    settings: KafkaSettings,
    private readonly options: ServiceEventsOptions,
  ) {
    const { instanceId, logger } = options;
    this.connection = new KafkaConnection(settings, logger);
    this.transactions = new TransactionalPublisher({
      kafka: this.connection.kafka,
      // Stable per instance: a restart fences the previous incarnation and aborts its leftovers.
      transactionalId: `mlcache-${instanceId}`,
      logger,
    });
    this.bus = new InvalidationBus({
      connection: this.connection,
      instanceId,
      applied: this.applied,
      handler: options.handler,
      logger,
    });
    this.policies = new PolicyLog({
      connection: this.connection,
      publisher: this.transactions,
      instanceId,
      applied: this.applied,
      apply: options.applyPolicy,
      logger,
    });
    this.trust = new L1TrustTracker({
      boundMs: options.propagationBoundMs,
      topics: [settings.topics.invalidations, settings.topics.policies],
      applied: this.applied,
      fetchMarks: (topic) => fetchMarks(this.connection, topic),
    });
    this.publishDead = deadLetterPublisher(this.connection, instanceId);
  }

  /**
   * Connects, then replays the invalidations this instance missed and the policy log. Resolves
   * once both are applied, or after `timeoutMs` (the work goes on in the background and
   * readiness says so). Never rejects: on failure it retries in the background.
   */
  async start(timeoutMs = 30_000): Promise<void> {
    this.trust.start();
    this.attempt();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.replayedOnce().then(() => true),
      this.refused.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (!waited) this.options.logger.warn(this.readiness(), "kafka replay not finished; serving, not ready");
  }

  /**
   * Resolves once the missed invalidations and the policy log have been applied the first
   * time; until then the instance must not answer (its policies and L2 may be behind).
   */
  replayedOnce(): Promise<void> {
    return Promise.all([this.bus.caughtUpOnce(), this.policies.caughtUpOnce()]).then(() => undefined);
  }

  /** One connection attempt (one at a time); on failure, another in 5 s. */
  private attempt(): void {
    if (this.starting || this.started || this.closed) return;
    this.starting = (async () => {
      const open = () => {
        if (this.closed) throw new Error("closed while connecting");
      };
      try {
        await this.connection.start();
        open();
        await this.transactions.start();
        open();
        await this.bus.start();
        open();
        await this.policies.start();
        open();
        this.started = true;
      } catch (error) {
        if (this.closed) {
          await Promise.allSettled([this.bus.close(), this.policies.close(), this.transactions.close()]);
          return;
        }
        this.connection.failed(error);
        if (credentialsRefused(error)) {
          this.options.logger.error(
            { err: error },
            "kafka refused this instance's credentials (kafka.sasl): serving, not ready; invalidations are queued",
          );
          this.refusedCredentials();
        } else {
          this.options.logger.warn({ err: error }, "kafka is not reachable: invalidations are queued until it is");
        }
        // Consumers only: queued invalidations keep being flushed as Kafka comes back.
        await Promise.allSettled([this.bus.stopConsuming(), this.policies.close()]);
        this.scheduleRetry();
      } finally {
        this.starting = undefined;
      }
    })();
  }

  /**
   * Ready to take traffic: the missed invalidations and the policy log have been applied at
   * least once, and L1 is trusted (this instance has confirmed within B that it heard everything).
   */
  readiness(): { ready: boolean; detail: string } {
    if (!this.bus.ready) {
      return { ready: false, detail: `replaying missed invalidations (kafka ${this.connection.detail})` };
    }
    if (!this.policies.ready)
      return { ready: false, detail: `reading the policy log (kafka ${this.connection.detail})` };
    if (!this.trust.trusted) return { ready: false, detail: `L1 not trusted: ${this.trustDetail()}` };
    return { ready: true, detail: "caught up" };
  }

  private trustDetail(): string {
    const lag = this.trust.lagMs;
    const bound = this.options.propagationBoundMs;
    return Number.isFinite(lag)
      ? `last confirmed catch-up with kafka ${lag} ms ago (bound ${bound} ms)`
      : `no catch-up with kafka confirmed yet (bound ${bound} ms)`;
  }

  /**
   * Resolves true once Kafka acknowledged the notice; rejects with a CacheError UNAVAILABLE
   * when it did not within 2 s (the notice stays queued and is published later).
   */
  invalidated(namespace: string, notice: InvalidationNotice): Promise<boolean> {
    return this.bus.publish(namespace, notice);
  }

  writeBehind(event: WriteBehindEvent): Promise<void> {
    return publishWrite(
      this.transactions,
      this.connection.settings.topics.writes,
      event,
      this.options.instanceId,
      this.options.encryption,
    );
  }

  /** Hook for the dead-letter log: never awaited by loads, failures only logged. */
  deadLetter = (record: DeadLetterRecord): void => {
    const attempt = (n: number): void => {
      this.publishDead(record).catch((error: unknown) => {
        if (n < 3 && !this.closed) {
          setTimeout(() => attempt(n + 1), 500 * n).unref();
          return;
        }
        this.options.logger.warn(
          { err: error, key: record.key },
          "dead letter not published to kafka (kept in the local log)",
        );
      });
    };
    attempt(1);
  };

  status(): ServiceHealth {
    const up = this.connection.up;
    const trust = this.trust.trusted ? "L1 trusted" : `L1 not trusted (${this.trustDetail()})`;
    return {
      name: "kafka",
      up,
      detail: up ? `connected; ${trust}` : `${this.connection.detail}; invalidations are queued; ${trust}`,
      queued: this.bus.queued,
      breakerState: up ? "closed" : "open",
      consumerLag: this.bus.consumerLag,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.trust.stop();
    // A connection attempt stuck on an unresponsive broker cleans up after itself when it ends.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.starting, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    await Promise.allSettled([this.bus.close(), this.policies.close(), this.transactions.close()]);
    await this.connection.close();
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => this.attempt(), 5_000);
    this.retry.unref();
  }
}
