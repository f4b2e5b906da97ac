/**
 * Coalescing: N concurrent gets of one missing key. The engine should call the loader once;
 * the peer is the usual cache-aside on lru-cache (check, miss, load, set), which calls it
 * N times. Prints one JSON line per implementation and a summary line.
 *
 *   npm run bench:coalescing -- --requests 10000
 */
import { parseArgs } from "node:util";
import { LRUCache } from "lru-cache";
import { CacheManager } from "../src/engine/cache-manager.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "10000" } } });
const requests = Number(values.requests);
const slowLoad = async (key: string) => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return new TextEncoder().encode(`value-of-${key}`);
};

async function engine(): Promise<{ loaderCalls: number; answered: number }> {
  let loaderCalls = 0;
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 * 1024 * 1024, maxEntries: 100_000 }),
    loaderFor: () => ({
      load: async (_ns, key) => {
        loaderCalls++;
        return { found: true, value: await slowLoad(key) };
      },
    }),
  });
  const answers = await Promise.all(Array.from({ length: requests }, () => manager.get("bench", "hot")));
  return { loaderCalls, answered: answers.filter((a) => a.found).length };
}

async function cacheAside(): Promise<{ loaderCalls: number; answered: number }> {
  let loaderCalls = 0;
  const cache = new LRUCache<string, Uint8Array>({ max: 100_000 });
  const get = async (key: string) => {
    const hit = cache.get(key);
    if (hit) return hit;
    loaderCalls++;
    const value = await slowLoad(key);
    cache.set(key, value);
    return value;
  };
  const answers = await Promise.all(Array.from({ length: requests }, () => get("hot")));
  return { loaderCalls, answered: answers.length };
}

const ours = await engine();
const peer = await cacheAside();
console.log(JSON.stringify({ bench: "coalescing", impl: "mlcache", requests, ...ours }));
console.log(JSON.stringify({ bench: "coalescing", impl: "lru-cache cache-aside", requests, ...peer }));
console.log(
  JSON.stringify({
    bench: "coalescing",
    summary: `${requests} concurrent gets of one missing key: ${ours.loaderCalls} loader call(s) vs ${peer.loaderCalls}`,
    target: "1 loader call",
    met: ours.loaderCalls === 1 && ours.answered === requests,
  }),
);
