import { Code, ConnectError } from "@connectrpc/connect";
import { type Config, loadKeyRing, loadRedisConnection } from "./config/config.js";
import { applyPolicyEvent } from "./config/policy-changes.js";
import { namespaceEncryption } from "./crypto/key-ring.js";
import { CacheManager } from "./engine/cache-manager.js";
import type { Clock } from "./engine/clock.js";
import type { InvalidationNotice } from "./engine/events.js";
import type { Loader } from "./engine/loader.js";
import { PolicyStore } from "./engine/policy-store.js";
import { PriorityRefresher } from "./engine/refresher.js";
import type { Writer } from "./engine/writer.js";
import { ServiceEvents } from "./events/service-events.js";
import { AdminService } from "./gen/mlcache/v1/admin_pb.js";
import { CacheService } from "./gen/mlcache/v1/cache_pb.js";
import type { PolicyEvent } from "./gen/mlcache/v1/events_pb.js";
import type { DependencyStatus } from "./gen/mlcache/v1/stats_pb.js";
import { MemoryLayer } from "./layers/memory-layer.js";
import { RedisHotKeyBoard } from "./layers/redis/hot-key-board.js";
import { RedisLayer } from "./layers/redis/redis-layer.js";
import { SealedLayer } from "./layers/sealed-layer.js";
import { originUserAgent } from "./loaders/origin.js";
import { OriginRegistry } from "./loaders/registry.js";
import { createLogger, type Logger } from "./logger.js";
import { accessControl } from "./rpc/access.js";
import { adminService } from "./rpc/admin-service.js";
import { cacheService } from "./rpc/cache-service.js";
import { dependencyStatus } from "./rpc/convert.js";
import { dashboardHandler } from "./rpc/dashboard.js";
import { bind, startGrpcServer } from "./rpc/grpc-server.js";
import { startHttpServer } from "./rpc/http-server.js";
import { errorInterceptor, type Interceptor, intercept, startGate } from "./rpc/interceptors.js";
import { metricsInterceptor } from "./rpc/metrics-interceptor.js";
import { rateLimitInterceptor } from "./rpc/rate-limits.js";
import { TlsReloader } from "./rpc/tls-reloader.js";
import { tracingInterceptor } from "./rpc/tracing-interceptor.js";
import { decodeLeniently } from "./rpc/validate.js";
import { Metrics } from "./telemetry/metrics.js";
import { type Otel, resolveOtelSettings, startOtel } from "./telemetry/otel.js";
import { createTelemetry } from "./telemetry/telemetry.js";
import { onceEach, tracedLoader, tracedWriter, tracingSink } from "./telemetry/tracing.js";

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
export async function startService(
  config: Config,
  options: {
    logger?: Logger;
    /** Loaders by namespace supplied in code (library embedding, tests); they win over config. */
    loaderFor?: (namespace: string) => Loader | undefined;
    /** Writers by namespace supplied in code; they win over config. */
    writerFor?: (namespace: string) => Writer | undefined;
    /** The telemetry's clock (read times of the usage analysis, anomalies); tests replay traces in synthetic time. */
    telemetryClock?: Clock;
  } = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger(config.log.level);
  /** Aborted at the end of the shutdown grace: calls in flight end with its UNAVAILABLE. */
  const drain = new AbortController();
  decodeLeniently();
  // Read and checked before anything opens: a bad pair at startup refuses to start.
  const tlsFiles = config.server.tls;
  const tls = tlsFiles
    ? new TlsReloader(tlsFiles, {
        intervalMs: tlsFiles.reloadInterval,
        onReload: (certificate) => logger.info({ certificate }, "TLS certificate reloaded; new connections get it"),
        onFailure: (error) =>
          logger.error(
            { err: error },
            "TLS files changed but cannot be used; still serving the previous certificate (fix the files: they are read again when they change)",
          ),
      })
    : undefined;
  const access = accessControl(config, logger);
  const shutdown = new AbortController();
  const keyRing = loadKeyRing(config);
  // Password and TLS files are read now: a missing one stops the start, naming the field.
  const redis = config.redis && { ...loadRedisConnection(config), keyPrefix: config.redis.keyPrefix };
  const policies = new PolicyStore(config.defaults, config.namespaces, config.limits.maxNamespaces, (settings) =>
    settings.encryptionKeyId && !keyRing?.has(settings.encryptionKeyId)
      ? [
          `encryptionKeyId: "${settings.encryptionKeyId}" is not a key of this instance's key ring (encryption.keys); keys are added in the configuration, never through the API`,
        ]
      : [],
  );
  const encryption = keyRing
    ? namespaceEncryption(keyRing, (namespace) => policies.get(namespace).encryptionKeyId)
    : undefined;
  // The handler reaches the manager built below; events only arrive after start().
  let apply: (ns: string, notice: InvalidationNotice, external: boolean) => Promise<unknown> = async () => {};
  let applyPolicy: (event: PolicyEvent) => void = () => {};
  const events = config.kafka
    ? new ServiceEvents(config.kafka, {
        instanceId: config.instanceId,
        handler: async (ns, notice, external) => {
          await apply(ns, notice, external);
        },
        applyPolicy: (event) => applyPolicy(event),
        propagationBoundMs: config.consistency.propagationBound,
        logger,
        encryption,
      })
    : undefined;
  const origins = new OriginRegistry({
    configured: config.origins,
    allowedTargets: config.origins.allowedTargets,
    ...(events ? { publishDeadLetter: events.deadLetter } : {}),
    userAgent: originUserAgent(config.instanceId),
  });
  const l2 =
    config.redis && redis
      ? new RedisLayer({
          ...redis,
          commandTimeoutMs: config.redis.commandTimeout,
          maxReadsPerSecond: config.redis.maxReadsPerSecond,
          encryption,
          logger,
        })
      : undefined;
  if (l2) {
    // Start with L2 when it is there; without it the instance still serves (degraded).
    await l2.waitUntilReady(3_000).catch((error: unknown) => {
      logger.warn({ err: error }, "redis is not reachable yet: serving from L1 and loaders until it is");
    });
  }
  const telemetry = createTelemetry({
    instanceId: config.instanceId,
    logger,
    config: config.telemetry,
    // The Redis board has the shape telemetry's HotKeyBoard asks for (see its file).
    hotKeyBoard: redis ? (settings) => new RedisHotKeyBoard({ ...redis, ...settings }) : undefined,
    ...(options.telemetryClock ? { clock: options.telemetryClock } : {}),
  });
  // OpenTelemetry (off unless telemetry.otel or OTEL_EXPORTER_OTLP_*ENDPOINT): when off, nothing
  // below is wrapped and no SDK code runs on any call.
  const otelSettings = resolveOtelSettings(config.telemetry?.otel);
  let otel: Otel | undefined;
  const traceLoader = onceEach<Loader>((loader) =>
    otel ? tracedLoader(loader, otel.tracing, { breakerState: (ns) => origins.breakerState(ns) }) : loader,
  );
  const traceWriter = onceEach<Writer>((writer) =>
    otel ? tracedWriter(writer, otel.tracing, { breakerState: (ns) => origins.breakerState(ns) }) : writer,
  );
  const memory = new MemoryLayer({ maxBytes: config.l1.maxBytes, maxEntries: config.l1.maxEntries });
  const manager = new CacheManager({
    statsSink: otelSettings ? tracingSink(telemetry.statsSink) : telemetry.statsSink,
    l1: encryption && config.encryption?.l1 ? new SealedLayer(memory, encryption) : memory,
    ...(l2 ? { l2 } : {}),
    loaderFor: otelSettings
      ? (namespace, rule) => traceLoader(options.loaderFor?.(namespace) ?? origins.loaderFor(namespace, rule))
      : (namespace, rule) => options.loaderFor?.(namespace) ?? origins.loaderFor(namespace, rule),
    writerFor: otelSettings
      ? (namespace, rule) => traceWriter(options.writerFor?.(namespace) ?? origins.writerFor(namespace, rule))
      : (namespace, rule) => options.writerFor?.(namespace) ?? origins.writerFor(namespace, rule),
    fallbackFor: (namespace, rule) => origins.fallbackFor(namespace, rule),
    // With Kafka, L1 is used only while this instance can confirm it heard every invalidation.
    ...(events ? { events, l1Trust: events.trust } : {}),
    policies,
    maxNamespaces: config.limits.maxNamespaces,
    onBackgroundError: (error, namespace, key) =>
      logger.warn({ err: error, namespace, key }, "background refresh failed"),
  });
  apply = (ns, notice, external) => manager.applyInvalidation(ns, notice, external);
  applyPolicy = (event) => applyPolicyEvent(policies, origins, event);
  const dependencies = () => [...manager.dependencies(), ...(events ? [events.status()] : [])];
  const refresher = new PriorityRefresher(manager);
  refresher.start();
  const metrics = new Metrics(manager);
  try {
    otel = otelSettings && startOtel(otelSettings, { registry: metrics.registry, logger });
  } catch (error) {
    // Another instance in this process (library embedding, tests) runs the one SDK already.
    logger.warn({ err: error }, "OpenTelemetry not started for this instance: it runs without tracing");
  }
  if (events) metrics.trackL1Trust(events.trust);
  // A write queued while Redis was unreachable waits until this instance is caught up with the
  // fleet's invalidations: one it has not heard of yet would otherwise be overtaken by it.
  if (events && l2) l2.holdQueuedWritesWhile(() => !events.trust.trusted);
  if (tls) metrics.trackTlsReloads(tls);
  telemetry.start(manager, {
    registry: metrics.registry,
    breakerState: (namespace) => origins.breakerState(namespace),
  });
  // Calls wait for the first replay of what the fleet decided (policies, missed invalidations).
  const started = { open: !events };
  const gate = startGate(started, () => events?.readiness().detail ?? "");
  const countRateLimited = metrics.trackRateLimits(() => l2?.readsRateLimited ?? 0);
  const rates = config.limits.rate;
  const limiting =
    rates || access.credentialRates.size > 0
      ? [
          rateLimitInterceptor({
            perCredential: rates?.perCredential,
            perNamespace: rates?.perNamespace,
            credentials: access.credentialRates,
            onLimited: countRateLimited,
          }),
        ]
      : [];
  const interceptors: Interceptor[] = [
    ...(otel ? [tracingInterceptor({ ...otel.tracing, breakerState: (ns) => origins.breakerState(ns) })] : []),
    metricsInterceptor(metrics.registry),
    errorInterceptor,
    gate,
    ...access.interceptors,
    ...limiting,
  ];
  const services = [
    bind(
      CacheService,
      intercept(
        CacheService,
        cacheService({
          manager,
          limits: config.limits,
          maxWatchers: config.limits.maxWatchers,
          instanceId: config.instanceId,
          streamsStop: shutdown.signal,
          telemetry,
          deadLetters: (namespace) => origins.deadLetters(namespace),
          breakerState: (namespace) => origins.breakerState(namespace),
          dependencies: () => dependencies().map(dependencyStatus) as DependencyStatus[],
        }),
        interceptors,
      ),
    ),
    bind(
      AdminService,
      intercept(
        AdminService,
        adminService({
          manager,
          instanceId: config.instanceId,
          origins,
          telemetry,
          limits: config.limits,
          adviceApply: config.telemetry?.usage?.apply === true,
          logger,
          ...(events ? { policyLog: events.policies, caughtUp: () => events.trust.trusted } : {}),
        }),
        interceptors,
      ),
    ),
  ];

  let ready = false;
  const grpc = await startGrpcServer({
    host: config.server.host,
    port: config.server.grpcPort,
    services,
    maxMessageBytes: config.server.maxMessageBytes,
    tls,
    reflectionGuard: access.reflectionGuard,
    shutdownSignal: drain.signal,
    connections: config.server.connections,
  });
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer({
      host: config.server.host,
      port: config.server.httpPort,
      services,
      maxMessageBytes: config.server.maxMessageBytes,
      registry: metrics.registry,
      ready: () => {
        const caughtUp = events?.readiness() ?? { ready: true, detail: "" };
        if (!caughtUp.ready) return caughtUp;
        if (!ready) return { ready, detail: "starting" };
        // Degraded dependencies do not make the instance unready: it serves from L1 and loaders.
        const degraded = dependencies().filter((d) => !d.up);
        return {
          ready,
          detail: degraded.length
            ? `ready, degraded: ${degraded.map((d) => `${d.name} ${d.detail}`).join("; ")}`
            : "ready",
        };
      },
      tls,
      metricsGuard: access.metricsGuard,
      shutdownSignal: drain.signal,
      connections: config.server.connections,
      dashboard: config.server.dashboard ? dashboardHandler() : undefined,
    });
  } catch (error) {
    tls?.stop();
    refresher.stop();
    await telemetry.close();
    await otel?.close();
    await l2?.close();
    await events?.close();
    await grpc.close(0);
    throw error;
  }
  // Ports are open (not ready) while the instance replays what it missed and reads the policy
  // log; reads meanwhile skip L1 (not trusted yet). Bounded: past it, readiness says why.
  if (events) {
    void events.replayedOnce().then(() => {
      started.open = true;
      grpc.health.setStatus("", "SERVING");
    });
    if (!started.open) grpc.health.setStatus("", "NOT_SERVING");
  }
  await events?.start();
  tls?.start();
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
        tls?.stop();
        // At the end of the grace, calls still running answer UNAVAILABLE and loads still running
        // are abandoned (their origin calls aborted); the ports then close a moment later.
        const grace = config.server.shutdownGrace;
        const cut = setTimeout(() => {
          drain.abort(new ConnectError("the instance is shutting down; retry on another instance", Code.Unavailable));
          manager.close();
        }, grace);
        await Promise.all([grpc.close(grace + 500), http.close(grace + 500)]);
        clearTimeout(cut);
        manager.close();
        await telemetry.close();
        await otel?.close();
        await l2?.close();
        await events?.close();
        origins.closeAll();
        logger.info("mlcache stopped");
      })();
      return closing;
    },
  };
}
