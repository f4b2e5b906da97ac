import type { OriginPair } from "../config/config.js";
import type { Loader } from "../engine/loader.js";
import type { Writer } from "../engine/writer.js";
import type { OriginPolicy } from "../gen/mlcache/v1/policy_pb.js";
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

interface Built {
  policy: OriginPair;
  loader?: Origin | undefined;
  writer?: Origin | undefined;
  fallback?: Origin | undefined;
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
    const configured = [defaults, ...Object.values(namespaces)].flatMap((pair) =>
      [pair.loader, pair.writer, pair.fallback].filter((p): p is OriginPolicy => p !== undefined),
    );
    this.allowlist = new OriginAllowlist(options.allowedTargets ?? [], configured);
  }

  /** Keys whose loads kept failing, of one namespace or all, newest last. */
  deadLetters(namespace?: string): DeadLetterRecord[] {
    const origins = namespace === undefined ? [...this.built.values()] : [this.built.get(namespace)];
    return origins
      .flatMap((b) => b?.loader?.deadLetters.list(namespace) ?? [])
      .sort((a, b) => a.lastFailure - b.lastFailure);
  }

  /** The loader of a namespace, or undefined when its policy names none. */
  loaderFor(namespace: string): Loader | undefined {
    return this.get(namespace).loader?.loader;
  }

  /** The writer of a namespace, or undefined when its policy names none. */
  writerFor(namespace: string): Writer | undefined {
    return this.get(namespace).writer?.writer;
  }

  /** The fallback origin of a namespace, or undefined when its policy names none. */
  fallbackFor(namespace: string): Loader | undefined {
    return this.get(namespace).fallback?.loader;
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
    this.allowlist.checkPair(pair);
    const next = this.build(namespace, pair);
    this.close(namespace);
    this.overrides.set(namespace, pair);
    this.built.set(namespace, next);
  }

  /** Throws, as `configure` would, for a pair that is not allowed or cannot be built; changes nothing. */
  validate(namespace: string, pair: OriginPair): void {
    this.allowlist.checkPair(pair);
    closeBuilt(this.build(namespace, pair));
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

  private build(namespace: string, pair: OriginPair): Built {
    const publish = this.options.publishDeadLetter;
    const make = (policy: OriginPolicy | undefined) =>
      policy?.kind.case
        ? createOrigin(namespace, policy, {
            ...(publish ? { publishDeadLetter: publish } : {}),
            ...(this.options.userAgent ? { userAgent: this.options.userAgent } : {}),
          })
        : undefined;
    const loader = make(pair.loader);
    const writer = pair.writer ? make(pair.writer) : loader;
    return { policy: pair, loader, writer: writer?.writer ? writer : undefined, fallback: make(pair.fallback) };
  }

  private close(namespace: string): void {
    const built = this.built.get(namespace);
    if (!built) return;
    closeBuilt(built);
    this.built.delete(namespace);
  }
}

function closeBuilt(built: Built): void {
  built.loader?.close();
  if (built.writer && built.writer !== built.loader) built.writer.close();
  built.fallback?.close();
}
