// The Redis layer gathers its writes and lease requests of one turn of the event loop into one
// script call each (single node), applied in the order they were made and answered one by one.
// MONITOR on a second connection counts the calls that carry this run's keys.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheManager } from "../../src/engine/cache-manager.js";
import type { Entry } from "../../src/engine/entry.js";
import type { Lease } from "../../src/engine/layer.js";
import { RedisKeys } from "../../src/layers/redis/keys.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { MAX_BATCH_WRITES } from "../../src/layers/redis/write-batch.js";
import { requireEnv } from "../support/env.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function entry(value: string, version: bigint, createdAt = Date.now()): Entry {
  return {
    value: new TextEncoder().encode(value),
    createdAt,
    freshUntil: createdAt + 60_000,
    expiresAt: createdAt + 60_000,
    staleUntil: createdAt + 60_000,
    version,
    tags: [],
    flags: 0,
    loadMs: 0,
  };
}

describe("Redis layer batches (single node)", () => {
  const prefix = `batches-${Date.now()}:`;
  let layer: RedisLayer;
  let monitor: Redis;
  /** Each command MONITOR saw that names one of this run's keys: its name and arguments. */
  const seen: string[][] = [];

  beforeAll(async () => {
    layer = new RedisLayer({ url: REDIS_URL, keyPrefix: prefix });
    await layer.waitUntilReady();
    // Scripts Redis has not seen yet go as EVALSHA, then EVAL: load them before counting.
    await layer.set("n", "warm", entry("warm", 1n));
    const warm = await layer.coordination.acquireLeases("n", ["warm"], 1_000);
    for (const lease of warm === "unavailable" ? [] : warm) if (lease !== "held") await lease.release();
    monitor = await new Redis(REDIS_URL).monitor();
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      // Commands a script runs are reported too, from "lua": only the calls sent are counted.
      if (source !== "lua" && args.some((arg) => arg.startsWith(prefix))) seen.push(args);
    });
  });

  afterAll(async () => {
    await layer?.close();
    monitor?.disconnect();
  });

  /** Waits until MONITOR has reported what was sent (it trails the replies). */
  async function commandsNaming(marker: string, expected: number): Promise<string[][]> {
    for (let i = 0; i < 100; i++) {
      const matching = seen.filter((args) => args.some((arg) => arg.includes(marker)));
      if (matching.length >= expected) {
        await sleep(50); // and nothing more than that trails
        return seen.filter((args) => args.some((arg) => arg.includes(marker)));
      }
      await sleep(20);
    }
    return seen.filter((args) => args.some((arg) => arg.includes(marker)));
  }

  it("sends the writes started in one turn as one script call per batch, each answered", async () => {
    const count = MAX_BATCH_WRITES + 4;
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) => layer.set("n", `burst-${i}`, entry(`v${i}`, 10n))),
    );
    expect(answers).toEqual(new Array(count).fill(true));
    const calls = await commandsNaming("burst-", 2);
    expect(calls.map((args) => args[0]?.toLowerCase())).toEqual(["evalsha", "evalsha"]);
    expect(calls.map((args) => Number(args[2]))).toEqual([MAX_BATCH_WRITES, 4]); // keys per call
    const read = await layer.getMany(
      "n",
      Array.from({ length: count }, (_, i) => `burst-${i}`),
    );
    expect(read.map((e) => new TextDecoder().decode(e?.value))).toEqual(
      Array.from({ length: count }, (_, i) => `v${i}`),
    );
  });

  it("applies one batch's writes in their order, each with its own answer", async () => {
    const now = Date.now();
    const [newer, older, setThenDeleted, deleted, deletedFirst, refusedAfterDelete] = await Promise.all([
      layer.set("n", "order-a", entry("newer", 20n)),
      layer.set("n", "order-a", entry("older", 10n)), // refused: a newer version is there
      layer.set("n", "order-b", entry("doomed", 10n, now - 10)),
      layer.delete("n", "order-b", { at: now, keepMs: 60_000 }), // after the set: a value was there
      layer.delete("n", "order-c", { at: now, keepMs: 60_000 }),
      layer.set("n", "order-c", entry("from before", 10n, now - 10)), // created before the deletion
    ]);
    expect([newer, older, setThenDeleted, deleted, deletedFirst, refusedAfterDelete]).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(new TextDecoder().decode((await layer.get("n", "order-a"))?.value)).toBe("newer");
    expect(await layer.get("n", "order-b")).toBeUndefined();
    expect(await layer.get("n", "order-c")).toBeUndefined();
    const calls = await commandsNaming("order-", 1);
    expect(calls.filter((args) => args[0]?.toLowerCase() === "evalsha")).toHaveLength(1);
  });

  it("fails only the write whose key Redis cannot read, not the rest of its batch", async () => {
    const direct = new Redis(REDIS_URL);
    try {
      // Something else put a hash under one of the layer's data keys.
      await direct.hset(new RedisKeys(prefix).data("n", "odd-hash"), "field", "value");
      const outcomes = await Promise.allSettled([
        layer.set("n", "odd-before", entry("before", 10n)),
        layer.set("n", "odd-hash", entry("refused", 10n)),
        layer.set("n", "odd-after", entry("after", 10n)),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
      const read = await layer.getMany("n", ["odd-before", "odd-after"]);
      expect(read.map((e) => new TextDecoder().decode(e?.value))).toEqual(["before", "after"]);
      expect(await direct.type(new RedisKeys(prefix).data("n", "odd-hash"))).toBe("hash");
    } finally {
      direct.disconnect();
    }
  });

  it("takes the leases of several keys in one script call", async () => {
    const keys = ["lease-1", "lease-2", "lease-3"];
    const first = await layer.coordination.acquireLeases("n", keys, 5_000);
    const second = await layer.coordination.acquireLeases("n", keys, 5_000);
    expect(first).not.toBe("unavailable");
    expect((first as unknown[]).every((lease) => lease !== "held")).toBe(true);
    expect(second).toEqual(["held", "held", "held"]);
    const calls = await commandsNaming("lease-", 2);
    const acquisitions = calls.filter((args) => args[0]?.toLowerCase() === "evalsha");
    expect(acquisitions).toHaveLength(2);
    expect(acquisitions.map((args) => Number(args[2]))).toEqual([3, 3]);
    for (const lease of first as { release(): Promise<void> }[]) await lease.release();
  });

  it("releases a load's lease in the call that stores its value, and only while it holds it", async () => {
    const direct = new Redis(REDIS_URL);
    const keys = new RedisKeys(prefix);
    try {
      const [lease] = (await layer.coordination.acquireLeases("n", ["along-1"], 5_000)) as Lease[];
      expect(await layer.coordination.acquireLeases("n", ["along-1"], 5_000)).toEqual(["held"]); // now wanted
      expect(await layer.set("n", "along-1", entry("loaded", 10n), lease)).toBe(true);
      expect(await direct.exists(keys.lease("n", "along-1"))).toBe(0);
      await lease?.release(); // released already: nothing more is sent
      // The layer's calls (the test's own EXISTS aside).
      const calls = (await commandsNaming("along-1", 4)).filter((args) => args[0]?.toLowerCase() !== "exists");
      expect(calls.map((args) => args[0]?.toLowerCase())).toEqual(["evalsha", "evalsha", "evalsha"]);
      const write = calls[2] as string[];
      expect(write.slice(2, 5)).toEqual(["2", keys.data("n", "along-1"), keys.lease("n", "along-1")]);

      // A lease that expired and went to another holder is left to it.
      const [lost] = (await layer.coordination.acquireLeases("n", ["along-2"], 5_000)) as Lease[];
      await direct.set(keys.lease("n", "along-2"), "someone-else", "PX", 5_000);
      expect(await layer.set("n", "along-2", entry("loaded", 10n), lost)).toBe(true);
      expect(await direct.get(keys.lease("n", "along-2"))).toBe("someone-else");
      await lost?.release();
      expect(await direct.get(keys.lease("n", "along-2"))).toBe("someone-else");
    } finally {
      direct.disconnect();
    }
  });

  it("loads a missed key in three calls: the read, the lease, and the write that releases it", async () => {
    const manager = new CacheManager({ l2: layer });
    let loads = 0;
    const loader = {
      load: async () => {
        loads++;
        return { found: true, value: new TextEncoder().encode("from the origin") };
      },
    };
    const answers = await Promise.all(Array.from({ length: 5 }, () => manager.getOrLoad("n", "three-calls", loader)));
    expect(answers.map((a) => new TextDecoder().decode(a.value))).toEqual(new Array(5).fill("from the origin"));
    expect(loads).toBe(1);
    const calls = await commandsNaming("three-calls", 3);
    expect(calls.map((args) => args[0]?.toLowerCase())).toEqual(["mget", "evalsha", "evalsha"]);
    expect((await layer.coordination.poll("n", ["three-calls"])).held).toEqual([false]);
    manager.close();
  });
});
