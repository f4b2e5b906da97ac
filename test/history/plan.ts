// The workload a seed generates: per client, an endless deterministic stream of operations;
// and the faults of a run. The same seed (and options) always yields the same streams, so a
// failing run can be replayed — as far as concurrency allows: which operation reaches the
// service first, and when a fault lands among them, is up to the scheduler.

import { categoryTag, keySpace, SET_TAGS } from "./keys.js";
import { Random } from "./prng.js";

/** Which of the run's namespaces an operation addresses. */
export type NamespaceRole = "main" | "writeBehind";

/** What a planned operation does. */
export type Action =
  | { kind: "get"; namespace: NamespaceRole; key: string; bypassL1: boolean }
  | { kind: "bulkGet"; namespace: NamespaceRole; keys: string[] }
  | { kind: "set"; key: string; tags: string[]; version?: number; ttlMs?: number }
  | { kind: "writeBehindSet"; key: string; tags: string[] }
  | { kind: "invalidate"; target: { keys: string[]; tags: string[]; prefix?: string } }
  /** The origin's value of the key changes, then the key is invalidated. */
  | { kind: "changeOrigin"; key: string }
  | { kind: "updatePolicy"; l1TtlSeconds: number }
  | { kind: "getPolicy" }
  /** The client does nothing for a while (lets bounds pass between its operations). */
  | { kind: "pause"; ms: number };

/** One operation of one client's stream. */
export interface PlannedOp {
  /** "<client>.<seq>": also the id of what the history records for it. */
  id: string;
  client: number;
  seq: number;
  /** Index of the instance the call goes to. */
  instance: number;
  /** Time the client waits before this operation. */
  thinkMs: number;
  action: Action;
}

/** What the generator needs to know about the fleet. */
export interface WorkloadShape {
  instances: number;
  keys: readonly string[];
}

/** Keys in the default key space (3 categories × 10 products). */
export const DEFAULT_KEYS = 30;

/**
 * A workload over `keys` keys, about (3 categories × keys/3 products; default 30): fewer keys,
 * more Sets, loads and invalidations of one key at once.
 */
export function defaultShape(instances: number, keys = DEFAULT_KEYS): WorkloadShape {
  return { instances, keys: keySpace(3, Math.max(1, Math.ceil(keys / 3))) };
}

/** How often each action is chosen (relative weights). */
const MIX = {
  get: 30,
  bulkGet: 10,
  set: 16,
  writeBehindSet: 6,
  invalidateKey: 6,
  invalidateTag: 3,
  invalidatePrefix: 2,
  changeOrigin: 6,
  updatePolicy: 2,
  getPolicy: 6,
  pause: 2,
} as const;

/** Explicit Set versions are drawn from [1, this]: around the origin's (generation × 1000). */
const MAX_EXPLICIT_VERSION = 8000;

/**
 * One client's operations, generated on demand from the seed. Policy markers (L1 TTLs in
 * seconds) are unique per operation and far above the configured 300 s.
 */
export class ClientWorkload {
  private readonly random: Random;
  private seq = 0;

  constructor(
    seed: number,
    readonly client: number,
    private readonly shape: WorkloadShape,
  ) {
    this.random = Random.from(seed, `client-${client}`);
  }

  next(): PlannedOp {
    const r = this.random;
    const seq = this.seq++;
    return {
      id: `${this.client}.${seq}`,
      client: this.client,
      seq,
      instance: r.int(0, this.shape.instances - 1),
      thinkMs: r.int(5, 60),
      action: this.action(seq),
    };
  }

  /** The first `count` operations. */
  take(count: number): PlannedOp[] {
    return Array.from({ length: count }, () => this.next());
  }

  private action(seq: number): Action {
    const r = this.random;
    const keys = this.shape.keys;
    const key = r.pick(keys);
    switch (r.weighted(MIX)) {
      case "get":
        return { kind: "get", namespace: r.chance(0.15) ? "writeBehind" : "main", key, bypassL1: r.chance(0.1) };
      case "bulkGet":
        return {
          kind: "bulkGet",
          namespace: r.chance(0.15) ? "writeBehind" : "main",
          keys: r.sample(keys, r.int(2, 6)),
        };
      case "set": {
        const action: Action = { kind: "set", key, tags: this.tags(key) };
        if (r.chance(0.4)) action.version = r.int(1, MAX_EXPLICIT_VERSION);
        if (r.chance(0.25)) action.ttlMs = r.int(1000, 4000);
        return action;
      }
      case "writeBehindSet":
        return { kind: "writeBehindSet", key, tags: this.tags(key) };
      case "invalidateKey":
        return { kind: "invalidate", target: { keys: [key], tags: [] } };
      case "invalidateTag":
        return { kind: "invalidate", target: { keys: [], tags: [r.pick([categoryTag(key), ...SET_TAGS])] } };
      case "invalidatePrefix": {
        const [category, product] = /^c:(\d+):p:(\d+)$/.exec(key)?.slice(1) ?? ["0", "0"];
        const roll = r.float();
        const prefix = roll < 0.7 ? `c:${category}:` : roll < 0.95 ? `c:${category}:p:${product}` : "";
        return { kind: "invalidate", target: { keys: [], tags: [], prefix } };
      }
      case "changeOrigin":
        return { kind: "changeOrigin", key };
      case "updatePolicy":
        return { kind: "updatePolicy", l1TtlSeconds: 1000 + this.client * 100_000 + seq };
      case "getPolicy":
        return { kind: "getPolicy" };
      case "pause":
        return { kind: "pause", ms: r.int(500, 3000) };
    }
  }

  private tags(key: string): string[] {
    const r = this.random;
    const tags: string[] = [];
    if (r.chance(0.5)) tags.push(categoryTag(key));
    if (r.chance(0.5)) tags.push(r.pick(SET_TAGS));
    return tags;
  }
}

/** The faults a run may inject. */
export type FaultKind = "redis" | "kafka" | "kill";

export const FAULT_KINDS: readonly FaultKind[] = ["redis", "kafka", "kill"];

/**
 * How long each kind of fault lasts, [min, max] ms: pauses longer than B (L1 stops being
 * trusted), Kafka's sometimes past the 5 s a write-behind Set waits for it (it must then fail
 * and never reach the writer); a killed instance is down for a moment before it restarts.
 */
const FAULT_DURATIONS_MS: Readonly<Record<FaultKind, [number, number]>> = {
  redis: [2500, 5000],
  kafka: [3000, 8000],
  kill: [500, 2000],
};

/** One fault: at `atMs` after the start, for `durationMs` (pauses) or down that long (kill). */
export interface PlannedFault {
  atMs: number;
  kind: FaultKind;
  durationMs: number;
  /** The instance killed (kill only). */
  instance: number;
}

/**
 * The faults of a run of `runMs`: each enabled kind once (in seeded order), then one more
 * per 20 s of run, spread over 10–85% of the run so that each ends before the run does.
 */
export function planFaults(
  seed: number,
  kinds: readonly FaultKind[],
  runMs: number,
  instances: number,
): PlannedFault[] {
  if (kinds.length === 0) return [];
  const r = Random.from(seed, "faults");
  const count = Math.max(kinds.length, Math.round(runMs / 20_000));
  const order = [...r.sample(kinds, kinds.length)];
  while (order.length < count) order.push(r.pick(kinds));
  const span = runMs * 0.75;
  return order.map((kind, i) => ({
    atMs: Math.round(runMs * 0.1 + (span * (i + r.float() * 0.5)) / count),
    kind,
    durationMs: r.int(...FAULT_DURATIONS_MS[kind]),
    instance: r.int(0, instances - 1),
  }));
}
