import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { loaderFunction } from "../../../src/engine/loader.js";
import { Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { ChaosLayer } from "../../../src/testing/chaos-layer.js";
import { layerContract } from "../../../src/testing/layer-contract.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

// Without faults the wrapper is the layer it wraps: the same contract holds.
const store = new SharedMemoryStore();
layerContract("chaos over shared memory (no faults)", {
  shared: true,
  coordinates: true,
  announcesReleases: true,
  create: async () => new ChaosLayer(new SharedMemoryLayer(store)),
  second: async () => new ChaosLayer(new SharedMemoryLayer(store)),
  dispose: async () => {},
});

const text = (value: Uint8Array | undefined) => new TextDecoder().decode(value);

function cacheOver(chaos: ChaosLayer, clock: ManualClock) {
  let loads = 0;
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
    l2: chaos,
    clock,
    scheduler: clock,
    loaderFor: () =>
      loaderFunction(async (_ns, key) => {
        loads++;
        return { found: true, value: new TextEncoder().encode(`${key}@${loads}`) };
      }),
  });
  return { manager, loads: () => loads };
}

describe("ChaosLayer", () => {
  it("fails every call while failing: the engine serves from the loader, and L2 has nothing", async () => {
    const clock = new ManualClock(1_000_000);
    const shared = new SharedMemoryStore(clock);
    const chaos = new ChaosLayer(new SharedMemoryLayer(shared), clock);
    const { manager, loads } = cacheOver(chaos, clock);
    chaos.alwaysFail();
    expect(text((await manager.get("n", "k", { bypassL1: true })).value)).toBe("k@1");
    expect(chaos.injectedFailures).toBeGreaterThan(0);
    await expect(chaos.get("n", "k")).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(chaos.status().up).toBe(false);
    chaos.neverFail();
    expect(await chaos.peek("n", "k")).toBeUndefined();
    expect(text((await manager.get("n", "k", { bypassL1: true })).value)).toBe("k@2");
    expect(text((await chaos.peek("n", "k"))?.value)).toBe("k@2");
    expect(loads()).toBe(2);
  });

  it("delays every call on the scheduler", async () => {
    const clock = new ManualClock(1_000_000);
    const chaos = new ChaosLayer(new SharedMemoryLayer(new SharedMemoryStore(clock)), clock);
    chaos.alwaysDelay(500);
    let answered = false;
    const read = chaos.get("n", "k").then(() => {
      answered = true;
    });
    await Promise.resolve();
    clock.advance(499);
    await Promise.resolve();
    expect(answered).toBe(false);
    clock.advance(1);
    await read;
    expect(answered).toBe(true);
    chaos.neverDelay();
    expect(await chaos.get("n", "k")).toBeUndefined();
  });
});
