import { RedisLayer } from "../../src/layers/redis/redis-layer.js";
import { layerContract } from "../../src/testing/layer-contract.js";
import { requireEnv } from "../support/env.js";

const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const CLUSTER_NODES = requireEnv("MLCACHE_REDIS_CLUSTER_NODES").split(",");

async function redis(options: ConstructorParameters<typeof RedisLayer>[0]): Promise<RedisLayer> {
  const layer = new RedisLayer({ keyPrefix: "contract:", ...options });
  await layer.waitUntilReady();
  return layer;
}

layerContract("redis single node", {
  shared: true,
  coordinates: true,
  announcesReleases: true,
  create: () => redis({ url: REDIS_URL }),
  second: () => redis({ url: REDIS_URL }),
  dispose: async (layer) => (layer as RedisLayer).close(),
});

layerContract("redis cluster", {
  shared: true,
  coordinates: true,
  announcesReleases: true,
  create: () => redis({ clusterNodes: CLUSTER_NODES }),
  second: () => redis({ clusterNodes: CLUSTER_NODES }),
  dispose: async (layer) => (layer as RedisLayer).close(),
});
