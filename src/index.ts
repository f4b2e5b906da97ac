/**
 * MultilayerCache as a library: the layered engine without the service around it.
 *
 *   import { Cache } from "multilayer-cache";
 *   const cache = Cache.builder().namespace("users", (p) => p.ttl("10m").staleWhileRevalidate("1m")).build();
 */

export { CacheManager, type CacheManagerOptions } from "./engine/cache-manager.js";
export { type Clock, ManualClock, systemClock } from "./engine/clock.js";
export { type Entry, EntryFlags } from "./engine/entry.js";
export type { ServiceHealth } from "./engine/health.js";
export type { KeyFrequency, KeyPopularity, L1Layer, Layer, LayerCounters, RemovalCause } from "./engine/layer.js";
export { type LoadContext, type Loader, type LoadResult, loaderFunction } from "./engine/loader.js";
export { defaultSettings, type NamespaceSettings, type WriteMode } from "./engine/policy.js";
export { PolicyStore } from "./engine/policy-store.js";
export { PriorityRefresher } from "./engine/refresher.js";
export type * from "./engine/types.js";
export { CacheError, Status, type StatusCode } from "./errors.js";
export { WTinyLfuCache } from "./layers/memory/index.js";
export { MemoryLayer, type MemoryLayerOptions } from "./layers/memory-layer.js";
export { Cache, CacheBuilder, type Factory, PolicyBuilder, type Produced } from "./library.js";
