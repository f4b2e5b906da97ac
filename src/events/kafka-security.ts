import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "kafkajs";
import { ConfigError } from "../config/config.js";

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

function readPem(file: string, field: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(
      `invalid configuration: kafka.ssl.${field}: cannot read ${file}: ${(error as Error).message}`,
    );
  }
}

function password(sasl: KafkaSaslSettings, env: NodeJS.ProcessEnv): string {
  let secret: string | undefined;
  if (sasl.password !== undefined) secret = sasl.password;
  else if (sasl.passwordFile !== undefined) {
    try {
      secret = readFileSync(sasl.passwordFile, "utf8").trim();
    } catch (error) {
      throw new ConfigError(
        `invalid configuration: kafka.sasl.passwordFile: cannot read it: ${(error as Error).message}`,
      );
    }
    if (!secret) throw new ConfigError(`invalid configuration: kafka.sasl.passwordFile: the file is empty`);
  } else if (sasl.passwordEnv !== undefined) {
    secret = env[sasl.passwordEnv]?.trim();
    if (!secret) {
      throw new ConfigError(
        `invalid configuration: kafka.sasl.passwordEnv: environment variable ${sasl.passwordEnv} is not set`,
      );
    }
  }
  if (!secret) throw new ConfigError("invalid configuration: kafka.sasl: no password");
  return secret;
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
    const options: ConnectionOptions = {};
    if (tls.caFile) options.ca = [readPem(tls.caFile, "caFile")];
    if (tls.certFile && tls.keyFile) {
      options.cert = readPem(tls.certFile, "certFile");
      options.key = readPem(tls.keyFile, "keyFile");
    }
    if (tls.servername) options.servername = tls.servername;
    security.ssl = options;
  }
  const sasl = settings.sasl;
  if (sasl) {
    const secret = password(sasl, env);
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
