/** One layer's settings for a namespace. Times in milliseconds. */
export interface LayerSettings {
  enabled: boolean;
  /** Hard TTL: never served after it (except as a stale fallback). */
  ttlMs: number;
  /** Soft TTL: after it the value is refreshed. Never more than `ttlMs`. */
  freshForMs: number;
  /** Random spread added to TTLs, as a fraction of the TTL. */
  jitter: number;
  /** How long past the hard TTL a value may be served while a refresh runs. */
  staleWhileRevalidateMs: number;
  /** TinyLFU admission in this layer. */
  admission: boolean;
}

/** How a write travels to the system of record. */
export type WriteMode = "cache-only" | "write-through" | "write-behind";

/** Everything the engine needs to know about one namespace. Times in milliseconds. */
export interface NamespaceSettings {
  l1: LayerSettings;
  l2: LayerSettings;
  failSafe: { enabled: boolean; maxStaleMs: number; throttleMs: number };
  earlyRefresh: { enabled: boolean; beta: number };
  adaptiveTtl: { enabled: boolean; minTtlMs: number; maxTtlMs: number };
  priorityRefresh: { enabled: boolean; topKeys: number; maxConcurrent: number; maxPerSecond: number };
  writeMode: WriteMode;
  promotion: { minFrequency: number; useAdmission: boolean };
  maxValueBytes: number;
  /** How long a "not found" answer is cached. */
  negativeTtlMs: number;
  /** Loader time limits (0: none). Past `softMs` a stale value is answered while the load goes on; past `hardMs` the load is abandoned. */
  loadTimeouts: { softMs: number; hardMs: number };
  /** Value answered when the loader fails and nothing stale is left. */
  fallbackValue: Uint8Array | undefined;
  encryptionKeyId: string;
}

/** The defaults every namespace starts from. */
export function defaultSettings(): NamespaceSettings {
  return {
    l1: {
      enabled: true,
      ttlMs: 5 * 60_000,
      freshForMs: 5 * 60_000,
      jitter: 0.1,
      staleWhileRevalidateMs: 0,
      admission: true,
    },
    l2: {
      enabled: true,
      ttlMs: 60 * 60_000,
      freshForMs: 60 * 60_000,
      jitter: 0.1,
      staleWhileRevalidateMs: 0,
      admission: false,
    },
    failSafe: { enabled: true, maxStaleMs: 60 * 60_000, throttleMs: 5_000 },
    earlyRefresh: { enabled: false, beta: 1 },
    adaptiveTtl: { enabled: false, minTtlMs: 60_000, maxTtlMs: 60 * 60_000 },
    priorityRefresh: { enabled: false, topKeys: 100, maxConcurrent: 4, maxPerSecond: 50 },
    writeMode: "cache-only",
    promotion: { minFrequency: 0, useAdmission: true },
    maxValueBytes: 1024 * 1024,
    negativeTtlMs: 30_000,
    loadTimeouts: { softMs: 0, hardMs: 30_000 },
    fallbackValue: undefined,
    encryptionKeyId: "",
  };
}

/** Problems with a settings object, each naming the field; empty when it is valid. */
export function validateSettings(s: NamespaceSettings): string[] {
  const problems: string[] = [];
  for (const layer of ["l1", "l2"] as const) {
    const l = s[layer];
    if (!(l.ttlMs > 0)) problems.push(`${layer}.ttl must be greater than 0`);
    if (l.freshForMs < 0) problems.push(`${layer}.freshFor must not be negative`);
    if (l.freshForMs > l.ttlMs) problems.push(`${layer}.freshFor must not exceed ${layer}.ttl`);
    if (!(l.jitter >= 0 && l.jitter <= 1)) problems.push(`${layer}.jitter must be between 0 and 1`);
    if (l.staleWhileRevalidateMs < 0) problems.push(`${layer}.staleWhileRevalidate must not be negative`);
  }
  if (s.failSafe.maxStaleMs < 0) problems.push("failSafe.maxStale must not be negative");
  if (!(s.earlyRefresh.beta > 0)) problems.push("earlyRefresh.beta must be greater than 0");
  if (s.adaptiveTtl.minTtlMs > s.adaptiveTtl.maxTtlMs) {
    problems.push("adaptiveTtl.minTtl must not exceed adaptiveTtl.maxTtl");
  }
  if (!(s.maxValueBytes > 0)) problems.push("maxValueBytes must be greater than 0");
  if (s.negativeTtlMs < 0) problems.push("negativeTtl must not be negative");
  if (s.loadTimeouts.softMs < 0 || s.loadTimeouts.hardMs < 0) problems.push("loader timeouts must not be negative");
  if (s.loadTimeouts.hardMs > 0 && s.loadTimeouts.softMs > s.loadTimeouts.hardMs) {
    problems.push("loader.softTimeout must not exceed loader.hardTimeout");
  }
  if (s.priorityRefresh.maxConcurrent < 1) problems.push("priorityRefresh.maxConcurrent must be at least 1");
  if (!(s.priorityRefresh.maxPerSecond > 0)) problems.push("priorityRefresh.maxPerSecond must be greater than 0");
  return problems;
}
