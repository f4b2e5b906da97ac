import { parseArgs } from "node:util";
import { ConfigError, loadConfig, loadKeyRing } from "../config/config.js";
import { KafkaConnection } from "../events/kafka.js";
import { WriteBehindSink } from "../events/write-behind.js";
import { originUserAgent } from "../loaders/origin.js";
import { OriginRegistry } from "../loaders/registry.js";
import { createLogger } from "../logger.js";
import { resolveOtelSettings, startOtel } from "../telemetry/otel.js";
import { tracedWriter } from "../telemetry/tracing.js";

/**
 * `mlcache sink`: runs the write-behind consumer group, applying WriteEvents to each
 * namespace's writer until SIGTERM/SIGINT. Any number of sink processes may run; Kafka
 * spreads the partitions among them.
 */
export async function sinkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string", short: "c" }, group: { type: "string", default: "mlcache-sink" } },
  });
  const config = loadConfig(values.config ? { path: values.config } : {});
  const keyRing = loadKeyRing(config);
  if (!config.kafka) throw new ConfigError("mlcache sink needs Kafka: set kafka.brokers or MLCACHE_KAFKA_BROKERS");
  const logger = createLogger(config.log.level, "mlcache-sink");
  const connection = new KafkaConnection(config.kafka, logger);
  const origins = new OriginRegistry({ configured: config.origins, userAgent: originUserAgent(config.instanceId) });
  // Traces only (the sink has no Prometheus registry): each writer call continues the Sets' traces.
  const otelSettings = resolveOtelSettings(config.telemetry?.otel);
  const otel = otelSettings && startOtel(otelSettings, { logger });
  const sink = new WriteBehindSink({
    connection,
    writerFor: (namespace) => {
      const writer = origins.writerFor(namespace);
      return writer && otel ? tracedWriter(writer, otel.tracing) : writer;
    },
    tracing: otel?.tracing,
    groupId: values.group,
    logger,
    instanceId: config.instanceId,
    keyRing,
  });
  await connection.start();
  await sink.start();
  logger.info({ group: values.group, topic: config.kafka.topics.writes }, "write-behind sink running");
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  await sink.stop();
  await connection.close();
  origins.closeAll();
  await otel?.close();
  logger.info(sink.counters, "write-behind sink stopped");
  return 0;
}
