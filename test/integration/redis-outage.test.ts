// Redis dies in the middle of traffic: reads keep being answered from L1 and the loader, writes
// made meanwhile are queued and applied once Redis is back; invalidations are applied locally
// and queued too, but answered UNAVAILABLE (they are not yet in L2, which other instances read).
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { decodeEntry } from "../../src/layers/redis/envelope.js";
import { type RunningService, startService } from "../../src/server.js";
import { RedisProcess } from "../support/redis-process.js";
import { createGrpcJsClient, type GrpcJsClient, testConfig } from "../support/service.js";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("Redis outage in the middle of traffic", () => {
  let redis: RedisProcess;
  let service: RunningService;
  let client: GrpcJsClient<typeof CacheService>;
  const origin: Loader & { calls: number } = {
    calls: 0,
    async load(_ns, key) {
      this.calls++;
      return { found: true, value: new TextEncoder().encode(`origin:${key}`) };
    },
  };

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const config = parseConfig(testConfig({ redis: { url: redis.url, keyPrefix: "outage:" } }));
    service = await startService(config, { loaderFor: () => origin });
    client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
    await redis?.kill();
  });

  it("serves every Get while Redis is down and replays queued writes and invalidations after", async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    for (const key of keys) await client.get({ namespace: "p", key });
    await client.set({ namespace: "p", key: "doomed", value: new TextEncoder().encode("old"), tags: ["t"] });

    let failures = 0;
    let answered = 0;
    const traffic = async (rounds: number, offset: number) => {
      for (let round = 0; round < rounds; round++) {
        const batch = Array.from({ length: 20 }, (_, i) => `k${(round * 20 + i + offset) % 200}`);
        const results = await Promise.allSettled(batch.map((key) => client.get({ namespace: "p", key })));
        for (const r of results) {
          if (r.status === "rejected" || !r.value.item?.found) failures++;
          else answered++;
        }
      }
    };

    const during = traffic(40, 0);
    await redis.kill();
    await during;
    await traffic(20, 7); // fully inside the outage: L1 hits and loads of keys k100..k199

    // Writes while Redis is down succeed for callers and are queued; invalidations are applied
    // here and queued, and say so with UNAVAILABLE (a retry is safe).
    await client.set({ namespace: "p", key: "w", value: new TextEncoder().encode("first") });
    await client.set({ namespace: "p", key: "w", value: new TextEncoder().encode("last") });
    for (const target of [{ keys: ["k1"] }, { tags: ["t"] }]) {
      const refused = await client.invalidate({ namespace: "p", ...target }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: Code.Unavailable });
      expect(String((refused as Error).message)).toMatch(/applied on this instance.*queued and replayed/);
    }
    expect((await client.get({ namespace: "p", key: "doomed", options: { skipLoader: true } })).item?.found).toBe(
      false,
    );
    const degraded = service.manager.dependencies()[0];
    expect(degraded?.up).toBe(false);
    expect(degraded?.queued).toBeGreaterThan(0);
    const ready = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toContain("degraded");

    expect(failures).toBe(0);
    expect(answered).toBe(60 * 20);

    await redis.restart();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (service.manager.dependencies()[0]?.queued ?? 1) > 0) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(service.manager.dependencies()[0]).toMatchObject({ up: true, queued: 0 });

    // L2 agrees with the last write, and the invalidations reached it.
    const direct = new Redis(redis.url);
    try {
      const stored = await direct.getBuffer("outage:d:p:w");
      expect(stored).not.toBeNull();
      const entry = decodeEntry(stored as Buffer);
      expect(typeof entry === "object" ? text(entry.value) : entry).toBe("last");
      expect(await direct.hget("outage:{p}:stamps", "t:t")).not.toBeNull();
    } finally {
      direct.disconnect();
    }
    const doomed = await client.get({ namespace: "p", key: "doomed", options: { skipLoader: true } });
    expect(doomed.item?.found).toBe(false);
  });
});
