import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";
import { ConfigError } from "../config/config.js";
import { readSecret, readTlsFiles } from "../config/secrets.js";

/** TLS to the brokers, as configured: `true` trusts the system CAs. */
export type KafkaTlsSettings =
  | true
  | {
      caFile?: string | undefined;
      certFile?: string | undefined;
      keyFile?: string | undefined;
      servername?: string | undefined;
    };

/** SASL to the brokers, as configured: the password itself or where to read it. */
export interface KafkaSaslSettings {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  username: string;
  password?: string | undefined;
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
}

/** What kafkajs is given: TLS options with the files read, and SASL with the password read. */
export interface KafkaClientSecurity {
  ssl?: true | ConnectionOptions;
  sasl?: SASLOptions;
}

/** Runs a read of the config's files or secrets, turning its failure into a ConfigError. */
function configured<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
}

/**
 * Reads the files and the password the Kafka TLS and SASL settings name, once, at start.
 * Throws a ConfigError naming the field; the password is never in a message. Certificates are
 * always verified: there is no switch to turn verification off.
 *
 *   new Kafka({ brokers, ...kafkaClientSecurity(settings) })
 */
export function kafkaClientSecurity(
  settings: { ssl?: KafkaTlsSettings | undefined; sasl?: KafkaSaslSettings | undefined },
  env: NodeJS.ProcessEnv = process.env,
): KafkaClientSecurity {
  const security: KafkaClientSecurity = {};
  const tls = settings.ssl;
  if (tls === true) security.ssl = true;
  else if (tls) {
    const { ca, cert, key, servername } = configured(() => readTlsFiles("kafka.ssl", tls));
    const options: ConnectionOptions = {};
    if (ca) options.ca = [ca];
    if (cert && key) {
      options.cert = cert;
      options.key = key;
    }
    if (servername) options.servername = servername;
    security.ssl = options;
  }
  const sasl = settings.sasl;
  if (sasl) {
    const secret = configured(() =>
      readSecret("kafka.sasl.password", { value: sasl.password, file: sasl.passwordFile, env: sasl.passwordEnv }, env),
    );
    if (!secret) throw new ConfigError("invalid configuration: kafka.sasl: no password");
    security.sasl =
      sasl.mechanism === "plain"
        ? { mechanism: "plain", username: sasl.username, password: secret }
        : sasl.mechanism === "scram-sha-256"
          ? { mechanism: "scram-sha-256", username: sasl.username, password: secret }
          : { mechanism: "scram-sha-512", username: sasl.username, password: secret };
  }
  return security;
}

/** Whether a kafkajs error says the brokers refused the credentials (waiting will not help). */
export function credentialsRefused(error: unknown): boolean {
  return error instanceof Error && error.name === "KafkaJSSASLAuthenticationError";
}
