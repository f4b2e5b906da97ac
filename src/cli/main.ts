import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";
import { ConfigError, loadConfig, loadKeyRing, redactConfig } from "../config/config.js";
import { kafkaClientSecurity } from "../events/kafka-security.js";
import { createLogger } from "../logger.js";
import { startService } from "../server.js";
import { adviseCommand } from "./advise.js";
import { CLIENT_COMMANDS, clientCommand } from "./client-commands.js";
import { rotateKeysCommand } from "./rotate-keys.js";
import { sinkCommand } from "./sink.js";
import { top } from "./top.js";

const USAGE = `mlcache — a layered gRPC cache service

Usage:
  mlcache serve [--config FILE]          run the service (gRPC :50051, HTTP :8080 by default)
  mlcache check-config [--config FILE]   print the effective configuration, secrets redacted
  mlcache sink [--config FILE]           apply write-behind writes from Kafka to the writers
  mlcache rotate-keys -n NS [--to KEY] [--batch 200] [--cursor C] [--config FILE]
                                         re-encrypt a namespace's Redis values under KEY
  mlcache get KEY [-n NS] [--raw]        read a key through the cache
  mlcache set KEY VALUE [-n NS] [--ttl 30s] [--tag T]...   write a key (VALUE "-" reads stdin)
  mlcache invalidate [-n NS] [--key K]... [--tag T]... [--prefix P]
  mlcache stats [-n NS]... [--watch] [--interval 1s] [--hot-keys N]
  mlcache top [-n NS]... [--interval 1s] [--hot-keys 5]   live view of the stats (q quits)
  mlcache advise [-n NS] [--json] [--apply | --revert]
                                        usage patterns of sampled keys, TTL advice, the rules it would add;
                                        --apply puts them in force (telemetry.usage.apply), --revert takes them out

Client commands talk to --server HOST:PORT (default $MLCACHE_SERVER or 127.0.0.1:50051; https://
for TLS), with --token T ($MLCACHE_TOKEN) when the service wants a credential, --ca FILE
($MLCACHE_CA) to trust its certificate, and --cert FILE --cert-key FILE ($MLCACHE_CERT,
$MLCACHE_CERT_KEY) for a client certificate.
Configuration: $MLCACHE_CONFIG (YAML) and MLCACHE_* variables; see README.md.
`;

/** Runs the CLI with its arguments; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command === "serve") return await serve(rest);
    if (command === "check-config") return checkConfig(rest);
    if (command === "top") return await top(rest);
    if (command === "advise") return await adviseCommand(rest);
    if (command === "sink") return await sinkCommand(rest);
    if (command === "rotate-keys") return await rotateKeysCommand(rest);
    if (CLIENT_COMMANDS.has(command)) return await clientCommand(command, rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mlcache: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  process.stderr.write(`mlcache: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

function configPath(args: string[]): string | undefined {
  const { values } = parseArgs({ args, options: { config: { type: "string", short: "c" } }, strict: true });
  return values.config;
}

function checkConfig(args: string[]): number {
  const path = configPath(args);
  const config = loadConfig(path ? { path } : {});
  loadKeyRing(config); // the keys are read and checked, never printed
  if (config.kafka) kafkaClientSecurity(config.kafka); // so are Kafka's CA, certificate and password
  process.stdout.write(toYaml(redactConfig(config)));
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const path = configPath(args);
  const config = loadConfig(path ? { path } : {});
  const logger = createLogger(config.log.level);
  const service = await startService(config, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "signal received");
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve();
    };
    const onTerm = () => stop("SIGTERM");
    const onInt = () => stop("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
  });
  await service.close();
  return 0;
}
