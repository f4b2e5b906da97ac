import { clone, create, equals } from "@bufbuild/protobuf";
import { type NamespaceSettings, validateSettings } from "../engine/policy.js";
import { NAMESPACE_PATTERN, type PolicyStore } from "../engine/policy-store.js";
import { CacheError, Status } from "../errors.js";
import type { PolicyEvent } from "../gen/mlcache/v1/events_pb.js";
import {
  FallbackPolicySchema,
  GrpcOriginSchema,
  type NamespacePolicy,
  type OriginPolicy,
  OriginPolicySchema,
} from "../gen/mlcache/v1/policy_pb.js";
import type { OriginRegistry } from "../loaders/registry.js";
import type { OriginPair } from "./config.js";
import { overlayPolicy, ruleOriginsOf, settingsToPolicy } from "./policy-proto.js";

/** The policy message of a namespace: its settings, with its origins when there are any. */
export function effectivePolicy(
  namespace: string,
  settings: NamespaceSettings,
  origins: OriginPair | undefined,
): NamespacePolicy {
  const policy = settingsToPolicy(namespace, settings);
  if (origins?.loader) {
    // The engine's load timeouts travel in loader.soft/hard_timeout too.
    policy.loader = {
      ...clone(OriginPolicySchema, origins.loader),
      softTimeout: policy.loader?.softTimeout,
      hardTimeout: policy.loader?.hardTimeout,
    };
  }
  if (origins?.writer) policy.writer = clone(OriginPolicySchema, origins.writer);
  for (const rule of policy.rules) {
    const own = origins?.rules?.[rule.name];
    if (!own || !rule.overrides) continue;
    if (own.loader) {
      // As for the namespace: the rule's load timeouts travel in its loader.
      rule.overrides.loader = {
        ...clone(OriginPolicySchema, own.loader),
        softTimeout: rule.overrides.loader?.softTimeout,
        hardTimeout: rule.overrides.loader?.hardTimeout,
      };
    }
    if (own.writer) rule.overrides.writer = clone(OriginPolicySchema, own.writer);
    if (own.fallback?.kind.case === "grpc") {
      rule.overrides.fallback = create(FallbackPolicySchema, {
        kind: { case: "grpc", value: clone(GrpcOriginSchema, own.fallback.kind.value) },
      });
    }
  }
  return policy;
}

/** Whether two sets of rule origins name the same origins for the same rules. */
function sameRuleOrigins(a: OriginPair["rules"], b: OriginPair["rules"]): boolean {
  const names = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  for (const name of names) {
    const x = a?.[name];
    const y = b?.[name];
    if (!sameOrigin(x?.loader, y?.loader) || !sameOrigin(x?.writer, y?.writer)) return false;
    if (!sameOrigin(x?.fallback, y?.fallback)) return false;
  }
  return true;
}

/** A change of one namespace's policy: the effective policy after it, or back to the configuration. */
export interface PolicyChange {
  namespace: string;
  /** The whole effective policy (every field set, origins included); unset for a reset. */
  policy?: NamespacePolicy | undefined;
  reset: boolean;
}

const sameOrigin = (a: OriginPolicy | undefined, b: OriginPolicy | undefined): boolean =>
  a === undefined || b === undefined ? a === b : equals(OriginPolicySchema, a, b);

/** The origin a policy names, or undefined when it only carries the engine's load timeouts. */
const named = (origin: OriginPolicy | undefined): OriginPolicy | undefined => (origin?.kind.case ? origin : undefined);

/**
 * Applies a change, made here or heard from the policy log, to the policy store and the origins.
 * Origins are rebuilt only when the change names other ones than those in force (rebuilding
 * resets their breakers). Throws INVALID_ARGUMENT for a policy this instance cannot use.
 */
export function applyPolicyChange(store: PolicyStore, origins: OriginRegistry | undefined, change: PolicyChange): void {
  const { namespace } = change;
  if (change.reset || !change.policy) {
    store.reset(namespace);
    origins?.reset(namespace);
    return;
  }
  const before = effectivePolicy(namespace, store.get(namespace), origins?.policyOf(namespace));
  const settings = overlayPolicy(store.defaults, change.policy);
  const loader = change.policy.loader ?? create(OriginPolicySchema);
  let rules: OriginPair["rules"];
  try {
    rules = ruleOriginsOf(change.policy);
  } catch (error) {
    throw new CacheError(Status.INVALID_ARGUMENT, `policy for ${namespace}: ${(error as Error).message}`);
  }
  if (rules && !origins) {
    throw new CacheError(
      Status.FAILED_PRECONDITION,
      "this instance cannot use key rules' origins (no origin registry)",
    );
  }
  const problems = validateSettings(settings);
  if (problems.length > 0) {
    throw new CacheError(Status.INVALID_ARGUMENT, `policy for ${namespace}: ${problems.join("; ")}`);
  }
  const beforeRules = ruleOriginsOf(before);
  const originsChanged =
    !sameOrigin(named(before.loader), named(loader)) ||
    !sameOrigin(before.writer, change.policy.writer) ||
    !sameRuleOrigins(beforeRules, rules);
  if (originsChanged && origins) {
    const inForce = origins.policyOf(namespace);
    // An origin the change leaves as it was keeps the policy in force, so it is not rebuilt.
    const kept = (was: OriginPolicy | undefined, next: OriginPolicy | undefined, current: OriginPolicy | undefined) =>
      sameOrigin(was, next) ? current : next;
    const nextRules =
      rules &&
      Object.fromEntries(
        Object.entries(rules).map(([name, rule]) => {
          const was = beforeRules?.[name];
          const current = inForce.rules?.[name];
          return [
            name,
            {
              loader: kept(was?.loader, rule.loader, current?.loader),
              writer: kept(was?.writer, rule.writer, current?.writer),
              fallback: kept(was?.fallback, rule.fallback, current?.fallback),
            },
          ];
        }),
      );
    try {
      origins.configure(namespace, {
        loader: kept(named(before.loader), named(loader), inForce.loader),
        writer: kept(before.writer, named(change.policy.writer), inForce.writer),
        fallback: inForce.fallback,
        rules: nextRules,
      });
    } catch (error) {
      if (error instanceof CacheError) throw error;
      throw new CacheError(Status.INVALID_ARGUMENT, `loader/writer: ${(error as Error).message}`);
    }
  }
  store.set(namespace, settings);
}

/**
 * Applies a change heard from the fleet's policy log (the service's and the sink's follower).
 * Throws for a record naming no valid namespace, or a policy this process cannot use.
 */
export function applyPolicyEvent(store: PolicyStore, origins: OriginRegistry | undefined, event: PolicyEvent): void {
  if (!NAMESPACE_PATTERN.test(event.namespace)) throw new Error(`not a namespace name: "${event.namespace}"`);
  applyPolicyChange(store, origins, { namespace: event.namespace, policy: event.policy, reset: event.reset });
}
