/**
 * `multilayer-cache/redis`: the Redis L2 for the library's engine (single node, Cluster or
 * Sentinel), with its breaker, bounded commands, write queue, stamps and fleet leases.
 *
 *   import { RedisLayer } from "multilayer-cache/redis";
 *   const l2 = new RedisLayer({ url: "redis://127.0.0.1:6379", keyPrefix: "app:" });
 */

export { RedisLayer, type RedisLayerOptions } from "../layers/redis/redis-layer.js";
