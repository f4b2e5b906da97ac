import { CacheError, Status } from "../errors.js";
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

  constructor(defaults: NamespaceSettings = defaultSettings(), custom: Record<string, NamespaceSettings> = {}) {
    this.defaultSettings = checked("defaults", defaults);
    for (const [name, settings] of Object.entries(custom)) this.custom.set(name, checked(name, settings));
  }

  /** The settings in force for a namespace. */
  get(namespace: string): NamespaceSettings {
    return this.custom.get(namespace) ?? this.defaultSettings;
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

  /** Replaces a namespace's settings; throws INVALID_ARGUMENT naming the bad field. */
  set(namespace: string, settings: NamespaceSettings): void {
    this.custom.set(namespace, checked(namespace, settings));
    this.emit(namespace);
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
}

function checked(name: string, settings: NamespaceSettings): NamespaceSettings {
  const problems = validateSettings(settings);
  if (problems.length > 0) {
    throw new CacheError(Status.INVALID_ARGUMENT, `policy for ${name}: ${problems.join("; ")}`);
  }
  return settings;
}
