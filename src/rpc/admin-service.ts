import { toJson } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { applyMask, overlayPolicy, settingsToPolicy } from "../config/policy-proto.js";
import type { CacheManager } from "../engine/cache-manager.js";
import type { NamespaceSettings } from "../engine/policy.js";
import { CacheError, Status } from "../errors.js";
import type { AdminService } from "../gen/mlcache/v1/admin_pb.js";
import type { NamespacePolicy } from "../gen/mlcache/v1/policy_pb.js";
import { NamespaceStatsSchema } from "../gen/mlcache/v1/stats_pb.js";
import { buildSnapshot } from "../telemetry/snapshot.js";
import { checkNamespace } from "./validate.js";

/** What the AdminService implementation needs. */
export interface AdminServiceDeps {
  manager: CacheManager;
  instanceId: string;
}

/**
 * A mask that changes a layer's TTL but not its freshness keeps the freshness meaningful: a
 * layer that was fresh for its whole TTL stays so, and freshness never exceeds the new TTL.
 */
function keepFreshnessWithinTtl(merged: NamespacePolicy, current: NamespaceSettings, paths: readonly string[]): void {
  const named = (path: string) => paths.some((p) => p === path || p === path.replace("_f", "F"));
  for (const layer of ["l1", "l2"] as const) {
    const policy = merged[layer];
    if (!policy?.ttl || !named(`${layer}.ttl`) || named(`${layer}.fresh_for`)) continue;
    const ttlMs = durationMs(policy.ttl);
    const wasWhole = current[layer].freshForMs >= current[layer].ttlMs;
    const freshMs = wasWhole ? ttlMs : Math.min(current[layer].freshForMs, ttlMs);
    policy.freshFor = durationFromMs(freshMs);
  }
}

/** The AdminService: policies at run time, namespaces, raw stats export. */
export function adminService(deps: AdminServiceDeps): ServiceImpl<typeof AdminService> {
  const { manager } = deps;
  const policies = manager.policies;
  return {
    getPolicy(request) {
      const namespace = checkNamespace(request.namespace);
      return {
        policy: settingsToPolicy(namespace, policies.get(namespace)),
        customized: policies.isCustomized(namespace),
      };
    },

    updatePolicy(request) {
      if (!request.policy) throw new CacheError(Status.INVALID_ARGUMENT, "policy must be set");
      const namespace = checkNamespace(request.policy.namespace);
      const current = policies.get(namespace);
      const paths = request.updateMask?.paths ?? [];
      let next: ReturnType<typeof policies.get>;
      if (paths.length === 0) {
        next = overlayPolicy(current, request.policy);
      } else {
        const merged = settingsToPolicy(namespace, current);
        try {
          applyMask(merged, request.policy, paths);
        } catch (error) {
          throw new CacheError(Status.INVALID_ARGUMENT, (error as Error).message);
        }
        keepFreshnessWithinTtl(merged, current, paths);
        // Fields the mask cleared fall back to the defaults.
        next = overlayPolicy(policies.defaults, merged);
      }
      policies.set(namespace, next);
      return { policy: settingsToPolicy(namespace, next) };
    },

    resetPolicy(request) {
      const namespace = checkNamespace(request.namespace);
      policies.reset(namespace);
      return { policy: settingsToPolicy(namespace, policies.get(namespace)) };
    },

    listNamespaces() {
      const names = new Set([...manager.namespaceNames(), ...policies.customized()]);
      return {
        namespaces: [...names].sort().map((name) => {
          const l1 = manager.layerCounters("l1", name);
          return {
            name,
            customized: policies.isCustomized(name),
            l1Entries: BigInt(l1?.entries ?? 0),
            l1Bytes: BigInt(l1?.bytes ?? 0),
          };
        }),
      };
    },

    async *exportStats(request) {
      const maxKeys = request.maxKeys === 0 ? 10_000 : request.maxKeys;
      const snapshot = buildSnapshot(manager, deps.instanceId, {
        namespaces: request.namespaces.map(checkNamespace),
      });
      const encoder = new TextEncoder();
      for (const ns of snapshot.namespaces) {
        const lines = [
          JSON.stringify({
            type: "namespace",
            instance: deps.instanceId,
            ...(toJson(NamespaceStatsSchema, ns) as object),
          }),
        ];
        for (const hot of manager.hotKeys(maxKeys, ns.namespace)) {
          lines.push(JSON.stringify({ type: "key", namespace: hot.namespace, key: hot.key, frequency: hot.frequency }));
        }
        yield { ndjson: encoder.encode(`${lines.join("\n")}\n`) };
      }
    },
  };
}
