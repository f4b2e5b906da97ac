import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { type Config, ConfigError, loadConfig, loadKeyRing } from "../config/config.js";
import { applyPolicyEvent } from "../config/policy-changes.js";
import { PolicyStore } from "../engine/policy-store.js";
import { KafkaConnection } from "../events/kafka.js";
import { PolicyLog } from "../events/policies.js";
import { AppliedOffsets } from "../events/trust.js";
import { type SinkCounters, WriteBehindSink } from "../events/write-behind.js";
import { originUserAgent } from "../loaders/origin.js";
import { OriginRegistry } from "../loaders/registry.js";
import { createLogger, type Logger } from "../logger.js";
import { resolveOtelSettings, startOtel } from "../telemetry/otel.js";
import { tracedWriter } from "../telemetry/tracing.js";

/** A running write-behind sink: {@link startSink}'s answer. */
export interface RunningSink {
  readonly counters: SinkCounters;
  /** Stops consuming, closes the connection and the writers. */
  close(): Promise<void>;
}

/**
 * Starts the write-behind consumer group of a configuration. The sink follows the fleet's
 * policy log as the service does (policies and origins changed at run time, key rules with
 * their writers included), and starts applying writes only once it has read that log.
 */
export async function startSink(
  config: Config,
  options: { groupId?: string; logger?: Logger } = {},
): Promise<RunningSink> {
  const kafka = config.kafka;
  if (!kafka) throw new ConfigError("mlcache sink needs Kafka: set kafka.brokers or MLCACHE_KAFKA_BROKERS");
  const keyRing = loadKeyRing(config);
  const logger = options.logger ?? createLogger(config.log.level, "mlcache-sink");
  const connection = new KafkaConnection(kafka, logger);
  const policies = new PolicyStore(config.defaults, config.namespaces, config.limits.maxNamespaces);
  const origins = new OriginRegistry({
    configured: config.origins,
    allowedTargets: config.origins.allowedTargets,
    userAgent: originUserAgent(config.instanceId),
  });
  // Traces only (the sink has no Prometheus registry): each writer call continues the Sets' traces.
  const otelSettings = resolveOtelSettings(config.telemetry?.otel);
  const otel = otelSettings && startOtel(otelSettings, { logger });
  const policyLog = new PolicyLog({
    connection,
    instanceId: config.instanceId,
    // Its own group per process (it never commits): sinks sharing a config each read the whole log.
    groupId: `mlcache-sink-policies-${config.instanceId}-${randomUUID()}`,
    applied: new AppliedOffsets(),
    apply: (event) => applyPolicyEvent(policies, origins, event),
    logger,
  });
  const sink = new WriteBehindSink({
    connection,
    writerFor: (namespace, key) => {
      const writer = origins.writerFor(namespace, policies.ruleFor(namespace, key)?.rule.name);
      return writer && otel ? tracedWriter(writer, otel.tracing) : writer;
    },
    tracing: otel?.tracing,
    ...(options.groupId ? { groupId: options.groupId } : {}),
    logger,
    instanceId: config.instanceId,
    keyRing,
  });
  await connection.start();
  await policyLog.start();
  // Writes wait for the policies of the fleet: a key's writer may be its rule's.
  await policyLog.caughtUpOnce();
  await sink.start();
  return {
    counters: sink.counters,
    async close() {
      await sink.stop();
      await policyLog.close();
      await connection.close();
      origins.closeAll();
      await otel?.close();
    },
  };
}

/**
 * `mlcache sink`: runs the write-behind consumer group, applying WriteEvents to each key's
 * writer (its key rule's, else its namespace's) until SIGTERM/SIGINT. Any number of sink
 * processes may run; Kafka spreads the partitions among them.
 */
export async function sinkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string", short: "c" }, group: { type: "string", default: "mlcache-sink" } },
  });
  const config = loadConfig(values.config ? { path: values.config } : {});
  if (!config.kafka) throw new ConfigError("mlcache sink needs Kafka: set kafka.brokers or MLCACHE_KAFKA_BROKERS");
  const logger = createLogger(config.log.level, "mlcache-sink");
  const sink = await startSink(config, { groupId: values.group, logger });
  logger.info({ group: values.group, topic: config.kafka.topics.writes }, "write-behind sink running");
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  await sink.close();
  logger.info(sink.counters, "write-behind sink stopped");
  return 0;
}
