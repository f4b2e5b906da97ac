// Kafka over SASL_SSL against the real broker's SASL_SSL listener (scripts/services.mjs: a CA and
// broker certificate made by openssl, a SCRAM-SHA-512 user and a PLAIN one): invalidations and
// write-behind writes travel over it, and the sink reads them back; kcat reading the writes topic
// over the same listener sees ciphertext for an encrypted namespace; a wrong password leaves the
// instance up, not ready, and saying why; clients without TLS, without SASL or not trusting the CA
// are turned away.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { loadKeyRing, parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import type { StoreItemInput, Writer } from "../../src/engine/writer.js";
import { KafkaConnection } from "../../src/events/kafka.js";
import { WriteBehindSink } from "../../src/events/write-behind.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventually } from "../support/origins.js";
import { Code, createGrpcJsClient, rejection, testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_SASL_BROKERS").split(",");
const CA = requireEnv("MLCACHE_KAFKA_CA");
const USER = requireEnv("MLCACHE_KAFKA_SASL_USER");
const MECHANISM = requireEnv("MLCACHE_KAFKA_SASL_MECHANISM");
const PASSWORD = requireEnv("MLCACHE_KAFKA_SASL_PASSWORD");
const execFileAsync = promisify(execFile);
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `sasl-${run}.invalidations`,
  writes: `sasl-${run}.writes`,
  deadLetters: `sasl-${run}.dead-letters`,
  policies: `sasl-${run}.policies`,
};
const bytesOf = (s: string) => new TextEncoder().encode(s);
process.env[`MLC_SASL_K1_${run}`] = randomBytes(32).toString("base64");

/** The SASL_SSL settings an operator would write; the password comes from the environment. */
function kafka(sasl: Record<string, unknown> = {}) {
  return {
    brokers: BROKERS,
    clientId: `sasl-${run}`,
    topics,
    ssl: { caFile: CA },
    sasl: { mechanism: MECHANISM, username: USER, passwordEnv: "MLCACHE_KAFKA_SASL_PASSWORD", ...sasl },
  };
}

const database = new Map<string, string>();
const loader: Loader = {
  async load(namespace, key) {
    const value = database.get(`${namespace}/${key}`);
    return value === undefined ? { found: false } : { found: true, value: bytesOf(value) };
  },
};
// What the write-behind sink stores; instances never call the writer of a write-behind namespace.
const stored: StoreItemInput[] = [];
const writer: Writer = {
  async store(_namespace, items) {
    stored.push(...items);
    return undefined;
  },
};

const services: RunningService[] = [];
async function instance(id: string, extra: Record<string, unknown> = {}): Promise<RunningService> {
  const service = await startService(
    parseConfig(
      testConfig({
        instanceId: `sasl-${run}-${id}`,
        kafka: kafka(),
        encryption: { keys: [{ id: "k1", env: `MLC_SASL_K1_${run}` }] },
        namespaces: {
          sealed: { encryptionKeyId: "k1", writeMode: "WRITE_MODE_WRITE_BEHIND" },
          clear: { writeMode: "WRITE_MODE_WRITE_BEHIND" },
        },
        ...extra,
      }),
    ),
    { loaderFor: () => loader, writerFor: () => writer },
  );
  services.push(service);
  return service;
}

afterAll(async () => {
  for (const s of services) await s.close();
});

/** kcat reading a whole topic over SASL_SSL (PLAIN: see kafkaSaslKcatArgs in scripts/services.mjs). */
async function kcatOverSaslSsl(topic: string): Promise<Buffer> {
  const args = [
    "-b",
    BROKERS.join(","),
    "-X",
    "security.protocol=SASL_SSL",
    "-X",
    "sasl.mechanisms=PLAIN",
    "-X",
    `sasl.username=${USER}`,
    "-X",
    `sasl.password=${PASSWORD}`,
    "-X",
    `ssl.ca.location=${CA}`,
    "-C",
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    "%k %s\n",
  ];
  const { stdout } = await execFileAsync("kcat", args, { encoding: "buffer", timeout: 30_000, maxBuffer: 16 << 20 });
  return stdout;
}

describe("the service with Kafka over SASL_SSL", () => {
  it("an invalidation on A reaches B", async () => {
    const [a, b] = [await instance("a"), await instance("b")];
    database.set("p/k1", "v1");
    expect((await b.manager.get("p", "k1")).found).toBe(true);
    expect(b.manager.peekL1("p", "k1")).toBeDefined();
    database.set("p/k1", "v2");
    await a.manager.invalidate("p", { keys: ["k1"] });
    await eventually(() => b.manager.peekL1("p", "k1") === undefined, 10_000, "B to drop k1 after A's invalidation");
    expect(new TextDecoder().decode((await b.manager.get("p", "k1")).value)).toBe("v2");
    const ready = await fetch(`http://127.0.0.1:${b.httpPort}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("publishes write-behind Sets: kcat over SASL_SSL sees the encrypted value as ciphertext, the sink opens it", async () => {
    // Instance A of the test above, when it ran; otherwise a new one.
    const service = services[0] ?? (await instance("w"));
    await service.manager.set("sealed", "card-7", bytesOf("4111-secret-payload"), { tags: ["pii-tag"] });
    await service.manager.set("clear", "note-7", bytesOf("clear-control-payload"));
    const raw = await kcatOverSaslSsl(topics.writes);
    // The control: a value of a clear namespace is readable, so the check below can fail.
    expect(raw.includes("clear-control-payload")).toBe(true);
    expect(raw.includes("4111-secret-payload")).toBe(false);
    // Only values are sealed: the key, its namespace and tags travel in clear (README, Security).
    expect(raw.includes("sealed/card-7")).toBe(true);
    expect(raw.includes("pii-tag")).toBe(true);

    // The sink, configured as `mlcache sink` is, reads the same topic over SASL_SSL and opens the value.
    const config = parseConfig(
      testConfig({ kafka: kafka(), encryption: { keys: [{ id: "k1", env: `MLC_SASL_K1_${run}` }] } }),
    );
    const connection = new KafkaConnection(config.kafka as NonNullable<typeof config.kafka>, createLogger("silent"));
    const sink = new WriteBehindSink({
      connection,
      writerFor: () => writer,
      groupId: `sasl-${run}-sink`,
      keyRing: loadKeyRing(config),
      initialBackoffMs: 10,
    });
    try {
      await connection.start();
      await sink.start();
      await eventually(() => stored.some((item) => item.key === "card-7"), 30_000, "the sink to store card-7");
      expect(new TextDecoder().decode(stored.find((item) => item.key === "card-7")?.value)).toBe("4111-secret-payload");
    } finally {
      await sink.stop();
      await connection.close();
    }
  });

  it("PLAIN works as well as SCRAM-SHA-512", async () => {
    const service = await instance("plain", { kafka: kafka({ mechanism: "plain" }) });
    const ready = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.text()).trim()).toBe("ready");
  });

  it("with a wrong password: starts at once, not ready, says the credentials were refused; calls are UNAVAILABLE", async () => {
    const started = Date.now();
    const service = await instance("wrong", { kafka: kafka({ passwordEnv: undefined, password: "not-the-password" }) });
    // Refused credentials end the start wait: no 30 s bound to sit out.
    expect(Date.now() - started).toBeLessThan(20_000);
    const ready = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(ready.status).toBe(503);
    const detail = await ready.text();
    expect(detail).toMatch(/kafka down: .*authentication failed/i);
    expect(detail).not.toContain("not-the-password");
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      const error = await rejection(client.get({ namespace: "p", key: "k1" }));
      expect(error.code).toBe(Code.Unavailable);
      expect(error.message).toMatch(/authentication failed/i);
    } finally {
      client.close();
    }
  });
});

describe("the SASL_SSL listener turns away", () => {
  /** Connects an admin with `config` and lists topics; resolves with the error, or undefined. */
  async function attempt(config: Omit<KafkaConfig, "brokers">): Promise<Error | undefined> {
    const admin = new Kafka({
      brokers: BROKERS,
      clientId: `sasl-${run}-probe`,
      connectionTimeout: 3_000,
      requestTimeout: 3_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
      ...config,
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return undefined;
    } catch (error) {
      return error as Error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  const sasl = { mechanism: "scram-sha-512" as const, username: USER, password: PASSWORD };
  const trustingTheCa = { ca: [readFileSync(CA)] };

  it("the control: TLS with the CA and SCRAM-SHA-512 gets in", async () => {
    expect(await attempt({ ssl: trustingTheCa, sasl })).toBeUndefined();
  });

  it("a plaintext client", async () => {
    expect(await attempt({})).toBeInstanceOf(Error);
    expect(await attempt({ sasl })).toBeInstanceOf(Error);
  });

  it("a TLS client that does not trust the CA (system CAs only)", async () => {
    const error = await attempt({ ssl: true, sasl });
    expect(error?.message).toMatch(/self[- ]signed|unable to (verify|get local issuer)/i);
  });

  it("a TLS client without SASL, and kcat in plaintext", async () => {
    expect(await attempt({ ssl: trustingTheCa })).toBeInstanceOf(Error);
    await expect(
      execFileAsync("kcat", ["-b", BROKERS.join(","), "-L", "-m", "3"], { timeout: 20_000 }),
    ).rejects.toThrow();
  });
});
