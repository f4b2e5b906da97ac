// Redis over TLS with an ACL user, against the real servers `scripts/services up` starts:
// Debian's redis-server with a TLS port, certificates made by openssl. The single node wants a
// client certificate (mutual TLS); the cluster's does not, and its bus speaks TLS so CLUSTER
// SLOTS answers TLS clients with TLS ports.

import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateKeysCommand } from "../../src/cli/rotate-keys.js";
import { loadRedisConnection, parseConfig } from "../../src/config/config.js";
import { sealedKeyId } from "../../src/layers/redis/envelope.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { type RunningService, startService } from "../../src/server.js";
import { makeCertificates, type TestCertificates } from "../support/certs.js";
import { requireEnv } from "../support/env.js";
import { testConfig } from "../support/service.js";

const TLS_URL = requireEnv("MLCACHE_REDIS_TLS_URL");
const CLUSTER_TLS_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_TLS_NODES").split(",");
const CLUSTER_PLAIN_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_NODES").split(",");
const CA = requireEnv("MLCACHE_REDIS_TLS_CA");
const CLIENT_CERT = requireEnv("MLCACHE_REDIS_TLS_CERT");
const CLIENT_KEY = requireEnv("MLCACHE_REDIS_TLS_KEY");
const USER = requireEnv("MLCACHE_REDIS_ACL_USER");
const PASSWORD = requireEnv("MLCACHE_REDIS_ACL_PASSWORD");
const TLS_PORT = Number(new URL(TLS_URL).port);

const run = randomUUID().slice(0, 8);
const prefix = `tls-${run}:`;
const bytesOf = (s: string) => new TextEncoder().encode(s);
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const mutualTls = { caFile: CA, certFile: CLIENT_CERT, keyFile: CLIENT_KEY };

/** A raw YAML-shaped `redis` section, validated and with its files read as the service would. */
function connection(redis: Record<string, unknown>) {
  const config = parseConfig(testConfig({ redis: { keyPrefix: prefix, ...redis } }));
  return { ...loadRedisConnection(config), keyPrefix: prefix, commandTimeoutMs: 2_000 };
}

/** The error a layer reports when it cannot get ready; fails the test if it does. */
async function refusal(redis: Record<string, unknown>): Promise<string> {
  const layer = new RedisLayer(connection(redis));
  try {
    await layer.waitUntilReady(3_000);
  } catch (error) {
    return (error as Error).message;
  } finally {
    await layer.close();
  }
  throw new Error("expected Redis to refuse the connection, but it got ready");
}

describe("Redis over TLS, single node (mutual TLS, ACL user)", () => {
  const services: RunningService[] = [];
  const start = async (redis: Record<string, unknown>) => {
    const config = parseConfig(
      testConfig({ instanceId: `tls-${run}-${services.length}`, redis: { keyPrefix: prefix, ...redis } }),
    );
    const service = await startService(config);
    services.push(service);
    return service;
  };
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  it("reads and writes through L2: one instance writes, another reads it from Redis", async () => {
    const secret = join(mkdtempSync(join(tmpdir(), "mlc-redis-pw-")), "password");
    writeFileSync(secret, `${PASSWORD}\n`);
    const redis = { url: TLS_URL, username: USER, passwordFile: secret, tls: mutualTls };
    const writer = await start(redis);
    expect(writer.manager.dependencies()[0]).toMatchObject({ up: true });
    await writer.manager.set("tls", "k", bytesOf("over tls"));
    const reader = await start(redis);
    const read = await reader.manager.get("tls", "k");
    expect(read).toMatchObject({ found: true, source: "l2" });
    expect(text(read.value)).toBe("over tls");

    // The value is in Redis, and that server only took it over TLS from the ACL user.
    const raw = new Redis({
      host: "127.0.0.1",
      port: TLS_PORT,
      username: USER,
      password: PASSWORD,
      tls: { ca: readFileSync(CA), cert: readFileSync(CLIENT_CERT), key: readFileSync(CLIENT_KEY) },
    });
    try {
      expect(await raw.exists(`${prefix}d:tls:k`)).toBe(1);
      expect(await raw.acl("WHOAMI")).toBe(USER);
      const clients = await raw.client("LIST");
      expect(String(clients)).toMatch(new RegExp(`user=${USER}`));
    } finally {
      raw.disconnect();
    }
  });

  it("credentials in a rediss:// URL work too (a password holding @ and / would survive: unit tests)", async () => {
    const url = TLS_URL.replace("rediss://", `rediss://${USER}:${encodeURIComponent(PASSWORD)}@`);
    const layer = new RedisLayer(connection({ url, tls: mutualTls }));
    try {
      await layer.waitUntilReady(5_000);
      expect(layer.status().up).toBe(true);
    } finally {
      await layer.close();
    }
  });

  it("a wrong password: the service starts and serves, L2 is reported down with Redis' reason", async () => {
    const service = await start({ url: TLS_URL, username: USER, password: "not-the-password", tls: mutualTls });
    const status = service.manager.dependencies()[0];
    expect(status).toMatchObject({ up: false });
    expect(status?.detail).toMatch(/WRONGPASS/);
    expect(status?.detail).not.toContain("not-the-password");
    await service.manager.set("tls", "local", bytesOf("from L1")).catch(() => undefined);
    expect(text((await service.manager.get("tls", "local")).value)).toBe("from L1");
  });

  it("a plaintext client at the TLS port gets no answer", async () => {
    expect(await refusal({ url: `redis://127.0.0.1:${TLS_PORT}`, username: USER, password: PASSWORD })).toMatch(
      /not ready after .*(ECONNRESET|closed)/i,
    );
  });

  it("refuses a server whose certificate comes from a CA it does not trust", async () => {
    const other: TestCertificates = makeCertificates();
    try {
      const message = await refusal({
        url: TLS_URL,
        username: USER,
        password: PASSWORD,
        tls: { caFile: other.ca, certFile: CLIENT_CERT, keyFile: CLIENT_KEY },
      });
      expect(message).toMatch(/self-signed certificate in certificate chain|unable to verify/);
    } finally {
      other.remove();
    }
  });

  it("checks the certificate's name against servername", async () => {
    const good = new RedisLayer(
      connection({ url: TLS_URL, username: USER, password: PASSWORD, tls: { ...mutualTls, servername: "localhost" } }),
    );
    try {
      await good.waitUntilReady(5_000);
    } finally {
      await good.close();
    }
    const message = await refusal({
      url: TLS_URL,
      username: USER,
      password: PASSWORD,
      tls: { ...mutualTls, servername: "cache.example.com" },
    });
    expect(message).toMatch(/Host: cache\.example\.com\. is not in the cert's altnames/);
  });

  it("mutual TLS: without a client certificate this server hangs up", async () => {
    const message = await refusal({ url: TLS_URL, username: USER, password: PASSWORD, tls: { caFile: CA } });
    // TLS 1.3: the server's "certificate required" alert comes after the handshake, so the
    // client sees either the alert or the reset of its next write, whichever it reads first.
    expect(message).toMatch(/certificate required|ECONNRESET/);
    expect(message).not.toMatch(/WRONGPASS|self-signed|unable to verify/i);
  });
});

describe("Redis Cluster over TLS with an ACL user", () => {
  const services: RunningService[] = [];
  const tls = { caFile: CA };
  const redis = { clusterNodes: CLUSTER_TLS_NODES, username: USER, password: PASSWORD, tls };
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  it("every node, also those learned from CLUSTER SLOTS, is reached over TLS as the ACL user", async () => {
    // One seed, by name: the other two masters are learned from CLUSTER SLOTS (by address).
    const seed = (CLUSTER_TLS_NODES[0] as string).replace("127.0.0.1", "localhost");
    const layer = new RedisLayer(connection({ ...redis, clusterNodes: [seed] }));
    try {
      await layer.waitUntilReady(10_000);
      const client = (layer as unknown as { client: Cluster }).client;
      const masters = client.nodes("master");
      expect(masters.map((n) => `${n.options.host}:${n.options.port}`).sort()).toEqual([...CLUSTER_TLS_NODES].sort());
      for (const node of masters) {
        expect(node.options.tls).toBeTruthy();
        expect(await node.acl("WHOAMI")).toBe(USER);
      }
    } finally {
      await layer.close();
    }
  });

  it("reads and writes through L2 on every master: one instance writes, another reads", async () => {
    const start = async () => {
      const config = parseConfig(
        testConfig({ instanceId: `tls-c-${run}-${services.length}`, redis: { keyPrefix: prefix, ...redis } }),
      );
      const service = await startService(config);
      services.push(service);
      return service;
    };
    const writer = await start();
    const keys = Array.from({ length: 30 }, (_, i) => `c${i}`);
    for (const key of keys) await writer.manager.set("ctls", key, bytesOf(`value-${key}`));
    const reader = await start();
    for (const key of keys) {
      const read = await reader.manager.get("ctls", key);
      expect(read).toMatchObject({ found: true, source: "l2" });
      expect(text(read.value)).toBe(`value-${key}`);
    }
    expect(await keysPerMaster(`${prefix}d:ctls:*`)).toSatisfy((counts: number[]) => counts.every((n) => n > 0));
  });

  it("a wrong password leaves L2 down, not the service", async () => {
    const message = await refusal({ ...redis, password: "not-the-password" });
    expect(message).toMatch(/Failed to refresh slots cache\. WRONGPASS/);
    expect(message).not.toContain("not-the-password");
  });

  it("a plaintext client at the TLS ports gets no answer", async () => {
    const message = await refusal({ clusterNodes: CLUSTER_TLS_NODES, username: USER, password: PASSWORD });
    expect(message).toMatch(/not ready/);
  });

  it("refuses nodes whose certificate comes from a CA it does not trust", async () => {
    const other = makeCertificates();
    try {
      expect(await refusal({ ...redis, tls: { caFile: other.ca } })).toMatch(/not ready/);
    } finally {
      other.remove();
    }
  });

  describe("mlcache rotate-keys", () => {
    const K1 = randomBytes(32);
    const K2 = randomBytes(32);
    process.env[`MLC_TLS_K1_${run}`] = K1.toString("base64");
    process.env[`MLC_TLS_K2_${run}`] = K2.toString("base64");
    const key1 = { id: "k1", env: `MLC_TLS_K1_${run}` };
    const key2 = { id: "k2", env: `MLC_TLS_K2_${run}` };
    let writer: RunningService;

    beforeAll(async () => {
      writer = await startService(
        parseConfig(
          testConfig({
            instanceId: `tls-rot-${run}`,
            redis: { keyPrefix: prefix, ...redis },
            encryption: { keys: [key1] },
            namespaces: { rot: { encryptionKeyId: "k1" } },
          }),
        ),
      );
      services.push(writer);
    });

    it("re-encrypts the values on every master of the cluster, over TLS", async () => {
      const keys = Array.from({ length: 120 }, (_, i) => `r${i}`);
      for (const key of keys) await writer.manager.set("rot", key, bytesOf(`value-${key}`));
      expect(await keysPerMaster(`${prefix}d:rot:*`)).toSatisfy((counts: number[]) => counts.every((n) => n > 0));

      const file = join(mkdtempSync(join(tmpdir(), "mlc-rotate-")), "rotate.yaml");
      writeFileSync(
        file,
        JSON.stringify({
          redis: { ...redis, keyPrefix: prefix },
          encryption: { keys: [key1, key2] },
          namespaces: { rot: { encryptionKeyId: "k2" } },
        }),
      );
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
      // The command reads MLCACHE_* too: the test services' plain addresses would win over the file.
      const saved = { url: process.env.MLCACHE_REDIS_URL, nodes: process.env.MLCACHE_REDIS_CLUSTER_NODES };
      delete process.env.MLCACHE_REDIS_URL;
      delete process.env.MLCACHE_REDIS_CLUSTER_NODES;
      try {
        expect(await rotateKeysCommand(["--config", file, "-n", "rot", "--batch", "20", "--pause", "0"])).toBe(0);
      } finally {
        process.stdout.write = write;
        if (saved.url) process.env.MLCACHE_REDIS_URL = saved.url;
        if (saved.nodes) process.env.MLCACHE_REDIS_CLUSTER_NODES = saved.nodes;
      }
      const last = JSON.parse(out[out.length - 1] as string);
      expect(last).toMatchObject({ cursor: "0", resealed: keys.length, current: 0 });
      const cursors = out.map((line) => JSON.parse(line).cursor as string);
      // Master after master: the cursor moves on to the second and third when one is done.
      expect(cursors).toContain("1:0");
      expect(cursors).toContain("2:0");

      const plain = new Cluster(
        CLUSTER_PLAIN_NODES.map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })),
      );
      try {
        for (const key of keys) {
          expect(sealedKeyId((await plain.getBuffer(`${prefix}d:rot:${key}`)) as Buffer)).toBe("k2");
        }
      } finally {
        plain.disconnect();
      }
    });
  });
});

/** How many keys matching `pattern` each master holds (read over the plain ports). */
async function keysPerMaster(pattern: string): Promise<number[]> {
  const counts: number[] = [];
  for (const node of CLUSTER_PLAIN_NODES) {
    const [host, port] = node.split(":");
    const redis = new Redis({ host, port: Number(port) });
    try {
      let cursor = "0";
      let count = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        cursor = next;
        count += keys.length;
      } while (cursor !== "0");
      counts.push(count);
    } finally {
      redis.disconnect();
    }
  }
  return counts;
}
