import { setTimeout as sleep } from "node:timers/promises";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { CacheManager, ReadOptions as EngineReadOptions } from "../engine/cache-manager.js";
import type { BreakerState } from "../engine/health.js";
import type { L1Reason as EngineL1Reason } from "../engine/promotion.js";
import { CacheError, Status } from "../errors.js";
import type { CacheService, ReadOptions } from "../gen/mlcache/v1/cache_pb.js";
import { CacheLayer, WriteMode } from "../gen/mlcache/v1/common_pb.js";
import { type DependencyStatus, L1Reason, type StatsSnapshot } from "../gen/mlcache/v1/stats_pb.js";
import type { DeadLetterRecord } from "../loaders/dead-letters.js";
import type { TelemetryView } from "../telemetry/telemetry.js";
import { apiWriteMode, buildSnapshot, engineWriteMode, itemFrom } from "./convert.js";
import { keyUsageMessage } from "./usage-convert.js";
import {
  checkDuration,
  checkEnum,
  checkKey,
  checkKeys,
  checkNamespace,
  checkTags,
  namespaceOf,
  type RequestLimits,
} from "./validate.js";

/** What the CacheService implementation needs from the rest of the process. */
export interface CacheServiceDeps {
  manager: CacheManager;
  limits: RequestLimits;
  instanceId: string;
  /** Aborted at shutdown: endless streams (WatchStats) end so the server can close. */
  streamsStop?: AbortSignal;
  /** Keys whose loads keep failing (Inspect). */
  deadLetters?: (namespace?: string) => DeadLetterRecord[];
  /** Breaker state of a namespace's loader, when it has one. */
  breakerState?: (namespace: string) => BreakerState | undefined;
  /** Health of Redis, Kafka, loaders… for stats snapshots. */
  dependencies?: () => DependencyStatus[];
  /** Top-K hot keys, per-key stats, anomalies and fleet-wide hot keys; without it hot keys come from the L1 sketch. */
  telemetry?: TelemetryView;
  /** WatchStats subscribers at once, at most (default 256); past it RESOURCE_EXHAUSTED. */
  maxWatchers?: number;
}

/** How long a built snapshot is handed to every subscriber asking for the same view. */
const SHARED_SNAPSHOT_MS = 100;

const layerNames = { [CacheLayer.L1]: "CACHE_LAYER_L1", [CacheLayer.L2]: "CACHE_LAYER_L2" };
const writeModeNames = {
  [WriteMode.UNSPECIFIED]: "WRITE_MODE_UNSPECIFIED",
  [WriteMode.CACHE_ONLY]: "WRITE_MODE_CACHE_ONLY",
  [WriteMode.WRITE_THROUGH]: "WRITE_MODE_WRITE_THROUGH",
  [WriteMode.WRITE_BEHIND]: "WRITE_MODE_WRITE_BEHIND",
};

const L1_REASONS: Record<EngineL1Reason, L1Reason> = {
  present: L1Reason.PRESENT,
  unknown: L1Reason.UNKNOWN,
  disabled: L1Reason.DISABLED,
  "rule-never": L1Reason.RULE_NEVER,
  "below-hits": L1Reason.BELOW_HITS,
  "rejected-by-admission": L1Reason.REJECTED_BY_ADMISSION,
  evicted: L1Reason.EVICTED,
  expired: L1Reason.EXPIRED,
  removed: L1Reason.REMOVED,
};

/** Hot keys as the API shows them; `instances` when the source does not say. */
function hotKeyMessages(
  keys: readonly { namespace: string; key: string; frequency: number; instances?: number }[],
  instances: number,
) {
  return keys.map((k) => ({
    namespace: k.namespace,
    key: k.key,
    frequency: BigInt(Math.round(k.frequency)),
    instances: k.instances ?? instances,
  }));
}

/**
 * Engine read options whose signal is the call's, read only when the engine waits (a load): an
 * L1 hit never builds the call's signal. The other fields are set only when the request asks.
 */
class CallReadOptions implements EngineReadOptions {
  declare allowStale?: boolean;
  declare maxAgeMs?: number;
  declare bypassL1?: boolean;
  declare bypassL2?: boolean;
  declare skipLoader?: boolean;
  declare forceRefresh?: boolean;
  constructor(private readonly context: HandlerContext) {}
  get signal(): AbortSignal {
    return this.context.signal;
  }
}

function readOptions(options: ReadOptions | undefined, context: HandlerContext): EngineReadOptions {
  const out = new CallReadOptions(context);
  if (!options) return out;
  const layers = options.bypassLayers.map((layer, i) =>
    checkEnum(layer, [CacheLayer.L1, CacheLayer.L2], `options.bypass_layers[${i}]`, layerNames),
  );
  if (options.allowStale !== undefined) out.allowStale = options.allowStale;
  const maxAge = checkDuration(options.maxAge, "options.max_age");
  if (maxAge) out.maxAgeMs = maxAge;
  if (layers.includes(CacheLayer.L1)) out.bypassL1 = true;
  if (layers.includes(CacheLayer.L2)) out.bypassL2 = true;
  if (options.skipLoader) out.skipLoader = true;
  if (options.forceRefresh) out.forceRefresh = true;
  return out;
}

/**
 * What to report for a handler body's failure: when the caller's deadline or cancellation is
 * what ended it, that (DEADLINE_EXCEEDED / CANCELLED) rather than whatever the engine saw.
 */
function callError(context: HandlerContext, error: unknown): unknown {
  if (context.signal.aborted && context.signal.reason !== undefined) return context.signal.reason;
  return error;
}

/** Runs a handler body, failing with {@link callError}. */
async function guarded<T>(context: HandlerContext, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw callError(context, error);
  }
}

/**
 * The CacheService, served on both ports.
 *
 *   router.service(CacheService, cacheService({ manager, limits, instanceId }));
 */
export function cacheService(deps: CacheServiceDeps): ServiceImpl<typeof CacheService> {
  const { manager, limits, telemetry } = deps;
  const maxWatchers = deps.maxWatchers ?? 256;
  let watchers = 0;
  // Subscribers asking for the same view within SHARED_SNAPSHOT_MS share one snapshot: many
  // subscribers cost one build per view and interval, not one each.
  const shared = new Map<string, { builtAt: number; snapshot: StatsSnapshot }>();
  const snapshotFor = (namespaces: string[], hotKeys: number, now: number): StatsSnapshot => {
    const view = `${hotKeys}\u0000${namespaces.join("\u0000")}`;
    const cached = shared.get(view);
    if (cached && now - cached.builtAt < SHARED_SNAPSHOT_MS) return cached.snapshot;
    if (shared.size > 1000) shared.clear(); // views are few; never let odd ones pile up
    const snapshot = buildSnapshot(
      manager,
      deps.instanceId,
      {
        namespaces,
        hotKeys,
        ...(deps.breakerState ? { breakerState: deps.breakerState } : {}),
        ...(telemetry
          ? {
              hotKeysOf: (n: number, ns: string) => telemetry.hotKeys(n, ns),
              anomalies: telemetry.anomalies(namespaces),
            }
          : {}),
      },
      deps.dependencies?.() ?? [],
    );
    shared.set(view, { builtAt: now, snapshot });
    return snapshot;
  };
  /** One subscriber's stream: a snapshot now, then one per interval, until it or the service stops. */
  async function* watch(namespaces: string[], hotKeys: number, intervalMs: number, context: HandlerContext) {
    const stop = deps.streamsStop ? AbortSignal.any([context.signal, deps.streamsStop]) : context.signal;
    let lastSent = Date.now();
    for (let first = true; !stop.aborted; first = false) {
      if (!first) {
        try {
          await sleep(intervalMs, undefined, { signal: stop });
        } catch {
          return;
        }
      }
      // A reader slower than the interval is not queued up for: the generator only runs when
      // the transport asked for the next message, so missed ticks are just counted.
      const now = Date.now();
      const dropped = Math.max(0, Math.floor((now - lastSent) / intervalMs) - 1);
      lastSent = now;
      yield { snapshot: snapshotFor(namespaces, hotKeys, now), snapshotsDropped: dropped };
    }
  }
  return {
    async get(request, context) {
      const namespace = namespaceOf(request.namespace);
      const key = checkKey(request.key, limits);
      const options = readOptions(request.options, context);
      // guarded() written out: the hot path, one async frame fewer.
      try {
        // A whole message: the adapters hand it on as it is, not copied field by field.
        return { $typeName: "mlcache.v1.GetResponse", item: itemFrom(await manager.get(namespace, key, options)) };
      } catch (error) {
        throw callError(context, error);
      }
    },

    async bulkGet(request, context) {
      const namespace = namespaceOf(request.namespace);
      const keys = checkKeys(request.keys, limits);
      const options = readOptions(request.options, context);
      const results = await guarded(context, () => manager.getMany(namespace, keys, options));
      return {
        results: [...results].map(([key, outcome]) =>
          outcome instanceof CacheError
            ? { key, outcome: { case: "error" as const, value: { code: outcome.code, message: outcome.message } } }
            : { key, outcome: { case: "item" as const, value: itemFrom(outcome) } },
        ),
      };
    },

    async set(request, context) {
      const namespace = namespaceOf(request.namespace);
      const key = checkKey(request.key, limits);
      const tags = checkTags(request.tags, limits);
      checkEnum(
        request.writeMode,
        [WriteMode.UNSPECIFIED, WriteMode.CACHE_ONLY, WriteMode.WRITE_THROUGH, WriteMode.WRITE_BEHIND],
        "write_mode",
        writeModeNames,
      );
      const ttlMs = checkDuration(request.ttl, "ttl", { min: 1 });
      const freshForMs = checkDuration(request.freshFor, "fresh_for");
      if (ttlMs !== undefined && freshForMs !== undefined && freshForMs > ttlMs) {
        throw new CacheError(Status.INVALID_ARGUMENT, "fresh_for must not be longer than ttl");
      }
      const writeMode = engineWriteMode(request.writeMode);
      // A copy: the request's value is a view into the whole request buffer, which a cached
      // view would keep alive (a 100-byte value sent with a 1 MiB unknown field held 1 MiB).
      const value = request.value.slice();
      const result = await guarded(context, () =>
        manager.set(namespace, key, value, {
          tags,
          version: request.version,
          ...(ttlMs !== undefined ? { ttlMs } : {}),
          ...(freshForMs !== undefined ? { freshForMs } : {}),
          ...(writeMode ? { writeMode } : {}),
        }),
      );
      return { version: result.version, applied: result.applied, writeMode: apiWriteMode(result.writeMode) };
    },

    async invalidate(request, context) {
      const namespace = namespaceOf(request.namespace);
      if (request.keys.length === 0 && request.tags.length === 0 && request.prefix === undefined) {
        throw new CacheError(Status.INVALID_ARGUMENT, "name at least one of keys, tags or prefix to invalidate");
      }
      if (request.keys.length > 0) checkKeys(request.keys, limits);
      checkTags(request.tags, { ...limits, maxTags: limits.maxBulkKeys });
      // A prefix is a key's beginning: no longer than a key may be ("" empties the namespace).
      if (request.prefix) checkKey(request.prefix, limits, "prefix");
      const result = await guarded(context, () =>
        manager.invalidate(namespace, {
          keys: request.keys,
          tags: request.tags,
          ...(request.prefix !== undefined ? { prefix: request.prefix } : {}),
        }),
      );
      return {
        keysRemoved: result.keysRemoved,
        stamp: timestampFromMs(Math.floor(result.stamp)),
        published: result.published,
      };
    },

    async *watchStats(request, context) {
      const intervalMs = checkDuration(request.interval, "interval", { min: 100, max: 3_600_000 }) ?? 1000;
      if (request.hotKeys > 100) {
        throw new CacheError(Status.INVALID_ARGUMENT, "hot_keys may be at most 100 per snapshot");
      }
      if (request.namespaces.length > 100) {
        throw new CacheError(Status.INVALID_ARGUMENT, "namespaces may name at most 100 namespaces");
      }
      const namespaces = [...new Set(request.namespaces.map(namespaceOf))].sort();
      if (watchers >= maxWatchers) {
        throw new CacheError(
          Status.RESOURCE_EXHAUSTED,
          `${watchers} WatchStats subscribers already, the most this instance serves (limits.maxWatchers); try again later`,
        );
      }
      watchers++;
      try {
        yield* watch(namespaces, request.hotKeys, intervalMs, context);
      } finally {
        watchers--;
      }
    },

    async inspect(request) {
      const namespace = request.namespace === "" ? undefined : checkNamespace(request.namespace);
      if (request.hotKeys > 1000) throw new CacheError(Status.INVALID_ARGUMENT, "hot_keys may be at most 1000");
      if (request.keys.length > 100) {
        throw new CacheError(Status.INVALID_ARGUMENT, "keys may name at most 100 keys per call");
      }
      for (const [i, key] of request.keys.entries()) checkKey(key, limits, `keys[${i}]`);
      if (request.fleetWide && !telemetry?.fleetWide) {
        throw new CacheError(
          Status.FAILED_PRECONDITION,
          "fleet-wide hot keys need Redis (L2); this instance runs without it",
        );
      }
      const keyNamespace = namespaceOf(request.namespace);
      let hotKeys: { namespace: string; key: string; frequency: number; instances: number }[] = [];
      if (request.hotKeys > 0) {
        if (request.fleetWide && telemetry) hotKeys = await telemetry.fleetHotKeys(request.hotKeys, namespace);
        else {
          hotKeys = (telemetry ?? manager).hotKeys(request.hotKeys, namespace).map((k) => ({ ...k, instances: 1 }));
        }
      }
      const fleetBoard = request.perLayer && request.hotKeys > 0 && telemetry?.fleetWide;
      const layerHotKeys =
        request.perLayer && request.hotKeys > 0
          ? [
              { layer: CacheLayer.L1, hotKeys: hotKeyMessages(manager.hotKeys(request.hotKeys, namespace), 1) },
              ...(fleetBoard && telemetry
                ? [
                    {
                      layer: CacheLayer.L2,
                      hotKeys: hotKeyMessages(await telemetry.fleetHotKeys(request.hotKeys, namespace), 0),
                    },
                  ]
                : []),
            ]
          : [];
      /** Per layer: L1's sketch; L2 keeps no count, so the fleet board's sum when on it, else the sketch's view. */
      // The fleet's board is read once per call, not once per key.
      const board =
        request.keys.length > 0 && request.fleetWide && telemetry?.fleetWide && manager.hasL2
          ? await telemetry.fleetHotKeys(1000, keyNamespace)
          : undefined;
      const layerFrequencies = async (k: { namespace: string; key: string; frequency: number }) => {
        const out = [{ layer: CacheLayer.L1, estimate: BigInt(k.frequency), source: "l1-sketch" }];
        if (!manager.hasL2) return out;
        if (board) {
          const onBoard = board.find((h) => h.key === k.key);
          out.push({
            layer: CacheLayer.L2,
            estimate: BigInt(Math.round(onBoard?.frequency ?? 0)),
            source: "fleet-hot-keys",
          });
        } else out.push({ layer: CacheLayer.L2, estimate: BigInt(k.frequency), source: "l1-sketch" });
        return out;
      };
      return {
        layerHotKeys,
        hotKeys: hotKeys.map((k) => ({
          namespace: k.namespace,
          key: k.key,
          frequency: BigInt(Math.round(k.frequency)),
          instances: k.instances,
        })),
        keyStats: await Promise.all(
          request.keys.map(async (key) => {
            const k = await manager.inspectKey(keyNamespace, key);
            const tracked = telemetry?.keyStats(keyNamespace, key);
            return {
              namespace: k.namespace,
              key: k.key,
              // The L1 sketch's estimate (recent accesses, saturating at 15).
              frequency: BigInt(k.frequency),
              hits: BigInt(tracked?.hits ?? 0),
              misses: BigInt(tracked?.misses ?? 0),
              lastLoadLatency: durationFromMs(Math.round(tracked?.lastLoadMs ?? 0)),
              l1Reason: k.l1Reason ? L1_REASONS[k.l1Reason] : L1Reason.UNSPECIFIED,
              rule: k.rule,
              layerFrequencies: await layerFrequencies(k),
              ...(tracked?.lastRefreshAt ? { lastRefresh: timestampFromMs(tracked.lastRefreshAt) } : {}),
              ...(tracked?.usage ? { usage: keyUsageMessage(tracked.usage) } : {}),
              layers: k.layers.map((l) => ({
                layer: l.layer === "l1" ? CacheLayer.L1 : CacheLayer.L2,
                present: l.present,
                stale: l.stale,
                age: durationFromMs(Math.round(l.ageMs)),
                ttlRemaining: durationFromMs(Math.round(l.ttlRemainingMs)),
                version: l.version,
                sizeBytes: BigInt(l.sizeBytes),
              })),
            };
          }),
        ),
        inFlight: request.includeInFlight
          ? manager.inFlight(namespace).map((f) => ({
              namespace: f.namespace,
              key: f.key,
              startedAt: timestampFromMs(f.startedAt),
              waiters: f.waiters,
            }))
          : [],
        deadLetters: request.includeDeadLetters
          ? (deps.deadLetters?.(namespace) ?? []).map((d) => ({
              namespace: d.namespace,
              key: d.key,
              lastError: d.lastError,
              failures: d.failures,
              firstFailure: timestampFromMs(d.firstFailure),
              lastFailure: timestampFromMs(d.lastFailure),
            }))
          : [],
      };
    },
  };
}
