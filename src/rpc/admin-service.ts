import { toJson } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { applyMask, overlayPolicy, settingsToPolicy } from "../config/policy-proto.js";
import type { CacheManager } from "../engine/cache-manager.js";
import { NAMESPACE_PATTERN } from "../engine/policy-store.js";
import { CacheError, Status } from "../errors.js";
import type { AdminService } from "../gen/mlcache/v1/admin_pb.js";
import { NamespaceStatsSchema } from "../gen/mlcache/v1/stats_pb.js";
import { buildSnapshot } from "../telemetry/snapshot.js";
import { namespaceOf } from "./validate.js";

/** What the AdminService implementation needs. */
export interface AdminServiceDeps {
  manager: CacheManager;
  instanceId: string;
}

function checkedNamespace(name: string): string {
  const namespace = namespaceOf(name);
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new CacheError(
      Status.INVALID_ARGUMENT,
      `namespace "${name}" is not valid: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
    );
  }
  return namespace;
}

/** The AdminService: policies at run time, namespaces, raw stats export. */
export function adminService(deps: AdminServiceDeps): ServiceImpl<typeof AdminService> {
  const { manager } = deps;
  const policies = manager.policies;
  return {
    getPolicy(request) {
      const namespace = checkedNamespace(request.namespace);
      return {
        policy: settingsToPolicy(namespace, policies.get(namespace)),
        customized: policies.isCustomized(namespace),
      };
    },

    updatePolicy(request) {
      if (!request.policy) throw new CacheError(Status.INVALID_ARGUMENT, "policy must be set");
      const namespace = checkedNamespace(request.policy.namespace);
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
        // Fields the mask cleared fall back to the defaults.
        next = overlayPolicy(policies.defaults, merged);
      }
      policies.set(namespace, next);
      return { policy: settingsToPolicy(namespace, next) };
    },

    resetPolicy(request) {
      const namespace = checkedNamespace(request.namespace);
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
        namespaces: request.namespaces.map(checkedNamespace),
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
