import { randomUUID } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { OriginPair, RuleOrigins } from "../config/config.js";
import { applyPolicyChange, effectivePolicy, type PolicyChange } from "../config/policy-changes.js";
import { applyMask, overlayPolicy, ruleOriginsOf } from "../config/policy-proto.js";
import type { CacheManager } from "../engine/cache-manager.js";
import type { NamespaceSettings } from "../engine/policy.js";
import { CacheError, Status } from "../errors.js";
import { type AdminService, UpdatePolicyRequestSchema } from "../gen/mlcache/v1/admin_pb.js";
import { CacheLayer } from "../gen/mlcache/v1/common_pb.js";
import { type PolicyEvent, PolicyEventSchema } from "../gen/mlcache/v1/events_pb.js";
import {
  FallbackPolicySchema,
  KeyRuleSchema,
  type NamespacePolicy,
  NamespacePolicySchema,
  type OriginPolicy,
  OriginPolicySchema,
} from "../gen/mlcache/v1/policy_pb.js";
import { NamespaceStatsSchema } from "../gen/mlcache/v1/stats_pb.js";
import { redactOrigin, restoreRedacted } from "../loaders/allowlist.js";
import type { OriginRegistry } from "../loaders/registry.js";
import type { Logger } from "../logger.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { ADVICE_RULE_PREFIX, type ProposedRule } from "../telemetry/usage/rules.js";
import { buildSnapshot } from "./convert.js";
import { adviseResponse } from "./usage-convert.js";
import { checkDuration, checkEnum, checkKeys, checkNamespace, type RequestLimits } from "./validate.js";

/** What the AdminService implementation needs. */
export interface AdminServiceDeps {
  manager: CacheManager;
  instanceId: string;
  /** Loaders and writers by namespace, changeable at run time. */
  origins?: OriginRegistry;
  /** Raw per-key counters for ExportStats (NDJSON), usage patterns for Advise. */
  telemetry?: Pick<Telemetry, "exportChunks" | "advise">;
  /**
   * The fleet's policy log (Kafka). With it, a change is answered OK only once the log has
   * it, and every instance applies it from there; without it, a change is this instance's only.
   * `publish` rejects with a CacheError (UNAVAILABLE: nothing changed anywhere).
   */
  policyLog?: { publish(event: PolicyEvent): Promise<void> };
  /**
   * Whether this instance has confirmed, within the propagation bound, that it applied every
   * policy change acknowledged so far (the L1 trust tracker covers the policy log too). When
   * not, GetPolicy answers UNAVAILABLE rather than a policy that may be behind.
   */
  caughtUp?: () => boolean;
  /** Bounds of keys in requests (AdjustTtl); default 1024-byte keys. */
  limits?: RequestLimits;
  /** Whether Advise may put its rules in force (`telemetry.usage.apply`, the operator's consent). */
  adviceApply?: boolean;
  /** Where applied and reverted advice is logged. */
  logger?: Logger;
}

/** A proposed rule as a namespace policy's key rule: its TTL and fresh-for in each layer the namespace uses. */
function keyRuleOf(rule: ProposedRule, withL2: boolean) {
  const layer = { ttl: durationFromMs(Math.round(rule.ttlMs)), freshFor: durationFromMs(Math.round(rule.freshForMs)) };
  return create(KeyRuleSchema, {
    name: rule.name,
    match: { case: rule.match.kind, value: rule.match.value },
    overrides: create(NamespacePolicySchema, {
      l1: layer,
      // A key not worth caching (read once) stays out of Redis: L2 admission keeps one-hit wonders out.
      ...(withL2 ? { l2: rule.admission ? layer : { ...layer, admission: true } } : {}),
      earlyRefresh: { enabled: rule.earlyRefresh },
    }),
  });
}

/** Most keys one AdjustTtl call may name. */
const MAX_ADJUST_KEYS = 100;

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

/** Runs a policy conversion; what it throws becomes INVALID_ARGUMENT. */
function invalidArgument<T>(convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (error instanceof CacheError) throw error;
    throw new CacheError(Status.INVALID_ARGUMENT, `policy: ${(error as Error).message}`);
  }
}

/** A policy as GetPolicy and UpdatePolicy show it: secrets of its origins redacted. */
function shown(policy: NamespacePolicy): NamespacePolicy {
  for (const holder of [policy, ...policy.rules.flatMap((rule) => rule.overrides ?? [])]) {
    if (holder.loader?.kind.case) holder.loader = redactOrigin(holder.loader);
    if (holder.writer?.kind.case) holder.writer = redactOrigin(holder.writer);
    const fallback = holder.fallback?.kind;
    if (fallback?.case === "grpc") {
      const origin = redactOrigin(create(OriginPolicySchema, { kind: fallback }));
      if (origin.kind.case === "grpc") holder.fallback = create(FallbackPolicySchema, { kind: origin.kind });
    }
  }
  return policy;
}

/**
 * The origins of rules sent in an update, with values sent back as "<redacted>" restored from
 * the origins in force for the rule of the same name.
 */
function restoredRuleOrigins(
  sent: NamespacePolicy,
  inForce: OriginPair["rules"],
): Record<string, RuleOrigins> | undefined {
  const rules = invalidArgument(() => ruleOriginsOf(sent));
  if (!rules) return undefined;
  const restore = (next: OriginPolicy | undefined, before: OriginPolicy | undefined) =>
    next ? restoreRedacted(next, before) : undefined;
  return Object.fromEntries(
    Object.entries(rules).map(([name, origins]) => {
      const before = inForce?.[name];
      return [
        name,
        {
          loader: restore(origins.loader, before?.loader),
          writer: restore(origins.writer, before?.writer),
          fallback: restore(origins.fallback, before?.fallback),
        },
      ];
    }),
  );
}

/** The AdminService: policies at run time, namespaces, raw stats export. */
export function adminService(deps: AdminServiceDeps): ServiceImpl<typeof AdminService> {
  const { manager, origins } = deps;
  const policies = manager.policies;
  const view = (namespace: string) =>
    shown(effectivePolicy(namespace, policies.get(namespace), origins?.policyOf(namespace)));
  /** Publishes a change to the fleet's log when there is one (OK only once it is there), then applies it here. */
  const change = async (policyChange: PolicyChange): Promise<void> => {
    await deps.policyLog?.publish(
      create(PolicyEventSchema, {
        namespace: policyChange.namespace,
        ...(policyChange.policy ? { policy: policyChange.policy } : {}),
        reset: policyChange.reset,
        originInstance: deps.instanceId,
        time: timestampNow(),
        eventId: randomUUID(),
      }),
    );
    // Here at once, so the next request sees it; the log brings it (again, in log order) too.
    applyPolicyChange(policies, origins, policyChange);
  };
  const service: ServiceImpl<typeof AdminService> = {
    getPolicy(request) {
      const namespace = checkNamespace(request.namespace);
      if (deps.caughtUp && !deps.caughtUp()) {
        throw new CacheError(
          Status.UNAVAILABLE,
          "this instance has not confirmed within the propagation bound that it read the fleet's policy log (Kafka behind or unreachable); retry, or ask another instance",
        );
      }
      return { policy: view(namespace), customized: policies.isCustomized(namespace) };
    },

    async updatePolicy(request) {
      const policy = request.policy;
      if (!policy) throw new CacheError(Status.INVALID_ARGUMENT, "policy must be set");
      const namespace = checkNamespace(policy.namespace);
      const current = policies.get(namespace);
      const paths = request.updateMask?.paths ?? [];
      let next: ReturnType<typeof policies.get>;
      let nextOrigins: OriginPair | undefined;
      /** The policy the rules come from when the update replaces them. */
      let rulesFrom: NamespacePolicy | undefined;
      if (paths.length === 0) {
        if (policy.rules.length > 0) rulesFrom = policy;
        next = invalidArgument(() => overlayPolicy(current, policy));
        if (policy.loader?.kind.case || policy.writer?.kind.case) {
          const before = origins?.policyOf(namespace);
          nextOrigins = {
            loader: policy.loader?.kind.case ? policy.loader : before?.loader,
            writer: policy.writer?.kind.case ? policy.writer : before?.writer,
            fallback: before?.fallback,
            rules: before?.rules,
          };
        }
      } else {
        const merged = view(namespace);
        try {
          applyMask(merged, policy, paths);
        } catch (error) {
          throw new CacheError(Status.INVALID_ARGUMENT, (error as Error).message);
        }
        keepFreshnessWithinTtl(merged, current, paths);
        if (paths.some((path) => /^rules(\.|$)/.test(path))) rulesFrom = merged;
        // Fields the mask cleared fall back to the defaults.
        next = invalidArgument(() => overlayPolicy(policies.defaults, merged));
        if (paths.some((path) => /^(loader|writer)(\.|$)/.test(path))) {
          nextOrigins = {
            loader: merged.loader,
            writer: merged.writer,
            fallback: origins?.policyOf(namespace).fallback,
            rules: origins?.policyOf(namespace).rules,
          };
        }
      }
      if (rulesFrom) {
        // The rules are replaced: their origins are those the new rules name (none: none).
        const inForce = origins?.policyOf(namespace);
        const rules = restoredRuleOrigins(rulesFrom, inForce?.rules);
        if (rules || inForce?.rules) nextOrigins = { ...(nextOrigins ?? inForce), rules };
      }
      if (nextOrigins && !origins) {
        throw new CacheError(Status.FAILED_PRECONDITION, "this instance cannot change origins at run time");
      }
      // Refused here, before anything is published or changed.
      policies.check(namespace, next);
      if (nextOrigins && origins) {
        // Values sent back as "<redacted>" (as GetPolicy shows them) keep the secret in force.
        const inForce = origins.policyOf(namespace);
        const restore = (sent: OriginPolicy | undefined, before: OriginPolicy | undefined) =>
          sent ? restoreRedacted(sent, before) : undefined;
        nextOrigins = {
          loader: restore(nextOrigins.loader, inForce.loader),
          writer: restore(nextOrigins.writer, inForce.writer),
          fallback: nextOrigins.fallback,
          rules: nextOrigins.rules,
        };
        try {
          origins.validate(namespace, nextOrigins);
        } catch (error) {
          if (error instanceof CacheError) throw error;
          throw new CacheError(Status.INVALID_ARGUMENT, `loader/writer: ${(error as Error).message}`);
        }
      }
      const effective = effectivePolicy(namespace, next, nextOrigins ?? origins?.policyOf(namespace));
      await change({ namespace, policy: effective, reset: false });
      return { policy: view(namespace) };
    },

    async resetPolicy(request) {
      const namespace = checkNamespace(request.namespace);
      await change({ namespace, reset: true });
      return { policy: view(namespace) };
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

    async adjustTtl(request) {
      const namespace = checkNamespace(request.namespace);
      const limits = deps.limits ?? { maxKeyBytes: 1024, maxBulkKeys: MAX_ADJUST_KEYS, maxTags: 0 };
      const keys = checkKeys(request.keys, { ...limits, maxBulkKeys: Math.min(limits.maxBulkKeys, MAX_ADJUST_KEYS) });
      const ttlMs = checkDuration(request.ttl, "ttl");
      if (ttlMs === undefined || ttlMs <= 0) {
        throw new CacheError(Status.INVALID_ARGUMENT, "ttl must be set and greater than 0");
      }
      const layer = checkEnum(
        request.layer,
        [CacheLayer.UNSPECIFIED, CacheLayer.L1, CacheLayer.L2],
        "layer",
        CacheLayer as unknown as Record<number, string>,
      );
      const result = await manager.adjustTtl(namespace, keys, {
        ttlMs,
        layer: layer === CacheLayer.L1 ? "l1" : layer === CacheLayer.L2 ? "l2" : "all",
      });
      return { l1Adjusted: result.l1Adjusted, l2Adjusted: result.l2Adjusted, published: result.published };
    },

    async advise(request, context) {
      const namespace = checkNamespace(request.namespace);
      if (!deps.telemetry) {
        throw new CacheError(
          Status.FAILED_PRECONDITION,
          "usage advice needs the telemetry, which this instance runs without",
        );
      }
      if (request.apply && request.revert) {
        throw new CacheError(Status.INVALID_ARGUMENT, "apply and revert exclude each other: ask for one");
      }
      const advice = deps.telemetry.advise(namespace);
      const response = adviseResponse(advice);
      if (!request.apply && !request.revert) return response;
      if (!deps.adviceApply) {
        throw new CacheError(
          Status.FAILED_PRECONDITION,
          "applying usage advice is switched off: set telemetry.usage.apply: true on the instances to allow it (Advise without apply shows the rules)",
        );
      }
      // The operator's rules stay, first (first match wins); earlier advice is replaced.
      const before = view(namespace).rules;
      const kept = before.filter((rule) => !rule.name.startsWith(ADVICE_RULE_PREFIX));
      const added = request.apply ? advice.rules.map((rule) => keyRuleOf(rule, manager.hasL2)) : [];
      await service.updatePolicy(
        create(UpdatePolicyRequestSchema, {
          policy: create(NamespacePolicySchema, { namespace, rules: [...kept, ...added] }),
          updateMask: { paths: ["rules"] },
        }),
        context,
      );
      const removed = before.length - kept.length;
      deps.logger?.info(
        {
          namespace,
          applied: added.map((rule) => rule.name),
          removed: before.filter((rule) => rule.name.startsWith(ADVICE_RULE_PREFIX)).map((rule) => rule.name),
        },
        request.apply ? "usage advice put in force as key rules" : "usage advice rules taken out",
      );
      return { ...response, rulesApplied: added.length, rulesRemoved: removed };
    },

    async *exportStats(request) {
      const maxKeys = request.maxKeys === 0 ? 10_000 : request.maxKeys;
      if (deps.telemetry) {
        const namespaces = request.namespaces.map(checkNamespace);
        for (const ndjson of deps.telemetry.exportChunks({ namespaces, maxKeys })) yield { ndjson };
        return;
      }
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
  return service;
}
