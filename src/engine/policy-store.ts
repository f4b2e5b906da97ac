import { CacheError, Status } from "../errors.js";
import { CompiledRules, type RuleSettings } from "./key-rules.js";
import { defaultSettings, type NamespaceSettings, validateSettings } from "./policy.js";

/** Namespace names: lower-case, digits, `_ . -`, at most 64 characters. */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/**
 * The settings of every namespace: defaults, plus the namespaces' own settings from config
 * or changed at run time. A change is seen by the next request; listeners hear of it (the
 * edge uses that to tell other instances).
 */
export class PolicyStore {
  private readonly defaultSettings: NamespaceSettings;
  private readonly custom = new Map<string, NamespaceSettings>();
  private readonly listeners = new Set<(namespace: string) => void>();
  /** Each settings object's rules, compiled once (on first use after a change). */
  private readonly compiled = new WeakMap<NamespaceSettings, CompiledRules>();

  /**
   * `maxCustomized` bounds the namespaces with settings of their own (those of the config
   * count too): a client cannot grow the store without end through the API. `problemsOf`
   * adds the edge's checks to the engine's (an encryption key id the key ring lacks).
   */
  constructor(
    defaults: NamespaceSettings = defaultSettings(),
    custom: Record<string, NamespaceSettings> = {},
    private readonly maxCustomized = 1000,
    private readonly problemsOf: (settings: NamespaceSettings) => string[] = () => [],
  ) {
    this.defaultSettings = this.checked("defaults", defaults);
    for (const [name, settings] of Object.entries(custom)) this.custom.set(name, this.checked(name, settings));
  }

  /** The settings in force for a namespace. */
  get(namespace: string): NamespaceSettings {
    return this.custom.get(namespace) ?? this.defaultSettings;
  }

  /**
   * The settings in force for one key: those of the namespace's first rule matching the key,
   * or the namespace's own. Without rules this costs what {@link get} costs.
   */
  forKey(namespace: string, key: string): NamespaceSettings {
    const settings = this.get(namespace);
    if (settings.rules.length === 0) return settings;
    return this.rulesOf(settings).match(key)?.settings ?? settings;
  }

  /** The namespace's first rule matching the key, with its settings; undefined when none does. */
  ruleFor(namespace: string, key: string): RuleSettings | undefined {
    const settings = this.get(namespace);
    return settings.rules.length === 0 ? undefined : this.rulesOf(settings).match(key);
  }

  private rulesOf(settings: NamespaceSettings): CompiledRules {
    let compiled = this.compiled.get(settings);
    if (!compiled) {
      compiled = new CompiledRules(settings, settings.rules);
      this.compiled.set(settings, compiled);
    }
    return compiled;
  }

  /** The settings every namespace without its own starts from. */
  get defaults(): NamespaceSettings {
    return this.defaultSettings;
  }

  /** Whether the namespace has settings of its own. */
  isCustomized(namespace: string): boolean {
    return this.custom.has(namespace);
  }

  /** Namespaces with settings of their own. */
  customized(): string[] {
    return [...this.custom.keys()];
  }

  /**
   * Replaces a namespace's settings; throws INVALID_ARGUMENT naming the bad field, or
   * RESOURCE_EXHAUSTED when a new namespace would pass the bound.
   */
  set(namespace: string, settings: NamespaceSettings): void {
    this.check(namespace, settings);
    this.custom.set(namespace, settings);
    this.rulesOf(settings);
    this.emit(namespace);
  }

  /** Throws what {@link set} would throw, changing nothing. */
  check(namespace: string, settings: NamespaceSettings): void {
    this.checked(namespace, settings);
    if (!this.custom.has(namespace) && this.custom.size >= this.maxCustomized) {
      throw new CacheError(
        Status.RESOURCE_EXHAUSTED,
        `${this.custom.size} namespaces have policies of their own, the most allowed (limits.maxNamespaces); reset one or raise the limit`,
      );
    }
  }

  /** Returns a namespace to the defaults. */
  reset(namespace: string): void {
    if (this.custom.delete(namespace)) this.emit(namespace);
  }

  /** Calls `listener` with the namespace name after every change. Returns an unsubscribe. */
  onChange(listener: (namespace: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(namespace: string): void {
    for (const listener of this.listeners) listener(namespace);
  }

  private checked(name: string, settings: NamespaceSettings): NamespaceSettings {
    return checked(name, settings, this.problemsOf);
  }
}

function checked(
  name: string,
  settings: NamespaceSettings,
  problemsOf: (settings: NamespaceSettings) => string[],
): NamespaceSettings {
  const problems = [...validateSettings(settings), ...problemsOf(settings)];
  if (problems.length > 0) {
    throw new CacheError(Status.INVALID_ARGUMENT, `policy for ${name}: ${problems.join("; ")}`);
  }
  return settings;
}
