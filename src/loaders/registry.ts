import { equals } from "@bufbuild/protobuf";
import type { OriginPair, RuleOrigins } from "../config/config.js";
import type { Loader } from "../engine/loader.js";
import type { Writer } from "../engine/writer.js";
import { CacheError } from "../errors.js";
import { type OriginPolicy, OriginPolicySchema } from "../gen/mlcache/v1/policy_pb.js";
import { OriginAllowlist } from "./allowlist.js";
import type { BreakerState } from "./breaker.js";
import type { DeadLetterRecord } from "./dead-letters.js";
import { createOrigin, type Origin, type OriginStats } from "./origin.js";

/** Options of the origin registry. */
export interface OriginRegistryOptions {
  /** Origins from the config: a namespace's own, else the defaults'. */
  configured: { defaults: OriginPair; namespaces: Record<string, OriginPair> };
  /** Where dead-lettered keys are published besides the local log (Kafka). */
  publishDeadLetter?: (record: DeadLetterRecord) => void | Promise<void>;
  /** The `user-agent` HTTP origins send, naming this instance. */
  userAgent?: string;
  /** Targets origins set at run time may name besides the configured ones (none by default). */
  allowedTargets?: readonly string[];
}

/** The origins built for a namespace, or for one of its key rules. */
interface BuiltOrigins {
  policy: RuleOrigins;
  loader?: Origin | undefined;
  writer?: Origin | undefined;
  fallback?: Origin | undefined;
}

interface Built extends BuiltOrigins {
  policy: OriginPair;
  /** Origins of the namespace's key rules that name any, by rule name (built on first use). */
  rules: Map<string, BuiltOrigins>;
}

/**
 * The loaders and writers of every namespace, built from their policies on first use (the
 * default origin is built per namespace, so each namespace has its own breaker, limits and
 * dead-letter thresholds) and rebuilt when a policy changes at run time.
 */
export class OriginRegistry {
  private readonly built = new Map<string, Built>();
  private readonly overrides = new Map<string, OriginPair>();
  private readonly allowlist: OriginAllowlist;

  constructor(private readonly options: OriginRegistryOptions) {
    const { defaults, namespaces } = options.configured;
    const configured = [defaults, ...Object.values(namespaces)]
      .flatMap((pair) => [pair, ...Object.values(pair.rules ?? {})])
      .flatMap((pair) => [pair.loader, pair.writer, pair.fallback].filter((p): p is OriginPolicy => p !== undefined));
    this.allowlist = new OriginAllowlist(options.allowedTargets ?? [], configured);
  }

  /** Keys whose loads kept failing, of one namespace or all, newest last. */
  deadLetters(namespace?: string): DeadLetterRecord[] {
    const origins = namespace === undefined ? [...this.built.values()] : [this.built.get(namespace)];
    return origins
      .flatMap((b) => (b ? [b, ...b.rules.values()] : []))
      .flatMap((b) => b.loader?.deadLetters.list(namespace) ?? [])
      .sort((a, b) => a.lastFailure - b.lastFailure);
  }

  /**
   * The loader of a namespace, or undefined when its policy names none. With `rule` (the name of
   * the key rule in force for the key): that rule's own loader when it names one, else the namespace's.
   */
  loaderFor(namespace: string, rule?: string): Loader | undefined {
    return this.originsFor(namespace, rule, "loader")?.loader;
  }

  /** The writer of a namespace (or of its key rule `rule`, as for {@link loaderFor}); undefined when none. */
  writerFor(namespace: string, rule?: string): Writer | undefined {
    return this.originsFor(namespace, rule, "writer")?.writer;
  }

  /** The fallback origin of a namespace (or of its key rule `rule`, as for {@link loaderFor}); undefined when none. */
  fallbackFor(namespace: string, rule?: string): Loader | undefined {
    return this.originsFor(namespace, rule, "fallback")?.loader;
  }

  /** The origins in force for a namespace. */
  policyOf(namespace: string): OriginPair {
    return (
      this.overrides.get(namespace) ?? this.options.configured.namespaces[namespace] ?? this.options.configured.defaults
    );
  }

  /**
   * Replaces a namespace's origins (AdminService.UpdatePolicy): PERMISSION_DENIED for a target
   * outside the allowlist, another error for an unusable policy.
   */
  configure(namespace: string, pair: OriginPair): void {
    this.checkAllowed(pair);
    const previous = this.built.get(namespace);
    const next = this.build(namespace, pair, previous);
    // Every origin of the namespace (and of its rules) that the new one did not keep is closed.
    if (previous) {
      const kept = new Set(allOrigins(next));
      for (const origin of allOrigins(previous)) if (!kept.has(origin)) origin.close();
    }
    this.overrides.set(namespace, pair);
    this.built.set(namespace, next);
  }

  /** Throws, as `configure` would, for a pair that is not allowed or cannot be built; changes nothing. */
  validate(namespace: string, pair: OriginPair): void {
    this.checkAllowed(pair);
    const built = this.build(namespace, pair);
    // Rule origins are built on first use: build them now so that a bad one is refused here.
    for (const [name, rule] of Object.entries(pair.rules ?? {}))
      built.rules.set(name, this.buildOrigins(namespace, rule, undefined, name));
    closeBuilt(built);
  }

  /** PERMISSION_DENIED for the first origin, the namespace's or a rule's, outside the allowlist. */
  private checkAllowed(pair: OriginPair): void {
    this.allowlist.checkPair(pair);
    for (const [name, rule] of Object.entries(pair.rules ?? {})) {
      try {
        this.allowlist.checkPair(rule);
      } catch (error) {
        if (error instanceof CacheError) throw new CacheError(error.code, `rule ${name}: ${error.message}`);
        throw error;
      }
    }
  }

  /** Returns a namespace to its configured origins. */
  reset(namespace: string): void {
    this.close(namespace);
    this.overrides.delete(namespace);
  }

  /** The loader breaker's state, or undefined when the namespace has no loader. */
  breakerState(namespace: string): BreakerState | undefined {
    return this.built.get(namespace)?.loader?.breakerState();
  }

  /** Counters of the namespaces whose origins were built. */
  counters(): Map<string, OriginStats> {
    const out = new Map<string, OriginStats>();
    for (const [namespace, built] of this.built) if (built.loader) out.set(namespace, built.loader.counters());
    return out;
  }

  closeAll(): void {
    for (const namespace of [...this.built.keys()]) this.close(namespace);
  }

  private get(namespace: string): Built {
    let built = this.built.get(namespace);
    if (!built) {
      built = this.build(namespace, this.policyOf(namespace));
      this.built.set(namespace, built);
    }
    return built;
  }

  /**
   * The origins that serve `role` for a key under `rule`: the rule's, built on first use, when
   * the rule names an origin for that role; else the namespace's.
   */
  private originsFor(namespace: string, rule: string | undefined, role: keyof RuleOrigins): Origin | undefined {
    const built = this.get(namespace);
    const own = rule === undefined ? undefined : built.policy.rules?.[rule];
    // A rule with a loader and no writer writes through its loader's origin, as a namespace does.
    if (!own || !(own[role] || (role === "writer" && own.loader))) return built[role];
    let origins = built.rules.get(rule as string);
    if (!origins) {
      origins = this.buildOrigins(namespace, own, undefined, rule);
      built.rules.set(rule as string, origins);
    }
    return origins[role] ?? built[role];
  }

  /**
   * A namespace's origins for `pair`. Rule origins are built on first use. An origin whose policy
   * is the same as in `previous` (same namespace or rule, same role) is kept, breaker and all.
   */
  private build(namespace: string, pair: OriginPair, previous?: Built): Built {
    const rules = new Map<string, BuiltOrigins>();
    for (const [name, before] of previous?.rules ?? []) {
      const now = pair.rules?.[name];
      if (now) rules.set(name, this.buildOrigins(namespace, now, before, name));
    }
    return { ...this.buildOrigins(namespace, pair, previous), policy: pair, rules };
  }

  /** Loader, writer and fallback for `pair`, reusing those of `previous` whose policy is unchanged. */
  private buildOrigins(namespace: string, pair: RuleOrigins, previous?: BuiltOrigins, rule?: string): BuiltOrigins {
    const publish = this.options.publishDeadLetter;
    const options = {
      ...(publish ? { publishDeadLetter: publish } : {}),
      ...(rule === undefined ? {} : { rule }),
      ...(this.options.userAgent ? { userAgent: this.options.userAgent } : {}),
    };
    const make = (policy: OriginPolicy | undefined, before: OriginPolicy | undefined, origin: Origin | undefined) => {
      if (!policy?.kind.case) return undefined;
      if (origin && before && equals(OriginPolicySchema, policy, before)) return origin;
      return createOrigin(namespace, policy, options);
    };
    const loader = make(pair.loader, previous?.policy.loader, previous?.loader);
    const writer = pair.writer
      ? make(pair.writer, previous?.policy.writer, previous?.policy.writer ? previous.writer : undefined)
      : loader;
    const fallback = make(pair.fallback, previous?.policy.fallback, previous?.fallback);
    return { policy: pair, loader, writer: writer?.writer ? writer : undefined, fallback };
  }

  private close(namespace: string): void {
    const built = this.built.get(namespace);
    if (!built) return;
    closeBuilt(built);
    this.built.delete(namespace);
  }
}

/** Every distinct origin built for a namespace and its rules. */
function allOrigins(built: Built): Set<Origin> {
  const out = new Set<Origin>();
  for (const origins of [built, ...built.rules.values()]) {
    for (const origin of [origins.loader, origins.writer, origins.fallback]) if (origin) out.add(origin);
  }
  return out;
}

function closeBuilt(built: Built): void {
  for (const origin of allOrigins(built)) origin.close();
}
