// Redis stops answering (SIGSTOP: its sockets stay open and the kernel still accepts
// connections) in the middle of traffic. Every Redis step of a call costs at most the command
// bound; then the call goes on with L1 and the loader. Nothing waits for Redis to come back.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer } from "../../src/gen/mlcache/v1/common_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { RedisProcess } from "../support/redis-process.js";
import { createGrpcJsClient, type GrpcJsClient, testConfig } from "../support/service.js";

const COMMAND_BOUND_MS = 300;
/**
 * A sanity bound, not a measurement: a call makes at most a few Redis steps of 300 ms each. Calls
 * that wait for Redis to resume take the whole stall (at least 4 s here), far beyond it.
 */
const CALL_SANITY_MS = 2_500;
const STALL_MS = 4_000;

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed<T>(what: string, call: () => Promise<T>): Promise<{ what: string; ms: number; result: T }> {
  const started = performance.now();
  const result = await call();
  return { what, ms: performance.now() - started, result };
}

describe("a stalled Redis", () => {
  let redis: RedisProcess;
  let service: RunningService;
  let client: GrpcJsClient<typeof CacheService>;
  const origin: Loader & { failing: boolean } = {
    failing: false,
    async load(_ns, key) {
      if (this.failing) throw new Error("origin down");
      return { found: true, value: new TextEncoder().encode(`origin:${key}`) };
    },
  };

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const config = parseConfig(
      testConfig({ redis: { url: redis.url, keyPrefix: "stall:", commandTimeout: `${COMMAND_BOUND_MS}ms` } }),
    );
    service = await startService(config, { loaderFor: () => origin });
    client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
  });
  afterAll(async () => {
    redis?.resume();
    client?.close();
    await service?.close();
    await redis?.kill();
  });

  it("costs each call at most a few command bounds, not the caller's deadline, and is caught up with after", async () => {
    const warm = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await client.bulkGet({ namespace: "p", keys: warm });
    const deadline = { timeoutMs: 20_000 };
    const bypassL1 = { bypassLayers: [CacheLayer.L1] };

    redis.pause();
    const pausedAt = performance.now();
    try {
      // Wave 1 starts while the connection still looks healthy; wave 2 while the client is
      // reconnecting to the stopped server (TCP accepted, handshake never answered).
      for (const wave of [1, 2]) {
        const [l1Hit, bypassing, cold, bulk, set] = await Promise.all([
          timed("Get (L1 hit)", () => client.get({ namespace: "p", key: "k1" }, deadline)),
          timed("Get bypassing L1", () => client.get({ namespace: "p", key: "k2", options: bypassL1 }, deadline)),
          timed("Get of a cold key", () => client.get({ namespace: "p", key: `cold${wave}` }, deadline)),
          timed("BulkGet bypassing L1", () =>
            client.bulkGet(
              { namespace: "p", keys: ["k3", `bulk${wave}a`, `bulk${wave}b`], options: bypassL1 },
              deadline,
            ),
          ),
          timed("Set without a deadline", () =>
            client.set({ namespace: "p", key: `w${wave}`, value: new TextEncoder().encode(`set${wave}`) }),
          ),
        ]);
        for (const call of [l1Hit, bypassing, cold, bulk, set]) {
          expect(call.ms, `${call.what} in wave ${wave}`).toBeLessThan(CALL_SANITY_MS);
        }
        expect(l1Hit.result.item?.found).toBe(true);
        expect(text(bypassing.result.item?.value)).toBe("origin:k2");
        expect(text(cold.result.item?.value)).toBe(`origin:cold${wave}`);
        expect(bulk.result.results.map((r) => r.outcome.case)).toEqual(["item", "item", "item"]);
        expect(set.result.applied).toBe(true);
        await sleep(1_000);
      }
      expect(service.manager.dependencies()[0]?.up).toBe(false);
      // The loads made meanwhile could not take the fleet lease: one per instance, counted.
      expect(service.manager.stats("p")?.loadsUncoordinated).toBeGreaterThan(0);
      await sleep(Math.max(0, STALL_MS - (performance.now() - pausedAt)));
    } finally {
      redis.resume();
    }

    // Caught up: the Sets made during the stall reach Redis.
    const caughtUpBy = Date.now() + 15_000;
    while (
      Date.now() < caughtUpBy &&
      !(service.manager.dependencies()[0]?.up && service.manager.dependencies()[0]?.queued === 0)
    ) {
      await sleep(50);
    }
    expect(service.manager.dependencies()[0]).toMatchObject({ up: true, queued: 0 });
    const direct = new Redis(redis.url);
    try {
      expect(await direct.exists("stall:d:p:w1", "stall:d:p:w2")).toBe(2);
    } finally {
      direct.disconnect();
    }
  });

  it("does not leave a lease taken in the stall in the way of later readers for long", async () => {
    origin.failing = true;
    redis.pause();
    try {
      // force_refresh skips the L2 read: the lease request is the first thing that meets the stall.
      const stranded = await timed("Get with force_refresh", () =>
        client.get({ namespace: "p", key: "orphan", options: { forceRefresh: true } }, { timeoutMs: 20_000 }).then(
          () => "answered",
          (error: { code?: number }) => error.code,
        ),
      );
      expect(stranded.ms).toBeLessThan(CALL_SANITY_MS);
      expect(stranded.result).toBe(14); // UNAVAILABLE: the origin is down and nothing is cached
      await sleep(STALL_MS / 2);
    } finally {
      origin.failing = false;
      redis.resume();
    }
    // The lease request abandoned in the stall must not hold later readers up once Redis runs
    // again (ioredis used to send it again on reconnecting; the instance then found the lease
    // "held" by that copy and waited for it up to the load timeout).
    const later = await timed("Get after the stall", () =>
      client.get({ namespace: "p", key: "orphan" }, { timeoutMs: 10_000 }),
    );
    expect(text(later.result.item?.value)).toBe("origin:orphan");
    expect(later.ms).toBeLessThan(CALL_SANITY_MS);
  });
});
