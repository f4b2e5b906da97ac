import type { Clock, MonotonicTime, Scheduler } from "./clock.js";
import type { EventBus } from "./events.js";
import type { L1Layer, Layer } from "./layer.js";
import type { Loader } from "./loader.js";
import type { PolicyStore } from "./policy-store.js";
import type { L1History } from "./promotion.js";
import type { Versions } from "./versions.js";
import type { Writer } from "./writer.js";

/**
 * Hears every per-key event of the read path, for telemetry that needs keys (the namespace
 * counters are kept by the manager itself). Calls are synchronous and must be cheap.
 */
export interface StatsSink {
  /** A lookup in a layer: `hit` when the layer had a usable entry. */
  access(namespace: string, key: string, layer: "l1" | "l2", hit: boolean): void;
  /** A loader call ended: its duration (0 for a key of a bulk call) and whether it succeeded. */
  load(namespace: string, key: string, ms: number, ok: boolean): void;
  /** A refresh started: early (XFetch) or background (stale, freshness over, refresher). */
  refresh(namespace: string, key: string, kind: "early" | "background"): void;
  /** A read joined a load already running for its key (single-flight). */
  collapsed?(namespace: string, key: string): void;
  /** A wait for a peer's load (fleet lease held elsewhere) ended: keys waited for, how long, how many a peer answered. */
  leaseWait?(namespace: string, keys: number, ms: number, answeredByPeers: number): void;
}

/** The sink that hears nothing. */
export const noSink: StatsSink = { access() {}, load() {}, refresh() {} };

/**
 * Whether L1 may be used now. An instance that cannot be sure it has heard every invalidation
 * (its invalidation feed is behind or unreachable) sets `trusted` to false: reads then skip L1
 * entirely, stale candidates included. Read once per lookup, so keep it a plain field.
 */
export interface L1Trust {
  readonly trusted: boolean;
}

/** L1 trusted for ever: an instance alone, or one without an invalidation feed. */
export const ALWAYS_TRUSTED: L1Trust = { trusted: true };

/**
 * What every room of the engine (read path, load runner, placement, invalidation, writes)
 * works with: the layers, the origins, time and randomness. Built once by the CacheManager.
 */
export interface EngineCore {
  readonly l1: L1Layer | undefined;
  readonly l2: Layer<true> | undefined;
  readonly policies: PolicyStore;
  /** What last happened to recent keys in L1 (for Inspect's l1_reason). */
  readonly l1History: L1History;
  readonly clock: Clock;
  /** Runs the engine's waits (soft and hard load timeouts, polls for a peer's load). */
  readonly scheduler: Scheduler;
  /** Strictly increasing creation times and stamps. */
  readonly time: MonotonicTime;
  readonly versions: Versions;
  /** Uniform random numbers in [0, 1) (jitter, XFetch). */
  readonly random: () => number;
  readonly sink: StatsSink;
  readonly l1Trust: L1Trust;
  /** The loader of a namespace, or of its key rule `rule` (the rule's own, else the namespace's). */
  readonly loaderFor: (namespace: string, rule?: string) => Loader | undefined;
  /** The writer of a namespace, or of its key rule `rule` (the rule's own, else the namespace's). */
  readonly writerFor: (namespace: string, rule?: string) => Writer | undefined;
  /** The fallback origin of a namespace, or of its key rule `rule` (the rule's own, else the namespace's). */
  readonly fallbackFor: (namespace: string, rule?: string) => Loader | undefined;
  readonly events: EventBus | undefined;
  readonly onBackgroundError: (error: unknown, namespace: string, key: string) => void;
}
