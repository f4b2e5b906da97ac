/**
 * `multilayer-cache/testing`: check a layer of your own against the engine's expectations.
 *
 *   import { ChaosLayer, layerContract, SharedMemoryLayer, SharedMemoryStore } from "multilayer-cache/testing";
 *
 * - `layerContract(name, factory)`: the contract suite every layer here passes (vitest).
 * - `SharedMemoryStore` / `SharedMemoryLayer`: an in-memory asynchronous L2 with the Redis
 *   layer's semantics (versions, tombstones, stamps, leases), for engine tests without Redis.
 * - `ChaosLayer`: wraps a layer and injects failures and delays.
 */

export { ChaosLayer } from "../testing/chaos-layer.js";
export { type LayerFactory, layerContract } from "../testing/layer-contract.js";
export { SharedMemoryLayer, SharedMemoryStore } from "../testing/shared-memory-layer.js";
