// Key rules and AdjustTtl across two instances sharing Redis and Kafka: rules set through
// UpdatePolicy on A are in force on B (reads there take the rule's TTL), a rule change made at
// run time replaces them everywhere, and AdjustTtl on A changes the key's lifetime in B's L1.
import { randomUUID } from "node:crypto";
import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer } from "../../src/gen/mlcache/v1/common_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventuallyAsync } from "../support/origins.js";
import { createGrpcJsClient, type GrpcJsClient, testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `rules-${run}.inv`,
  writes: `rules-${run}.writes`,
  deadLetters: `rules-${run}.dl`,
  policies: `rules-${run}.policies`,
};
const ms = (d: Duration | undefined) => (d ? durationMs(d) : Number.NaN);
const text = (s: string) => new TextEncoder().encode(s);

describe("key rules and AdjustTtl on two instances", () => {
  const services: RunningService[] = [];
  const closers: (() => void)[] = [];
  afterAll(async () => {
    for (const close of closers) close();
    for (const s of services) await s.close();
  });

  async function instance(id: string) {
    const service = await startService(
      parseConfig(
        testConfig({
          instanceId: `${run}-${id}`,
          kafka: { brokers: BROKERS.split(","), topics },
          redis: { url: REDIS_URL, keyPrefix: `rules-${run}:` },
        }),
      ),
    );
    services.push(service);
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    closers.push(
      () => admin.close(),
      () => cache.close(),
    );
    return { admin, cache };
  }
  /** The TTL left of a key in an instance's L1, without counting a read. */
  const l1TtlOf = async (cache: GrpcJsClient<typeof CacheService>, namespace: string, key: string) => {
    const stats = (await cache.inspect({ namespace, keys: [key] })).keyStats[0];
    const l1 = stats?.layers.find((l) => l.layer === CacheLayer.L1);
    return { present: l1?.present ?? false, ttlMs: ms(l1?.ttlRemaining), rule: stats?.rule ?? "" };
  };

  it("rules changed on A at run time are in force on B; AdjustTtl on A reaches B's L1", async () => {
    const a = await instance("a");
    const b = await instance("b");
    const namespace = "ruled";

    await a.admin.updatePolicy({
      policy: {
        namespace,
        rules: [
          {
            name: "short",
            match: { case: "prefix", value: "s:" },
            overrides: { l1: { ttl: durationFromMs(20_000), jitter: 0 }, l2: { ttl: durationFromMs(20_000) } },
          },
        ],
      },
      updateMask: { paths: ["rules"] },
    });
    await eventuallyAsync(
      async () => (await b.admin.getPolicy({ namespace })).policy?.rules[0]?.name === "short",
      15_000,
      "B to apply A's rules",
    );
    await b.cache.set({ namespace, key: "s:1", value: text("v") });
    await b.cache.set({ namespace, key: "o:1", value: text("v") });
    const ruled = await l1TtlOf(b.cache, namespace, "s:1");
    expect(ruled).toMatchObject({ present: true, rule: "short" });
    expect(ruled.ttlMs).toBeLessThanOrEqual(20_000);
    expect((await l1TtlOf(b.cache, namespace, "o:1")).ttlMs).toBeGreaterThan(60_000);

    // A run-time change of the rules replaces them on B too.
    await a.admin.updatePolicy({
      policy: {
        namespace,
        rules: [
          {
            name: "medium",
            match: { case: "glob", value: "o:*" },
            overrides: { l1: { ttl: durationFromMs(40_000), jitter: 0 } },
          },
        ],
      },
      updateMask: { paths: ["rules"] },
    });
    await eventuallyAsync(
      async () => (await b.admin.getPolicy({ namespace })).policy?.rules.map((r) => r.name).join() === "medium",
      15_000,
      "B to apply the new rules",
    );
    await b.cache.set({ namespace, key: "o:2", value: text("v") });
    await b.cache.set({ namespace, key: "s:2", value: text("v") });
    expect((await l1TtlOf(b.cache, namespace, "o:2")).ttlMs).toBeLessThanOrEqual(40_000);
    expect(await l1TtlOf(b.cache, namespace, "s:2")).toMatchObject({ rule: "" });
    expect((await l1TtlOf(b.cache, namespace, "s:2")).ttlMs).toBeGreaterThan(60_000);

    // AdjustTtl on A: B holds the key in L1 (read through L2), and its copy gets the new lifetime.
    await a.cache.set({ namespace, key: "adj", value: text("v") });
    // A read racing the Set's own event is not promoted (the namespace epoch guards it): read again.
    await eventuallyAsync(
      async () => {
        await b.cache.get({ namespace, key: "adj" });
        return (await l1TtlOf(b.cache, namespace, "adj")).present;
      },
      15_000,
      "B to hold the key in L1",
    );
    expect((await l1TtlOf(b.cache, namespace, "adj")).ttlMs).toBeGreaterThan(60_000);
    const adjusted = await a.admin.adjustTtl({ namespace, keys: ["adj"], ttl: durationFromMs(7_000) });
    expect(adjusted).toMatchObject({ l1Adjusted: 1, l2Adjusted: 1, published: true });
    await eventuallyAsync(
      async () => (await l1TtlOf(b.cache, namespace, "adj")).ttlMs <= 7_000,
      15_000,
      "B's L1 copy to take the new TTL",
    );
    expect((await l1TtlOf(b.cache, namespace, "adj")).present).toBe(true); // adjusted, not dropped
    // With Redis, each key gets an estimate per layer; L2's is the L1 sketch's view (Redis counts nothing).
    const frequencies = (await b.cache.inspect({ namespace, keys: ["adj"] })).keyStats[0]?.layerFrequencies;
    expect(frequencies?.map((f) => [f.layer, f.source])).toEqual([
      [CacheLayer.L1, "l1-sketch"],
      [CacheLayer.L2, "l1-sketch"],
    ]);
  });
});
