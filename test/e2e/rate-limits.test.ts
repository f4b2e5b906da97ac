// Request rates per credential and per namespace, and the coarse limit on L2 reads: past a
// limit the answer is RESOURCE_EXHAUSTED (or, for L2, a miss) and the refusal is counted.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entry } from "../../src/engine/entry.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import type { RunningService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { connectTransport, startTestService, statusOf } from "../support/service.js";

const SLOW = "slow-token-0123456789ab";
const FAST = "fast-token-0123456789ab";

async function codes(calls: (() => Promise<unknown>)[]): Promise<(Code | "ok")[]> {
  const out: (Code | "ok")[] = [];
  for (const call of calls) out.push(await statusOf(call()));
  return out;
}

describe("request rate limits", () => {
  let service: RunningService;
  let cache: ReturnType<typeof createClient<typeof CacheService>>;
  beforeAll(async () => {
    service = await startTestService({
      auth: {
        tokens: [
          { name: "slow", token: SLOW, rights: ["read"], rate: { perSecond: 0.01, burst: 5 } },
          { name: "fast", token: FAST, rights: ["read"] },
        ],
      },
      limits: { rate: { perNamespace: { perSecond: 0.01, burst: 8 } } },
    });
    cache = createClient(CacheService, connectTransport(service.httpPort));
  });
  afterAll(async () => {
    await service?.close();
  });

  const get = (token: string, namespace: string) => () =>
    cache.get({ namespace, key: "k" }, { headers: { authorization: `Bearer ${token}` } });

  it("a credential past its own rate gets RESOURCE_EXHAUSTED saying when to retry; others go on", async () => {
    const slow = await codes(Array.from({ length: 7 }, () => get(SLOW, "a")));
    expect(slow).toEqual(["ok", "ok", "ok", "ok", "ok", Code.ResourceExhausted, Code.ResourceExhausted]);
    const refused = await get(SLOW, "a")().catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).rawMessage).toMatch(
      /^slow is past its rate limit \(0\.01\/s, bursts of 5\); retry in \d+ ms$/,
    );
    expect(await codes([get(FAST, "b")])).toEqual(["ok"]);
  });

  it("a namespace past its rate is refused for every caller; other namespaces go on", async () => {
    const calls = await codes(Array.from({ length: 10 }, () => get(FAST, "c")));
    expect(calls.filter((c) => c === "ok")).toHaveLength(8);
    expect(calls.slice(8)).toEqual([Code.ResourceExhausted, Code.ResourceExhausted]);
    expect(await codes([get(FAST, "d")])).toEqual(["ok"]);
  });

  it("refusals are counted by scope in /metrics", async () => {
    const text = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    expect(text).toMatch(/mlcache_requests_rate_limited_total\{scope="credential"\} [1-9]/);
    expect(text).toMatch(/mlcache_requests_rate_limited_total\{scope="namespace"\} [1-9]/);
  });
});

describe("the coarse limit on L2 reads", () => {
  it("reads past redis.maxReadsPerSecond miss L2 at once and are counted", async () => {
    const layer = new RedisLayer({
      url: requireEnv("MLCACHE_REDIS_URL"),
      keyPrefix: "ratelimit:",
      maxReadsPerSecond: 0.01,
    });
    await layer.waitUntilReady();
    try {
      const now = Date.now();
      const entry: Entry = {
        value: new Uint8Array([1]),
        createdAt: now,
        freshUntil: now + 60_000,
        expiresAt: now + 60_000,
        staleUntil: now + 60_000,
        version: 1n,
        tags: [],
        flags: 0,
        loadMs: 0,
      };
      await layer.set("rl", "k", entry);
      const reads = await Promise.all(Array.from({ length: 5 }, () => layer.get("rl", "k")));
      expect(reads.filter((r) => r !== undefined)).toHaveLength(1); // a burst of one second's worth: 1
      expect(layer.readsRateLimited).toBe(4);
      expect(await layer.getMany("rl", ["k", "j"])).toEqual([undefined, undefined]);
      expect(layer.readsRateLimited).toBe(6);
    } finally {
      await layer.close();
    }
  });
});
