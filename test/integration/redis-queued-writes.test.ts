// A write queued while one instance could not reach Redis must not come back after an
// invalidation, even when a later load replaced the key's tombstone before the replay (found by
// the history checker, seed 136016479: a queued Set replayed over a newer loaded value); and it
// waits for the instance to catch up with the fleet's invalidations before it is replayed.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheManager } from "../../src/engine/cache-manager.js";
import type { Loader } from "../../src/engine/loader.js";
import { defaultSettings } from "../../src/engine/policy.js";
import { PolicyStore } from "../../src/engine/policy-store.js";
import { MemoryLayer } from "../../src/layers/memory-layer.js";
import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { requireEnv } from "../support/env.js";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP relay to Redis that can be cut (every connection dropped, new ones refused) and restored. */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private readonly server: net.Server;
  port = 0;

  constructor(target: URL) {
    this.server = net.createServer((client) => {
      if (this.cut) return void client.destroy();
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  sever(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe("writes queued for an unreachable Redis", () => {
  const redisUrl = new URL(requireEnv("MLCACHE_REDIS_URL"));
  const prefix = `queued-writes-${Date.now()}:`;
  const relay = new Relay(redisUrl);
  let cutOff: RedisLayer;
  let direct: RedisLayer;
  let a: CacheManager;
  let b: CacheManager;
  const origin: Loader = {
    // The system of record's own (small) versions: any automatic Set version is above them.
    load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(`origin:${key}`), version: 1000n }),
  };

  beforeAll(async () => {
    await relay.start();
    const relayed = new URL(redisUrl);
    relayed.port = String(relay.port);
    const options = { keyPrefix: prefix, commandTimeoutMs: 300, breakerResetMs: 200 };
    cutOff = new RedisLayer({ url: relayed.toString(), ...options });
    direct = new RedisLayer({ url: redisUrl.toString(), ...options });
    await Promise.all([cutOff.waitUntilReady(), direct.waitUntilReady()]);
    const manager = (l2: RedisLayer) =>
      new CacheManager({
        l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000 }),
        l2,
        policies: new PolicyStore(defaultSettings()),
        loaderFor: () => origin,
      });
    a = manager(cutOff);
    b = manager(direct);
  });

  afterAll(async () => {
    await Promise.all([cutOff?.close(), direct?.close()]);
    await relay.close();
  });

  it("are dropped by an invalidation heard meanwhile, so the replay cannot overwrite a newer value", async () => {
    relay.sever();
    // A's Set answers OK from L1; its L2 write waits in A's queue.
    expect((await a.set("n", "k", new TextEncoder().encode("written"))).applied).toBe(true);
    expect(cutOff.status().queued).toBeGreaterThan(0);

    // B invalidates the key (tombstone in Redis); A hears of it (as from Kafka).
    const { stamp } = await b.invalidate("n", { keys: ["k"] });
    await a.applyInvalidation("n", { keys: ["k"], tags: [], cause: "invalidate", at: stamp }, false);
    // B loads the key afterwards: its value replaces the tombstone.
    expect(text((await b.get("n", "k")).value)).toBe("origin:k");

    // Redis is back for A: its queue replays once a call gets through.
    relay.restore();
    for (let i = 0; i < 100 && cutOff.status().queued > 0; i++) {
      await a.get("n", `probe-${i}`, { bypassL1: true, skipLoader: true });
      await sleep(50);
    }
    expect(cutOff.status().queued).toBe(0);
    expect(text((await direct.peek("n", "k"))?.value)).toBe("origin:k");
    expect(text((await a.get("n", "k")).value)).toBe("origin:k");
  });
  it("a deletion queued by an invalidation leaves its tombstone when replayed: an older load cannot store after it", async () => {
    relay.sever();
    await expect(a.invalidate("n", { keys: ["k2"] })).rejects.toThrow(/queued/);
    const invalidatedAt = Date.now();
    relay.restore();
    for (let i = 0; i < 100 && cutOff.status().queued > 0; i++) {
      await a.get("n", `probe2-${i}`, { bypassL1: true, skipLoader: true });
      await sleep(50);
    }
    expect(cutOff.status().queued).toBe(0);
    // A value from a load that began before the invalidation arrives now: the tombstone refuses it.
    const createdAt = invalidatedAt - 1_000;
    const older = {
      value: new TextEncoder().encode("from before"),
      createdAt,
      freshUntil: createdAt + 600_000,
      expiresAt: createdAt + 600_000,
      staleUntil: createdAt + 600_000,
      version: 500n,
      tags: [],
      flags: 0,
      loadMs: 0,
    };
    expect(await direct.set("n", "k2", older)).toBe(false);
    expect(await direct.peek("n", "k2")).toBeUndefined();
  });
  it("are kept back while the instance is not caught up with the fleet's invalidations, then replayed", async () => {
    let behind = true;
    cutOff.holdQueuedWritesWhile(() => behind);
    relay.sever();
    expect((await a.set("n", "k3", new TextEncoder().encode("queued"))).applied).toBe(true);
    relay.restore();
    // Redis answers again, but the instance has not caught up: the write stays queued.
    for (let i = 0; i < 20; i++) {
      await a.get("n", `probe3-${i}`, { bypassL1: true, skipLoader: true });
      await sleep(50);
    }
    expect(cutOff.status().queued).toBe(1);
    expect(await direct.peek("n", "k3")).toBeUndefined();
    behind = false;
    for (let i = 0; i < 100 && cutOff.status().queued > 0; i++) {
      await a.get("n", `probe4-${i}`, { bypassL1: true, skipLoader: true });
      await sleep(50);
    }
    expect(cutOff.status().queued).toBe(0);
    expect(text((await direct.peek("n", "k3"))?.value)).toBe("queued");
    cutOff.holdQueuedWritesWhile(() => false);
  });
});
