// Proves the Redis wiring of the test services (scripts/services.mjs): a real single node and a
// real 3-master cluster, reached with ioredis exactly as the L2 layer will reach them.
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LuaScript } from "../../src/layers/redis/lua-script.js";
import { requireEnv } from "../support/env.js";

// Read at load time: without the services the whole file fails loudly (tests are never skipped).
const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const CLUSTER_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_NODES");

// Every key carries a per-run prefix so concurrent runs against shared services cannot collide.
const run = `mlcache-it:${randomUUID()}`;

/** Every byte value plus random bytes: catches any accidental UTF-8 round trip. */
function binaryValue(): Buffer {
  return Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(64)]);
}

describe("single-node Redis", () => {
  let redis: Redis;
  const keys: string[] = [];

  beforeAll(async () => {
    // Bounded connect and retries: a wrong URL fails the suite quickly instead of hanging it.
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, connectTimeout: 5_000 });
    expect(await redis.ping()).toBe("PONG");
  });

  afterAll(async () => {
    if (!redis) return;
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("round-trips a binary Buffer value with SET/GET", async () => {
    const key = `${run}:bin`;
    keys.push(key);
    const value = binaryValue();
    expect(await redis.set(key, value)).toBe("OK");
    const read = await redis.getBuffer(key);
    expect(read).not.toBeNull();
    expect(Buffer.compare(read as Buffer, value)).toBe(0);
  });

  it("runs a Lua script by SHA1, sending it in full only the first time", async () => {
    const key = `${run}:lua`;
    keys.push(key);
    // A script no Redis has seen: the comment makes its SHA1 unique to this run.
    const script = new LuaScript(1, `-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    expect(await redis.script("EXISTS", script.sha)).toEqual([0]);
    expect(await script.run(redis, key, 2)).toBe(2); // NOSCRIPT, then EVAL
    expect(await redis.script("EXISTS", script.sha)).toEqual([1]);
    expect(await script.run(redis, key, 3)).toBe(5); // EVALSHA
  });

  it("applies EXPIRE and reports it through PTTL", async () => {
    const key = `${run}:ttl`;
    keys.push(key);
    await redis.set(key, "v");
    expect(await redis.pttl(key)).toBe(-1); // exists, no expiry
    expect(await redis.expire(key, 100)).toBe(1);
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(100_000);
    expect(await redis.pttl(`${run}:absent`)).toBe(-2); // no such key
  });
});

describe("Redis Cluster (3 masters)", () => {
  let cluster: InstanceType<typeof Redis.Cluster>;
  const keys: string[] = [];

  beforeAll(async () => {
    const nodes = CLUSTER_NODES.split(",").map((hostPort) => {
      const [host, port] = hostPort.trim().split(":");
      if (!host || !port) throw new Error(`bad MLCACHE_REDIS_CLUSTER_NODES entry "${hostPort}"`);
      return { host, port: Number(port) };
    });
    expect(nodes).toHaveLength(3);
    cluster = new Redis.Cluster(nodes, {
      redisOptions: { connectTimeout: 5_000 },
      clusterRetryStrategy: (n) => (n > 10 ? null : 200),
    });
    expect(await cluster.ping()).toBe("PONG");
  });

  afterAll(async () => {
    if (!cluster) return;
    // DEL one key at a time: a multi-key DEL across slots would be a CROSSSLOT error.
    await Promise.all(keys.map((k) => cluster.del(k)));
    await cluster.quit();
  });

  it("spreads keys over all three masters and reads them back", async () => {
    const masters = cluster.nodes("master");
    expect(masters).toHaveLength(3);

    // Pick one key per master, asking the cluster itself where each slot lives, so the test
    // proves real sharding rather than assuming a slot layout.
    const byMaster = new Map<string, string>();
    for (let i = 0; byMaster.size < masters.length && i < 1_000; i++) {
      const key = `${run}:spread:${i}`;
      const slot = (await cluster.cluster("KEYSLOT", key)) as number;
      const owner = masters.find((m) => ownsSlot(cluster, m, slot));
      const id = owner ? `${owner.options.host}:${owner.options.port}` : undefined;
      if (id && !byMaster.has(id)) byMaster.set(id, key);
    }
    expect(byMaster.size).toBe(3);

    for (const key of byMaster.values()) {
      keys.push(key);
      const value = binaryValue();
      await cluster.set(key, value);
      const read = await cluster.getBuffer(key);
      expect(read && Buffer.compare(read, value)).toBe(0);
    }
    // Each key is physically on the master we predicted; the other masters redirect.
    for (const m of masters) {
      const here = byMaster.get(`${m.options.host}:${m.options.port}`);
      for (const key of byMaster.values()) {
        if (key === here) expect(await m.exists(key)).toBe(1);
        else await expect(m.exists(key)).rejects.toThrow(/^MOVED /);
      }
    }
  });

  it("serves MGET for keys sharing one hash tag, and rejects it across slots", async () => {
    const tag = `{${run}:tag}`;
    const tagged = ["a", "b", "c"].map((s) => `${tag}:${s}`);
    keys.push(...tagged);
    await cluster.mset(tagged[0] as string, "1", tagged[1] as string, "2", tagged[2] as string, "3");
    expect(await cluster.mget(...tagged)).toEqual(["1", "2", "3"]);

    const slots = await Promise.all(tagged.map((k) => cluster.cluster("KEYSLOT", k)));
    expect(new Set(slots).size).toBe(1);

    // Without a shared tag, a multi-key command is refused: this is a real cluster.
    const a = `${run}:x`;
    let b = `${run}:y`;
    for (let i = 0; (await cluster.cluster("KEYSLOT", a)) === (await cluster.cluster("KEYSLOT", b)); i++)
      b = `${run}:y${i}`;
    await expect(cluster.mget(a, b)).rejects.toThrow(/CROSSSLOT/);
  });
});

/** Whether `node` serves `slot`, according to the cluster client's current slot map. */
function ownsSlot(cluster: InstanceType<typeof Redis.Cluster>, node: Redis, slot: number): boolean {
  const owners = cluster.slots[slot];
  return owners?.[0] === `${node.options.host}:${node.options.port}`;
}
