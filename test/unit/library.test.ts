import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/engine/clock.js";
import { PriorityRefresher } from "../../src/engine/refresher.js";
import { Cache } from "../../src/library.js";

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("Cache (library)", () => {
  it("getOrSet runs the factory once for concurrent callers and caches the result", async () => {
    const cache = Cache.builder().build();
    let calls = 0;
    const factory = async (key: string) => {
      calls++;
      await flush();
      return `made-${key}`;
    };
    const all = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet("users", "42", factory)));
    expect(calls).toBe(1);
    expect(new Set(all.map((r) => new TextDecoder().decode(r.value)))).toEqual(new Set(["made-42"]));
    expect((await cache.getOrSet("users", "42", factory)).source).toBe("l1");
    expect(calls).toBe(1);
    expect(cache.manager.stats("users")?.loadsCollapsed).toBe(99);
  });

  it("getJson / setJson / getOrSetJson round-trip objects", async () => {
    const cache = Cache.builder().build();
    await cache.setJson("users", "1", { name: "Ada", tags: ["x"] });
    expect(await cache.getJson<{ name: string }>("users", "1")).toEqual({ name: "Ada", tags: ["x"] });
    expect(await cache.getJson("users", "missing")).toBeUndefined();
    const made = await cache.getOrSetJson("users", "2", async () => ({ name: "Grace" }));
    expect(made).toEqual({ name: "Grace" });
    expect(await cache.getOrSetJson("users", "3", async () => undefined)).toBeUndefined();
  });

  it("getOrSetWithFallback answers the fallback when the factory fails", async () => {
    const cache = Cache.builder().build();
    const answer = await cache.getOrSetWithFallback(
      "users",
      "9",
      async () => {
        throw new Error("db down");
      },
      "anonymous",
    );
    expect(answer).toMatchObject({ found: true, source: "fallback" });
    expect(new TextDecoder().decode(answer.value)).toBe("anonymous");
  });

  it("the builder composes namespace policies and loaders", async () => {
    const clock = new ManualClock(0);
    const cache = Cache.builder()
      .withClock(clock)
      .l1({ maxBytes: "8MiB", maxEntries: 1000 })
      .defaultPolicy((p) => p.ttl("10m").jitter(0))
      .namespace("products", (p) => p.ttl("30s").staleWhileRevalidate("1m"))
      .loader("products", async (key) => `product-${key}`)
      .build();
    const first = await cache.get("products", "7");
    expect(first).toMatchObject({ source: "loader", ttlRemainingMs: 30_000 });
    expect(cache.manager.policies.get("users").l1.ttlMs).toBe(600_000);
    clock.advance(45_000);
    expect(await cache.get("products", "7")).toMatchObject({ stale: true, source: "l1" });
    cache.close();
  });
});

describe("PriorityRefresher", () => {
  it("renews hot keys close to going stale, in bulk, within the budget", async () => {
    const clock = new ManualClock(0);
    const bulkCalls: string[][] = [];
    const cache = Cache.builder()
      .withClock(clock)
      .defaultPolicy((p) => p.ttl("60s").jitter(0).priorityRefresh(3, { maxConcurrent: 1, maxPerSecond: 100 }))
      .loader("p", {
        load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(`${key}@${clock.now()}`) }),
        loadMany: async (_ns, keys) => {
          bulkCalls.push([...keys]);
          return new Map(keys.map((k) => [k, { found: true, value: new TextEncoder().encode(`${k}@${clock.now()}`) }]));
        },
      })
      .build();
    for (const key of ["a", "b", "c", "d", "e"]) await cache.get("p", key);
    for (let i = 0; i < 20; i++) for (const key of ["a", "b", "c"]) await cache.get("p", key);
    const refresher = new PriorityRefresher(cache.manager, { intervalMs: 1_000 });
    expect(await refresher.tick()).toBe(0); // nothing close to stale yet
    clock.advance(59_000);
    expect(await refresher.tick()).toBe(3);
    expect(bulkCalls).toHaveLength(1);
    expect([...(bulkCalls[0] ?? [])].sort()).toEqual(["a", "b", "c"]);
    const renewed = await cache.get("p", "a");
    expect(renewed).toMatchObject({ stale: false, source: "l1" });
    expect(new TextDecoder().decode(renewed.value)).toBe("a@59000");
    cache.close();
  });
});
