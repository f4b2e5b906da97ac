/** A write acknowledged in write-behind mode, for the system of record. */
export interface WriteBehindEvent {
  namespace: string;
  key: string;
  value: Uint8Array;
  version: bigint;
  tags: readonly string[];
  ttlMs?: number | undefined;
}

/** What an invalidation dropped, as other instances need to hear it. */
export interface InvalidationNotice {
  keys: readonly string[];
  tags: readonly string[];
  prefix?: string | undefined;
  /** For a Set: the new version; other copies of the key are dropped. */
  version?: bigint | undefined;
  cause: "invalidate" | "set" | "adjust-ttl";
  /** When it happened (the stamp for tags and prefixes), ms since the epoch. */
  at: number;
  /** With cause "adjust-ttl": the keys live `ttlMs` from `at` in `layer` instead of being dropped. */
  ttlAdjustment?: TtlAdjustment | undefined;
}

/** A new lifetime for keys (AdminService.AdjustTtl). */
export interface TtlAdjustment {
  ttlMs: number;
  layer: "all" | "l1" | "l2";
}

/**
 * Tells other instances and services what changed (a Kafka topic in the service). The engine
 * calls it after applying a change locally; `invalidated` resolves true once the notice is
 * durably handed over, and rejects when it could not be within its bound (the service's Kafka
 * bus: a CacheError UNAVAILABLE after 2 s; the notice stays queued and is delivered later).
 * `writeBehind` must resolve only once the write is durable, and reject when it is not: a
 * CacheError DEADLINE_EXCEEDED when the outcome is unknown, anything else when it will never
 * be applied.
 */
export interface EventBus {
  invalidated(namespace: string, notice: InvalidationNotice): Promise<boolean>;
  writeBehind?(event: WriteBehindEvent): Promise<void>;
}
