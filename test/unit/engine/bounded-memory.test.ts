import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { defaultSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

describe("nothing grows without bound", () => {
  it("2 million distinct keys through the read path leave maps and heap bounded", async () => {
    const settings = defaultSettings();
    settings.failSafe.maxStaleMs = 0;
    const manager = new CacheManager({
      l1: new MemoryLayer({ maxBytes: 8 * 1024 * 1024, maxEntries: 20_000 }),
      policies: new PolicyStore(settings),
      loaderFor: () => ({ load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(key) }) }),
    });
    const batch = 10_000;
    const total = 2_000_000;
    let baseline = 0;
    for (let start = 0; start < total; start += batch) {
      const reads: Promise<unknown>[] = [];
      for (let i = start; i < start + batch; i++) reads.push(manager.get("p", `key-${i}`));
      await Promise.all(reads);
      if (start === 200_000) baseline = heapMiB();
      if (start % 500_000 === 0) await manager.invalidate("p", { tags: [`tag-${start}`], prefix: `key-${start}:` });
    }
    const after = heapMiB();
    expect(manager.inFlightCount).toBe(0);
    expect(manager.namespaceNames()).toEqual(["p"]);
    const l1 = manager.layerCounters("l1", "p");
    expect(l1?.entries).toBeLessThanOrEqual(20_000);
    expect(l1?.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(manager.stats("p")?.loadSuccesses).toBe(total);
    // After warm-up the heap must not keep growing with the number of keys seen.
    expect(after - baseline).toBeLessThan(32);
  }, 120_000);
});
