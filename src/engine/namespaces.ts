import { CacheError, Status } from "../errors.js";
import { NAMESPACE_PATTERN } from "./policy-store.js";
import { SingleFlight } from "./single-flight.js";
import { Stamps } from "./stamps.js";
import { NamespaceStats } from "./stats.js";
import type { Lookup } from "./types.js";

/** What the engine keeps per namespace. */
export interface NamespaceState {
  readonly name: string;
  readonly stats: NamespaceStats;
  readonly stamps: Stamps;
  /** Loads running now, by key: one map per namespace, so no composite key is built per read. */
  readonly flights: SingleFlight<Lookup>;
  /**
   * How long stamps are kept, and since when that length is in force: a shorter policy only
   * shortens it once every entry made under the longer one has died.
   */
  retention: { ms: number; since: number };
  /**
   * Bumped by every invalidation applied here (made here or heard from elsewhere). A read
   * notes it when it asks L2 and copies what L2 answered into L1 only if it has not moved: an
   * answer read before an invalidation must not come back into L1 after it.
   */
  epoch: number;
}

/** The namespaces seen so far, created on first use up to a cap (a client cannot grow them without end). */
export class Namespaces {
  private readonly states = new Map<string, NamespaceState>();

  constructor(private readonly max: number) {}

  /** The state of a namespace, created on first use; INVALID_ARGUMENT or RESOURCE_EXHAUSTED otherwise. */
  get(name: string): NamespaceState {
    const existing = this.states.get(name);
    if (existing) return existing;
    if (!NAMESPACE_PATTERN.test(name)) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `namespace "${name}" is not valid: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit`,
      );
    }
    if (this.states.size >= this.max) {
      throw new CacheError(
        Status.RESOURCE_EXHAUSTED,
        `too many namespaces (limit ${this.max}); reuse an existing namespace or raise limits.maxNamespaces`,
      );
    }
    const state: NamespaceState = {
      name,
      stats: new NamespaceStats(),
      stamps: new Stamps(),
      flights: new SingleFlight<Lookup>(),
      retention: { ms: 0, since: 0 },
      epoch: 0,
    };
    this.states.set(name, state);
    return state;
  }

  /** The state of a namespace, or undefined when this instance cannot hold it (nothing of it is cached here). */
  tryGet(name: string): NamespaceState | undefined {
    try {
      return this.get(name);
    } catch {
      return undefined;
    }
  }

  /** The state of a namespace seen before, without creating it. */
  find(name: string): NamespaceState | undefined {
    return this.states.get(name);
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  values(): IterableIterator<NamespaceState> {
    return this.states.values();
  }
}
