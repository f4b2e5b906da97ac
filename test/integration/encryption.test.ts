// Encryption at rest against the real services: what Redis and the Kafka writes topic hold is
// ciphertext; values survive a key rotation; a value moved to another key or namespace, or
// tampered with, is never served; an unknown key id is refused.

import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateKeysCommand } from "../../src/cli/rotate-keys.js";
import { parseConfig } from "../../src/config/config.js";
import { KeyRing, namespaceEncryption } from "../../src/crypto/key-ring.js";
import type { Entry } from "../../src/engine/entry.js";
import type { StoreItemInput, Writer } from "../../src/engine/writer.js";
import { KafkaConnection } from "../../src/events/kafka.js";
import { WriteBehindSink } from "../../src/events/write-behind.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { sealedKeyId } from "../../src/layers/redis/envelope.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventually } from "../support/origins.js";
import { createGrpcJsClient, testConfig } from "../support/service.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS").split(",");
const run = randomUUID().slice(0, 8);
const prefix = `enc-${run}:`;
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

// Keys come from the environment, as an operator would pass them.
const K1 = randomBytes(32);
const K2 = randomBytes(32);
process.env[`MLC_K1_${run}`] = K1.toString("base64");
process.env[`MLC_K2_${run}`] = K2.toString("hex");
const key1 = { id: "k1", env: `MLC_K1_${run}` };
const key2 = { id: "k2", env: `MLC_K2_${run}` };

function config(keys: object[], namespaces: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfig(
    testConfig({
      instanceId: `enc-${run}-${randomUUID().slice(0, 4)}`,
      redis: { url: REDIS_URL, keyPrefix: prefix },
      encryption: { keys },
      namespaces,
      ...extra,
    }),
  );
}

describe("encryption at rest in Redis", () => {
  const services: RunningService[] = [];
  let redis: Redis;
  const start = async (keys: object[], namespaces: Record<string, unknown>) => {
    const service = await startService(config(keys, namespaces));
    services.push(service);
    return service;
  };
  const l2 = (service: RunningService, ns: string) => service.manager.layerCounters("l2", ns);

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    for (const s of services) await s.close();
    redis?.disconnect();
  });

  it("stores ciphertext under the key id, and another instance reads it back from L2", async () => {
    const namespaces = { secret: { encryptionKeyId: "k1" }, plain: {} };
    const writer = await start([key1], namespaces);
    await writer.manager.set("secret", "card", bytesOf("4111-1111-1111-1111"), { tags: ["pii-tag"] });
    await writer.manager.set("plain", "card", bytesOf("4111-1111-1111-1111"));

    const stored = (await redis.getBuffer(`${prefix}d:secret:card`)) as Buffer;
    expect(stored[1]).toBe(2);
    expect(sealedKeyId(stored)).toBe("k1");
    expect(stored.includes("4111")).toBe(false);
    expect(stored.includes("pii-tag")).toBe(false);
    // The control: the same value in a clear namespace is readable in Redis.
    expect(((await redis.getBuffer(`${prefix}d:plain:card`)) as Buffer).includes("4111")).toBe(true);

    const reader = await start([key1], namespaces);
    const read = await reader.manager.get("secret", "card");
    expect(read).toMatchObject({ found: true, source: "l2", tags: ["pii-tag"] });
    expect(text(read.value)).toBe("4111-1111-1111-1111");
  });

  it("never serves a value copied under another key or namespace, nor tampered bytes: a counted miss", async () => {
    const namespaces = { secret: { encryptionKeyId: "k1" }, other: { encryptionKeyId: "k1" } };
    const writer = await start([key1], namespaces);
    await writer.manager.set("secret", "mine", bytesOf("alice's value"));
    await redis.copy(`${prefix}d:secret:mine`, `${prefix}d:secret:yours`);
    await redis.copy(`${prefix}d:secret:mine`, `${prefix}d:other:mine`);
    await writer.manager.set("secret", "tampered", bytesOf("original"));
    const tamperedKey = `${prefix}d:secret:tampered`;
    const bytes = (await redis.getBuffer(tamperedKey)) as Buffer;
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0x01;
    await redis.set(tamperedKey, bytes, "KEEPTTL");

    const reader = await start([key1], namespaces);
    const before = l2(reader, "secret")?.unreadable ?? 0;
    expect((await reader.manager.get("secret", "yours")).found).toBe(false);
    expect((await reader.manager.get("other", "mine")).found).toBe(false);
    expect((await reader.manager.get("secret", "tampered")).found).toBe(false);
    expect((l2(reader, "secret")?.unreadable ?? 0) - before).toBe(2);
    expect(l2(reader, "other")?.unreadable).toBe(1);
    expect(text((await reader.manager.get("secret", "mine")).value)).toBe("alice's value");
    const metrics = await (await fetch(`http://127.0.0.1:${reader.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/cache_unreadable_total\{[^}]*layer="l2"[^}]*\} [1-9]/);
  });

  it("rotates keys: old values read during the rotation, rotate-keys re-encrypts them, the old key can go", async () => {
    const keys = Array.from({ length: 250 }, (_, i) => `r${i}`);
    const before = await start([key1], { rot: { encryptionKeyId: "k1" } });
    for (const key of keys) await before.manager.set("rot", key, bytesOf(`value-${key}`));

    // Both keys in the ring, new writes under k2: old values still read.
    const during = await start([key1, key2], { rot: { encryptionKeyId: "k2" } });
    expect(text((await during.manager.get("rot", "r7")).value)).toBe("value-r7");
    await during.manager.set("rot", "r8", bytesOf("newer"));
    expect(sealedKeyId((await redis.getBuffer(`${prefix}d:rot:r8`)) as Buffer)).toBe("k2");

    const dir = mkdtempSync(join(tmpdir(), "mlc-rotate-"));
    const file = join(dir, "rotate.yaml");
    writeFileSync(
      file,
      JSON.stringify({
        redis: { url: REDIS_URL, keyPrefix: prefix },
        encryption: { keys: [key1, key2] },
        namespaces: { rot: { encryptionKeyId: "k2" } },
      }),
    );
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    // The command reads MLCACHE_* too: the test services' cluster address would win over the file.
    const clusterNodes = process.env.MLCACHE_REDIS_CLUSTER_NODES;
    delete process.env.MLCACHE_REDIS_CLUSTER_NODES;
    try {
      expect(await rotateKeysCommand(["--config", file, "-n", "rot", "--batch", "50", "--pause", "0"])).toBe(0);
    } finally {
      process.stdout.write = write;
      process.env.MLCACHE_REDIS_CLUSTER_NODES = clusterNodes;
    }
    const last = JSON.parse(out[out.length - 1] as string);
    expect(last).toMatchObject({ cursor: "0", resealed: 249, current: 1 });
    expect(out.length).toBeGreaterThan(1); // bounded batches
    for (const key of keys) expect(sealedKeyId((await redis.getBuffer(`${prefix}d:rot:${key}`)) as Buffer)).toBe("k2");
    // The rewrite kept the newer value written during the rotation.
    const afterRing = await start([key2], { rot: { encryptionKeyId: "k2" } });
    expect(text((await afterRing.manager.get("rot", "r8")).value)).toBe("newer");
    expect(text((await afterRing.manager.get("rot", "r200")).value)).toBe("value-r200");
    expect(l2(afterRing, "rot")?.unreadable).toBe(0);
  });

  it("rotation never replaces a version written while it ran (the versioned write decides)", async () => {
    const ring = KeyRing.of({ k1: K1, k2: K2 });
    const writer = new RedisLayer({
      url: REDIS_URL,
      keyPrefix: prefix,
      encryption: namespaceEncryption(ring, () => "k1"),
    });
    const rotator = new RedisLayer({
      url: REDIS_URL,
      keyPrefix: prefix,
      encryption: namespaceEncryption(ring, () => "k2"),
    });
    try {
      await Promise.all([writer.waitUntilReady(), rotator.waitUntilReady()]);
      const now = Date.now();
      const entry = (value: string, version: bigint): Entry => ({
        value: bytesOf(value),
        createdAt: now,
        freshUntil: now + 60_000,
        expiresAt: now + 60_000,
        staleUntil: now + 60_000,
        version,
        tags: [],
        flags: 0,
        loadMs: 0,
      });
      await writer.set("race", "x", entry("v1", 1n));
      // Between the rotation's read and its write, another instance writes version 2.
      const client = (rotator as unknown as { client: Redis }).client;
      const read = client.mgetBuffer.bind(client);
      client.mgetBuffer = (async (...keys: string[]) => {
        const replies = await read(...keys);
        await writer.set("race", "x", entry("v2", 2n));
        return replies;
      }) as typeof client.mgetBuffer;
      const total = { resealed: 0, skipped: 0 };
      let cursor = "0";
      do {
        const step = await rotator.resealStep("race", "k2", cursor, 1000);
        cursor = step.cursor;
        total.resealed += step.resealed;
        total.skipped += step.skipped;
      } while (cursor !== "0");
      expect(total).toEqual({ resealed: 0, skipped: 1 });
      const stored = (await redis.getBuffer(`${prefix}d:race:x`)) as Buffer;
      expect(sealedKeyId(stored)).toBe("k1");
      expect(text((await rotator.get("race", "x"))?.value)).toBe("v2");
    } finally {
      await writer.close();
      await rotator.close();
    }
  });

  it("with encryption.l1, answers L1 hits of an encrypted namespace in clear", async () => {
    const service = await startService(
      parseConfig(
        testConfig({
          redis: { url: REDIS_URL, keyPrefix: prefix },
          encryption: { keys: [key1], l1: true },
          namespaces: { l1enc: { encryptionKeyId: "k1" } },
        }),
      ),
    );
    services.push(service);
    await service.manager.set("l1enc", "a", bytesOf("in memory"));
    const read = await service.manager.get("l1enc", "a");
    expect(read).toMatchObject({ found: true, source: "l1" });
    expect(text(read.value)).toBe("in memory");
    expect(service.manager.layerCounters("l1", "l1enc")?.unreadable).toBe(0);
  });

  it("refuses an unknown key id in UpdatePolicy (INVALID_ARGUMENT) and accepts a known one", async () => {
    const service = await start([key1, key2], {});
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    try {
      const refused = await admin
        .updatePolicy({
          policy: { namespace: "upd", encryptionKeyId: "nope" },
          updateMask: { paths: ["encryption_key_id"] },
        })
        .catch((error: { code: number; message: string }) => error);
      expect(refused).toMatchObject({ code: Code.InvalidArgument });
      expect((refused as { message: string }).message).toMatch(/"nope" is not a key of this instance's key ring/);
      const accepted = await admin.updatePolicy({
        policy: { namespace: "upd", encryptionKeyId: "k2" },
        updateMask: { paths: ["encryption_key_id"] },
      });
      expect(accepted.policy?.encryptionKeyId).toBe("k2");
      await service.manager.set("upd", "x", bytesOf("y"));
      expect(sealedKeyId((await redis.getBuffer(`${prefix}d:upd:x`)) as Buffer)).toBe("k2");
    } finally {
      admin.close();
    }
  });
});

describe("encryption of write-behind events in Kafka", () => {
  const topics = {
    invalidations: `enc-${run}.inv`,
    writes: `enc-${run}.writes`,
    deadLetters: `enc-${run}.dl`,
    policies: `enc-${run}.pol`,
  };
  let service: RunningService;
  let sink: WriteBehindSink;
  let connection: KafkaConnection;
  const stored: StoreItemInput[] = [];
  const writer: Writer = {
    async store(_ns, items) {
      stored.push(...items);
      return undefined;
    },
  };

  beforeAll(async () => {
    const namespaces = { orders: { encryptionKeyId: "k1", writeMode: "WRITE_MODE_WRITE_BEHIND" } };
    service = await startService(
      config([key1], namespaces, { kafka: { brokers: BROKERS, topics, clientId: `enc-${run}` } }),
      { writerFor: () => writer },
    );
    const sinkConfig = config([key1], namespaces, { kafka: { brokers: BROKERS, topics } });
    connection = new KafkaConnection(sinkConfig.kafka as NonNullable<typeof sinkConfig.kafka>, createLogger("silent"));
    sink = new WriteBehindSink({
      connection,
      writerFor: () => writer,
      groupId: `enc-${run}-sink`,
      keyRing: KeyRing.of({ k1: K1 }),
      initialBackoffMs: 10,
    });
    await connection.start();
    await sink.start();
  }, 60_000);
  afterAll(async () => {
    await sink?.stop();
    await connection?.close();
    await service?.close();
  });

  it("publishes the value sealed under the key id; the sink opens it before the writer", async () => {
    await service.manager.set("orders", "o1", bytesOf("order-secret-payload"));
    const raw = execFileSync(
      "kcat",
      ["-C", "-b", BROKERS.join(","), "-t", topics.writes, "-o", "beginning", "-e", "-q", "-f", "%s"],
      {
        timeout: 20_000,
      },
    );
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.includes("order-secret-payload")).toBe(false);
    expect(raw.includes("k1")).toBe(true); // encryption_key_id travels in the event
    await eventually(() => stored.some((item) => item.key === "o1"), 30_000, "the sink to apply o1");
    expect(text(stored.find((item) => item.key === "o1")?.value)).toBe("order-secret-payload");
    expect(sink.counters.unreadable).toBe(0);
  });

  it("dead-letters an event sealed with a key the sink does not hold; the writer never sees it", async () => {
    // Another instance whose "k1" is a different key: its events do not open at this sink.
    process.env[`MLC_K1X_${run}`] = randomBytes(32).toString("base64");
    const rogue = await startService(
      config(
        [{ id: "k1", env: `MLC_K1X_${run}` }],
        { orders: { encryptionKeyId: "k1", writeMode: "WRITE_MODE_WRITE_BEHIND" } },
        { kafka: { brokers: BROKERS, topics, clientId: `enc-${run}-x` } },
      ),
      { writerFor: () => writer },
    );
    try {
      await rogue.manager.set("orders", "forged", bytesOf("from a foreign key"));
      await eventually(() => sink.counters.deadLettered >= 1, 30_000, "the sink to dead-letter the event");
      expect(sink.counters.unreadable).toBe(1);
      expect(stored.some((item) => item.key === "forged")).toBe(false);
    } finally {
      await rogue.close();
    }
  });
});
