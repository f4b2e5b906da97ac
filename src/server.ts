import type { Config } from "./config/config.js";
import { CacheManager } from "./engine/cache-manager.js";
import { PolicyStore } from "./engine/policy-store.js";
import { PriorityRefresher } from "./engine/refresher.js";
import { AdminService } from "./gen/mlcache/v1/admin_pb.js";
import { CacheService } from "./gen/mlcache/v1/cache_pb.js";
import { MemoryLayer } from "./layers/memory-layer.js";
import { createLogger, type Logger } from "./logger.js";
import { adminService } from "./rpc/admin-service.js";
import { cacheService } from "./rpc/cache-service.js";
import { bind, startGrpcServer } from "./rpc/grpc-server.js";
import { startHttpServer } from "./rpc/http-server.js";
import { errorInterceptor, type Interceptor, intercept } from "./rpc/interceptors.js";
import { Metrics } from "./telemetry/metrics.js";

/** A running MultilayerCache instance. */
export interface RunningService {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly manager: CacheManager;
  readonly config: Config;
  /** Graceful stop: health NOT_SERVING, in-flight calls finish (up to the grace), ports close. */
  close(): Promise<void>;
}

/**
 * Starts an instance from a configuration: the engine, then the gRPC and HTTP ports.
 *
 *   const service = await startService(loadConfig());
 */
export async function startService(config: Config, options: { logger?: Logger } = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.log.level);
  const shutdown = new AbortController();
  const policies = new PolicyStore(config.defaults, config.namespaces);
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: config.l1.maxBytes, maxEntries: config.l1.maxEntries }),
    policies,
    maxNamespaces: config.limits.maxNamespaces,
    onBackgroundError: (error, namespace, key) =>
      logger.warn({ err: error, namespace, key }, "background refresh failed"),
  });
  const refresher = new PriorityRefresher(manager);
  refresher.start();
  const metrics = new Metrics(manager);
  const interceptors: Interceptor[] = [metrics.interceptor(), errorInterceptor];
  const services = [
    bind(
      CacheService,
      intercept(
        CacheService,
        cacheService({ manager, limits: config.limits, instanceId: config.instanceId, streamsStop: shutdown.signal }),
        interceptors,
      ),
    ),
    bind(AdminService, intercept(AdminService, adminService({ manager, instanceId: config.instanceId }), interceptors)),
  ];

  let ready = false;
  const grpc = await startGrpcServer({
    host: config.server.host,
    port: config.server.grpcPort,
    services,
    maxMessageBytes: config.server.maxMessageBytes,
    tls: config.server.tls,
  });
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer({
      host: config.server.host,
      port: config.server.httpPort,
      services,
      maxMessageBytes: config.server.maxMessageBytes,
      registry: metrics.registry,
      ready: () => ({ ready, detail: ready ? "ready" : "not ready" }),
      tls: config.server.tls,
    });
  } catch (error) {
    refresher.stop();
    await grpc.close(0);
    throw error;
  }
  ready = true;
  logger.info(
    { grpcPort: grpc.port, httpPort: http.port, host: config.server.host, instanceId: config.instanceId },
    "mlcache serving",
  );

  let closing: Promise<void> | undefined;
  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    manager,
    config,
    close() {
      closing ??= (async () => {
        ready = false;
        logger.info("mlcache shutting down");
        // Streams (WatchStats) never end on their own: end them now; unary calls may finish.
        shutdown.abort();
        refresher.stop();
        await Promise.all([grpc.close(config.server.shutdownGrace), http.close(config.server.shutdownGrace)]);
        logger.info("mlcache stopped");
      })();
      return closing;
    },
  };
}
