// The write queue keeps what Redis did not take and replays it when Redis answers again. A
// command Redis refuses for good (here WRONGTYPE: the key holds a list) can never succeed: the
// replay drops it, counts it and logs it once, instead of queueing it again forever.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Entry } from "../../src/engine/entry.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { requireEnv } from "../support/env.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");

function entry(value: string): Entry {
  const now = Date.now();
  return {
    value: new TextEncoder().encode(value),
    createdAt: now,
    freshUntil: now + 30_000,
    expiresAt: now + 60_000,
    staleUntil: now + 120_000,
    version: 1n,
    tags: [],
    flags: 0,
    loadMs: 0,
  };
}

describe("replay of the write queue", () => {
  const prefix = `replay-${randomUUID().slice(0, 8)}:`;
  const warnings: { details: object; message: string }[] = [];
  const logger = { warn: (details: object, message: string) => warnings.push({ details, message }), info: () => {} };
  let raw: Redis;
  let layer: RedisLayer;

  beforeAll(async () => {
    raw = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, connectTimeout: 5_000 });
    layer = new RedisLayer({ url: REDIS_URL, keyPrefix: prefix, logger });
    await layer.waitUntilReady();
  });
  afterAll(async () => {
    await layer?.close();
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw?.quit();
  });

  it("drops a command Redis refuses for good, counts it and logs it once", async () => {
    await raw.lpush(`${prefix}d:ns:listed`, "not an envelope");
    // Refused with WRONGTYPE: queued, as any write Redis did not take.
    await expect(layer.set("ns", "listed", entry("v"))).rejects.toMatchObject({ code: 14 });
    expect(layer.status().queued).toBe(1);

    // Redis answers: the replay runs, is refused again, and drops the write.
    for (let i = 0; i < 3; i++) {
      await layer.set("ns", `fine-${i}`, entry("ok"));
      await vi.waitFor(() => expect(layer.status().queued).toBe(0), { timeout: 2_000 });
    }
    expect(layer.replayDropped).toBe(1);
    const dropped = warnings.filter((w) => /refused/.test(w.message));
    expect(dropped).toHaveLength(1);
    expect((dropped[0]?.details as { err?: Error } | undefined)?.err?.message).toMatch(/WRONGTYPE/);
    expect(await raw.type(`${prefix}d:ns:listed`)).toBe("list");
  });
});
