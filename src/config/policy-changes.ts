import { clone, create, equals } from "@bufbuild/protobuf";
import { type NamespaceSettings, validateSettings } from "../engine/policy.js";
import type { PolicyStore } from "../engine/policy-store.js";
import { CacheError, Status } from "../errors.js";
import { type NamespacePolicy, type OriginPolicy, OriginPolicySchema } from "../gen/mlcache/v1/policy_pb.js";
import type { OriginRegistry } from "../loaders/registry.js";
import type { OriginPair } from "./config.js";
import { overlayPolicy, settingsToPolicy } from "./policy-proto.js";

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
  return policy;
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
  const problems = validateSettings(settings);
  if (problems.length > 0) {
    throw new CacheError(Status.INVALID_ARGUMENT, `policy for ${namespace}: ${problems.join("; ")}`);
  }
  const originsChanged =
    !sameOrigin(named(before.loader), named(loader)) || !sameOrigin(before.writer, change.policy.writer);
  if (originsChanged && origins) {
    try {
      origins.configure(namespace, {
        loader: named(loader),
        writer: named(change.policy.writer),
        fallback: origins.policyOf(namespace).fallback,
      });
    } catch (error) {
      if (error instanceof CacheError) throw error;
      throw new CacheError(Status.INVALID_ARGUMENT, `loader/writer: ${(error as Error).message}`);
    }
  }
  store.set(namespace, settings);
}
