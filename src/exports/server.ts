/**
 * `multilayer-cache/server`: the whole service (gRPC and HTTP ports, Redis, Kafka, metrics)
 * started from a configuration, as `mlcache serve` does.
 *
 *   import { loadConfig, startService } from "multilayer-cache/server";
 *   const service = await startService(loadConfig("mlcache.yaml"));
 */

export { type Config, loadConfig, parseConfig } from "../config/config.js";
export { type RunningService, startService } from "../server.js";
