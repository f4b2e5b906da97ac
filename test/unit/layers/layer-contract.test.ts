// The layer contract for the layers that need no outside service: L1 and the in-memory shared
// L2 of `src/testing` (Redis runs the same suite in the integration project).
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { layerContract } from "../../../src/testing/layer-contract.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

layerContract("memory (W-TinyLFU)", {
  shared: false,
  create: async () => new MemoryLayer({ maxBytes: 16 * 1024 * 1024, maxEntries: 10_000 }),
  dispose: async () => {},
});

const store = new SharedMemoryStore();
layerContract("shared memory (testing)", {
  shared: true,
  coordinates: true,
  announcesReleases: true,
  create: async () => new SharedMemoryLayer(store),
  second: async () => new SharedMemoryLayer(store),
  dispose: async () => {},
});
