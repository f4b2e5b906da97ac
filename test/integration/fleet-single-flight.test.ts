// One origin load per key for the whole fleet, whatever the path: three engines sharing one
// Redis (single node and cluster) miss the same keys at the same time through BulkGet, the
// priority refresher's refresh, and Get with L2 admission on (which keeps cold keys out of L2);
// and a waiting engine is answered on word of the holder's release, not at its next poll.
import { randomUUID } from "node:crypto";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheManager } from "../../src/engine/cache-manager.js";
import { ManualClock } from "../../src/engine/clock.js";
import type { Loader, LoadResult } from "../../src/engine/loader.js";
import { defaultSettings } from "../../src/engine/policy.js";
import { PolicyStore } from "../../src/engine/policy-store.js";
import type { Lookup } from "../../src/engine/types.js";
import { MemoryLayer } from "../../src/layers/memory-layer.js";
import { RedisKeys } from "../../src/layers/redis/keys.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { requireEnv } from "../support/env.js";
import { RedisProcess } from "../support/redis-process.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const CLUSTER_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_NODES").split(",");

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

/** An origin shared by the fleet: counts loads per key (single and bulk), answers after 100 ms. */
class CountingOrigin implements Loader {
  readonly loads = new Map<string, number>();
  private async answer(key: string): Promise<LoadResult> {
    const n = (this.loads.get(key) ?? 0) + 1;
    this.loads.set(key, n);
    return { found: true, value: new TextEncoder().encode(`origin:${key}#${n}`) };
  }
  async load(_namespace: string, key: string): Promise<LoadResult> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return this.answer(key);
  }
  async loadMany(_namespace: string, keys: readonly string[]): Promise<Map<string, LoadResult>> {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return new Map(await Promise.all(keys.map(async (key) => [key, await this.answer(key)] as const)));
  }
  /** Loads of each key, in the order asked. */
  countsOf(keys: readonly string[]): number[] {
    return keys.map((key) => this.loads.get(key) ?? 0);
  }
}

for (const [name, redis] of [
  ["single node", { url: REDIS_URL }],
  ["cluster", { clusterNodes: CLUSTER_NODES }],
] as const) {
  describe(`one load per key for a fleet of three engines on Redis ${name}`, () => {
    const origin = new CountingOrigin();
    const layers: RedisLayer[] = [];
    let fleet: CacheManager[];

    beforeAll(async () => {
      const keyPrefix = `sf-${randomUUID().slice(0, 8)}:`;
      const admitting = defaultSettings();
      admitting.l2.admission = true;
      fleet = [];
      for (let i = 0; i < 3; i++) {
        const l2 = new RedisLayer({ ...redis, keyPrefix });
        await l2.waitUntilReady();
        layers.push(l2);
        fleet.push(
          new CacheManager({
            l1: new MemoryLayer({ maxBytes: 16 * 1024 * 1024, maxEntries: 10_000 }),
            l2,
            policies: new PolicyStore(defaultSettings(), { admitted: admitting }),
            loaderFor: () => origin,
          }),
        );
      }
    });
    afterAll(async () => {
      for (const layer of layers) await layer.close();
    });

    it("concurrent BulkGets of overlapping keys (and Gets among them) load each key once", async () => {
      const asked = [range("b", 0, 20), range("b", 10, 30), [...range("b", 5, 25), "b5", "b29"]];
      const [first, second, third] = fleet as [CacheManager, CacheManager, CacheManager];
      const answers = await Promise.all([
        first.getMany("bulk", asked[0] as string[]),
        second.getMany("bulk", asked[1] as string[]),
        third.getMany("bulk", asked[2] as string[]),
        first.get("bulk", "b25"),
        third.get("bulk", "b0"),
      ]);
      const all = range("b", 0, 30);
      expect(origin.countsOf(all)).toEqual(all.map(() => 1));
      for (const [i, keys] of asked.entries()) {
        const results = answers[i] as Map<string, Lookup | Error>;
        for (const key of keys) expect(text((results.get(key) as Lookup).value)).toBe(`origin:${key}#1`);
      }
    });

    it("concurrent refreshes of the same keys load each key once, and a later refresh takes the new value", async () => {
      const keys = range("r", 0, 10);
      for (const manager of fleet) await manager.getMany("refresh", keys); // every L1 holds them
      expect(origin.countsOf(keys)).toEqual(keys.map(() => 1));

      const refreshed = await Promise.all(fleet.map((manager) => manager.refresh("refresh", keys)));
      expect(refreshed).toEqual([10, 10, 10]);
      expect(origin.countsOf(keys)).toEqual(keys.map(() => 2));
      for (const manager of fleet) {
        for (const key of keys) expect(text(manager.peekL1("refresh", key)?.value)).toBe(`origin:${key}#2`);
      }

      // The refreshers of a fleet do not tick together: one after the other, still one load.
      for (const manager of fleet) await manager.refresh("refresh", keys);
      expect(origin.countsOf(keys)).toEqual(keys.map(() => 3));
      for (const manager of fleet) {
        for (const key of keys) expect(text(manager.peekL1("refresh", key)?.value)).toBe(`origin:${key}#3`);
      }
    });

    it("with L2 admission on, concurrent Gets and BulkGets of cold keys load each once", async () => {
      const gets = fleet.flatMap((manager) => [manager.get("admitted", "cold"), manager.get("admitted", "cold")]);
      const bulk = fleet.map((manager) => manager.getMany("admitted", range("c", 0, 5)));
      const answers = await Promise.all(gets);
      await Promise.all(bulk);
      expect(origin.countsOf(["cold", ...range("c", 0, 5)])).toEqual([1, 1, 1, 1, 1, 1]);
      expect(new Set(answers.map((a) => text(a.value)))).toEqual(new Set(["origin:cold#1"]));
    });
  });
}

/**
 * The holder takes the lease of `word/k` and loads behind a gate; the waiter, whose poll timers
 * never fire (its scheduler is a manual clock nobody moves), asks next and marks the lease
 * wanted. Once the gate opens, only word of the release can answer the waiter: resolves with
 * both answers and the loads, or "no word within 5 s" in the waiter's place.
 */
async function waiterHearsRelease(
  holderL2: RedisLayer,
  waiterL2: RedisLayer,
  keyPrefix: string,
  direct: Redis | Cluster,
): Promise<{ held: Lookup; waited: Lookup | "no word within 5 s"; loads: number }> {
  let open = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let loads = 0;
  const origin: Loader = {
    async load() {
      loads++;
      await gate;
      return { found: true, value: new TextEncoder().encode("loaded once") };
    },
  };
  const holder = new CacheManager({ l2: holderL2, loaderFor: () => origin });
  const waiter = new CacheManager({ l2: waiterL2, loaderFor: () => origin, scheduler: new ManualClock(0) });
  try {
    const leaseKey = new RedisKeys(keyPrefix).lease("word", "k");
    const lease = async () => (await direct.get(leaseKey)) ?? "";
    // The holder takes the lease first; the waiter then asks for it and marks it wanted ('!').
    const held = holder.get("word", "k");
    for (let i = 0; i < 200 && !(await lease()); i++) await sleep(10);
    const waiting = waiter.get("word", "k");
    for (let i = 0; i < 200 && !(await lease()).endsWith("!"); i++) await sleep(10);
    expect((await lease()).endsWith("!")).toBe(true);
    open();
    const [first, second] = await Promise.all([
      held,
      Promise.race([waiting, sleep(5_000).then(() => "no word within 5 s" as const)]),
    ]);
    return { held: first, waited: second, loads };
  } finally {
    open();
    holder.close();
    waiter.close();
  }
}

/** Waits (bounded) until the layer's subscription to word of releases is in place. */
async function listening(layer: RedisLayer): Promise<boolean> {
  for (let i = 0; i < 500 && !layer.coordination.releases.listening; i++) await sleep(10);
  return layer.coordination.releases.listening;
}

function expectAnsweredByWord(outcome: Awaited<ReturnType<typeof waiterHearsRelease>>): void {
  expect(text(outcome.held.value)).toBe("loaded once");
  expect(outcome.waited).not.toBe("no word within 5 s");
  expect(text((outcome.waited as Lookup).value)).toBe("loaded once");
  expect((outcome.waited as Lookup).source).toBe("l2");
  expect(outcome.loads).toBe(1);
}

// A waiter on another instance hears that the holder released the lease (Redis pub/sub, sent in
// the call that stored the value) and polls at once.
for (const [name, redis] of [
  ["single node", { url: REDIS_URL }],
  ["cluster", { clusterNodes: CLUSTER_NODES }],
] as const) {
  describe(`a waiter hears the release of the lease it waits for (Redis ${name})`, () => {
    const layers: RedisLayer[] = [];
    afterAll(async () => {
      for (const layer of layers) await layer.close();
    });

    it("is answered with the holder's value as soon as it is stored", async () => {
      const keyPrefix = `word-${randomUUID().slice(0, 8)}:`;
      const [holderL2, waiterL2] = [new RedisLayer({ ...redis, keyPrefix }), new RedisLayer({ ...redis, keyPrefix })];
      layers.push(holderL2, waiterL2);
      await Promise.all(layers.map((layer) => layer.waitUntilReady()));
      expect(await listening(waiterL2)).toBe(true);
      const direct = "url" in redis ? new Redis(redis.url) : new Cluster([...redis.clusterNodes]);
      try {
        expectAnsweredByWord(await waiterHearsRelease(holderL2, waiterL2, keyPrefix, direct));
      } finally {
        direct.disconnect();
      }
    });
  });
}

// The subscription is the connection's, and a connection can die: after Redis was killed and
// started again, the layers reconnect, subscribe again, and the word is heard as before.
describe("a waiter hears the release of the lease it waits for after Redis restarted", () => {
  let server: RedisProcess;
  const layers: RedisLayer[] = [];
  beforeAll(async () => {
    server = await RedisProcess.start();
  });
  afterAll(async () => {
    for (const layer of layers) await layer.close();
    await server?.kill();
  });

  it("subscribes again on reconnection", async () => {
    const keyPrefix = `word-restart-${randomUUID().slice(0, 8)}:`;
    const [holderL2, waiterL2] = [
      new RedisLayer({ url: server.url, keyPrefix }),
      new RedisLayer({ url: server.url, keyPrefix }),
    ];
    layers.push(holderL2, waiterL2);
    await Promise.all(layers.map((layer) => layer.waitUntilReady()));
    expect(await listening(waiterL2)).toBe(true);
    await server.kill();
    for (let i = 0; i < 500 && waiterL2.coordination.releases.listening; i++) await sleep(10);
    expect(waiterL2.coordination.releases.listening).toBe(false);
    await server.restart();
    // Both layers back (their breakers let calls through again), and the subscription renewed.
    for (const layer of layers) await layer.waitUntilReady();
    expect(await listening(waiterL2)).toBe(true);
    const direct = new Redis(server.url);
    try {
      expectAnsweredByWord(await waiterHearsRelease(holderL2, waiterL2, keyPrefix, direct));
    } finally {
      direct.disconnect();
    }
  });
});
