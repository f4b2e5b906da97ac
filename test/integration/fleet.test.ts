// Several service instances sharing one Redis behave as one cache: one origin call per key
// for the whole fleet, and invalidations by tag honoured by every instance reading L2.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer, Source } from "../../src/gen/mlcache/v1/common_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { createGrpcJsClient, type GrpcJsClient, testConfig } from "../support/service.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const CLUSTER_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_NODES").split(",");

/** An origin shared by the fleet: counts calls, answers after a delay. */
class SlowOrigin implements Loader {
  calls = 0;
  async load(_namespace: string, key: string) {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 150));
    return { found: true, value: new TextEncoder().encode(`origin:${key}`) };
  }
}

async function fleet(redis: Record<string, unknown>, origin: Loader, size = 3) {
  const prefix = `fleet-${randomUUID().slice(0, 8)}:`;
  const services: RunningService[] = [];
  for (let i = 0; i < size; i++) {
    // A generous Redis bound: on a starved machine a lease or a write past the default 1 s bound
    // would let an instance load for itself, by design — not what this test is about.
    const config = parseConfig(
      testConfig({ instanceId: `fleet-${i}`, redis: { ...redis, keyPrefix: prefix, commandTimeout: "10s" } }),
    );
    services.push(await startService(config, { loaderFor: () => origin }));
  }
  const clients = services.map((s) => createGrpcJsClient(CacheService, `127.0.0.1:${s.grpcPort}`));
  return { services, clients };
}

async function stop(services: RunningService[], clients: GrpcJsClient<typeof CacheService>[]) {
  for (const client of clients) client.close();
  for (const service of services) await service.close();
}

for (const [name, redis] of [
  ["single node", { url: REDIS_URL }],
  ["cluster", { clusterNodes: CLUSTER_NODES }],
] as const) {
  describe(`a fleet of three instances on Redis ${name}`, () => {
    const origin = new SlowOrigin();
    let services: RunningService[];
    let clients: GrpcJsClient<typeof CacheService>[];

    beforeAll(async () => {
      ({ services, clients } = await fleet(redis, origin));
    });
    afterAll(() => stop(services, clients));

    it("1,000 concurrent Gets of one missing key across the fleet make exactly one origin call", async () => {
      origin.calls = 0;
      const gets = Array.from({ length: 1_000 }, (_, i) =>
        (clients[i % clients.length] as GrpcJsClient<typeof CacheService>).get({ namespace: "products", key: "hot" }),
      );
      const answers = await Promise.all(gets);
      expect(origin.calls).toBe(1);
      expect(answers.every((a) => a.item?.found)).toBe(true);
      expect(new Set(answers.map((a) => new TextDecoder().decode(a.item?.value)))).toEqual(new Set(["origin:hot"]));
      // Some answers came from the loader, others through L2 after waiting for the lease holder.
      const sources = new Set(answers.map((a) => a.item?.source));
      expect(sources.has(Source.LOADER)).toBe(true);
    });

    it("a tag invalidated on A is honoured by B reading through L2, including B's L1 copy", async () => {
      const [a, b] = clients as [GrpcJsClient<typeof CacheService>, GrpcJsClient<typeof CacheService>];
      const value = new TextEncoder().encode("v1");
      await a.set({ namespace: "catalog", key: "item:1", value, tags: ["category:7"] });
      // B has it through L2, and now in its own L1.
      expect((await b.get({ namespace: "catalog", key: "item:1" })).item?.source).toBe(Source.L2);
      expect((await b.get({ namespace: "catalog", key: "item:1" })).item?.source).toBe(Source.L1);
      await a.invalidate({ namespace: "catalog", tags: ["category:7"] });
      const throughL2 = await b.get({
        namespace: "catalog",
        key: "item:1",
        options: { bypassLayers: [CacheLayer.L1], skipLoader: true },
      });
      expect(throughL2.item?.found).toBe(false);
      const normal = await b.get({ namespace: "catalog", key: "item:1", options: { skipLoader: true } });
      expect(normal.item?.found).toBe(false);
      // A value written after the invalidation is visible again everywhere.
      await a.set({ namespace: "catalog", key: "item:1", value: new TextEncoder().encode("v2"), tags: ["category:7"] });
      const again = await b.get({ namespace: "catalog", key: "item:1", options: { skipLoader: true } });
      expect(new TextDecoder().decode(again.item?.value)).toBe("v2");
    });
  });
}
