import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, redactConfig } from "../../../src/config/config.js";
import { credentialsRefused, kafkaClientSecurity } from "../../../src/events/kafka-security.js";

const brokers = ["k:9093"];
const sasl = { mechanism: "scram-sha-512", username: "mlcache" };

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mlcache-kafka-sec-")), name);
  writeFileSync(path, text);
  return path;
}

describe("kafka.ssl and kafka.sasl configuration", () => {
  it("accepts ssl: true, an ssl object, and SASL with one source of the password", () => {
    expect(parseConfig({ kafka: { brokers, ssl: true } }).kafka?.ssl).toBe(true);
    const config = parseConfig({
      kafka: { brokers, ssl: { caFile: "/ca.pem", servername: "kafka" }, sasl: { ...sasl, passwordEnv: "PW" } },
    });
    expect(config.kafka?.ssl).toEqual({ caFile: "/ca.pem", servername: "kafka" });
    expect(config.kafka?.sasl).toEqual({ ...sasl, passwordEnv: "PW" });
  });

  it("refuses what it cannot use, naming the field", () => {
    const bad = (kafka: object) => () => parseConfig({ kafka: { brokers, ...kafka } });
    expect(bad({ sasl: { ...sasl, password: "pw" } })).toThrow(/kafka\.sasl: needs kafka\.ssl too/);
    expect(bad({ ssl: true, sasl: { ...sasl } })).toThrow(/exactly one of password, passwordFile, passwordEnv/);
    expect(bad({ ssl: true, sasl: { ...sasl, password: "a", passwordEnv: "B" } })).toThrow(/exactly one of/);
    expect(bad({ ssl: true, sasl: { ...sasl, mechanism: "gssapi", password: "a" } })).toThrow(/kafka\.sasl\.mechanism/);
    expect(bad({ ssl: { certFile: "/c.pem" } })).toThrow(/both certFile and keyFile, or neither/);
    expect(bad({ ssl: { caFile: "/ca.pem", rejectUnauthorized: false } })).toThrow(/rejectUnauthorized/);
    expect(bad({ ssl: false })).toThrow(/kafka\.ssl: use true \(the system CAs\) or \{ caFile/);
    expect(bad({ ssl: { caFile: null } })).toThrow(/kafka\.ssl: use true/);
  });

  it("never shows the password in check-config output", () => {
    const config = parseConfig({ kafka: { brokers, ssl: true, sasl: { ...sasl, password: "hunter2-kafka" } } });
    const text = JSON.stringify(redactConfig(config));
    expect(text).not.toContain("hunter2-kafka");
    expect(text).toContain("mlcache");
  });

  it("reads the CA, the client certificate and the password from files or the environment", () => {
    const ca = file("ca.pem", "CA PEM");
    const security = kafkaClientSecurity({
      ssl: { caFile: ca, certFile: file("c.pem", "CERT"), keyFile: file("k.pem", "KEY"), servername: "kafka" },
      sasl: { mechanism: "scram-sha-512", username: "u", passwordFile: file("pw", "from-file\n") },
    });
    expect(security.ssl).toEqual({
      ca: [Buffer.from("CA PEM")],
      cert: Buffer.from("CERT"),
      key: Buffer.from("KEY"),
      servername: "kafka",
    });
    expect(security.sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "from-file" });
    const fromEnv = kafkaClientSecurity(
      { ssl: true, sasl: { mechanism: "plain", username: "u", passwordEnv: "KAFKA_PW" } },
      { KAFKA_PW: "from-env" },
    );
    expect(fromEnv).toEqual({ ssl: true, sasl: { mechanism: "plain", username: "u", password: "from-env" } });
    expect(kafkaClientSecurity({})).toEqual({});
  });

  it("says which file or variable is missing, never the password", () => {
    const missing = (settings: Parameters<typeof kafkaClientSecurity>[0]) => () => kafkaClientSecurity(settings, {});
    expect(missing({ ssl: { caFile: "/nonexistent/ca.pem" } })).toThrow(ConfigError);
    expect(missing({ ssl: { caFile: "/nonexistent/ca.pem" } })).toThrow(/kafka\.ssl\.caFile: cannot read/);
    expect(missing({ ssl: true, sasl: { mechanism: "plain", username: "u", passwordEnv: "NOPE" } })).toThrow(
      /kafka\.sasl\.passwordEnv: environment variable NOPE is not set/,
    );
    expect(
      missing({ ssl: true, sasl: { mechanism: "plain", username: "u", passwordFile: "/nonexistent/pw" } }),
    ).toThrow(/kafka\.sasl\.passwordFile: cannot read/);
  });

  it("tells refused credentials from other kafkajs errors", () => {
    const refused = Object.assign(new Error("SASL SCRAM SHA512 authentication failed"), {
      name: "KafkaJSSASLAuthenticationError",
    });
    expect(credentialsRefused(refused)).toBe(true);
    expect(credentialsRefused(new Error("Connection timeout"))).toBe(false);
  });
});
