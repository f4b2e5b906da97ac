import { type KeyRule, ruleProblems, withOverrides } from "./key-rules.js";

/**
 * When an L2 hit is copied into L1: `frequency`, when L1's sketch estimate reaches
 * `minFrequency` (0: always); `after-hits`, after `minFrequency` L2 hits on this instance within
 * `windowMs`; `admission`, when L1's TinyLFU would admit the key now.
 */
export type PromotionMode = "frequency" | "always" | "never" | "after-hits" | "admission";

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
  /**
   * Admission in this layer. L1: TinyLFU decides which entries stay when full (false: this
   * namespace's entries are always admitted). L2: one-hit wonders stay out of Redis.
   */
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
  promotion: { mode: PromotionMode; minFrequency: number; windowMs: number };
  maxValueBytes: number;
  /** How long a "not found" answer is cached. */
  negativeTtlMs: number;
  /** Loader time limits (0: none). Past `softMs` a stale value is answered while the load goes on; past `hardMs` the load is abandoned. */
  loadTimeouts: { softMs: number; hardMs: number };
  /** Value answered when the loader fails and nothing stale is left. */
  fallbackValue: Uint8Array | undefined;
  encryptionKeyId: string;
  /**
   * Longest TTL an entry may have (a Set asking for more is refused, a loader's longer TTL is
   * cut); 0: the longest policy TTL ({@link longestPolicyTtlMs}). Stamps are kept this long.
   */
  maxTtlMs: number;
  /** Rules for some of the namespace's keys, first match wins (see key-rules.ts). */
  rules: readonly KeyRule[];
}

/** Largest value a namespace may accept: far above any gRPC message a port accepts. */
export const MAX_VALUE_BYTES = 1 << 30;

/** Bound of every duration in a policy and of explicit TTLs: a year. */
export const MAX_DURATION_MS = 365 * 86_400_000;

/** The longest TTL the policy itself gives an entry, jitter included. */
export function longestPolicyTtlMs(s: NamespaceSettings): number {
  const layers = Math.max(s.l1.ttlMs * (1 + s.l1.jitter), s.l2.ttlMs * (1 + s.l2.jitter));
  return Math.max(
    layers,
    s.adaptiveTtl.enabled ? s.adaptiveTtl.maxTtlMs * (1 + Math.max(s.l1.jitter, s.l2.jitter)) : 0,
  );
}

/** The longest TTL an explicit TTL (of a Set or a loader) may ask for in this namespace. */
export function explicitTtlLimitMs(s: NamespaceSettings): number {
  return s.maxTtlMs > 0 ? s.maxTtlMs : longestPolicyTtlMs(s);
}

/**
 * How long after its creation an entry of this namespace can still be served, stale windows
 * included: an invalidation stamp must be kept at least this long, or what it hid comes back.
 */
export function longestLifetimeMs(s: NamespaceSettings): number {
  const stale = Math.max(s.failSafe.maxStaleMs, s.l1.staleWhileRevalidateMs, s.l2.staleWhileRevalidateMs);
  return Math.max(longestPolicyTtlMs(s), explicitTtlLimitMs(s)) + stale;
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
    promotion: { mode: "frequency", minFrequency: 0, windowMs: 60_000 },
    maxValueBytes: 1024 * 1024,
    negativeTtlMs: 30_000,
    loadTimeouts: { softMs: 0, hardMs: 30_000 },
    fallbackValue: undefined,
    encryptionKeyId: "",
    maxTtlMs: 0,
    rules: [],
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
  if (!(s.maxValueBytes > 0 && s.maxValueBytes <= MAX_VALUE_BYTES)) {
    problems.push(`maxValueBytes must be between 1 and ${MAX_VALUE_BYTES} (1 GiB)`);
  }
  if (s.negativeTtlMs < 0) problems.push("negativeTtl must not be negative");
  if (s.loadTimeouts.softMs < 0 || s.loadTimeouts.hardMs < 0) problems.push("loader timeouts must not be negative");
  if (s.loadTimeouts.hardMs > 0 && s.loadTimeouts.softMs > s.loadTimeouts.hardMs) {
    problems.push("loader.softTimeout must not exceed loader.hardTimeout");
  }
  if (!(s.maxTtlMs >= 0 && s.maxTtlMs <= MAX_DURATION_MS)) problems.push("maxTtl must be between 0 and 365 days");
  for (const [name, ms] of durations(s)) {
    if (!(ms >= 0)) problems.push(`${name} must not be negative`);
    else if (ms > MAX_DURATION_MS) problems.push(`${name} must not exceed 365 days`);
  }
  if (!(s.priorityRefresh.maxConcurrent >= 1 && s.priorityRefresh.maxConcurrent <= 1000)) {
    problems.push("priorityRefresh.maxConcurrent must be between 1 and 1000");
  }
  if (!(s.priorityRefresh.maxPerSecond > 0 && s.priorityRefresh.maxPerSecond <= 1_000_000)) {
    problems.push("priorityRefresh.maxPerSecond must be greater than 0 and at most 1000000");
  }
  if (!(s.priorityRefresh.topKeys >= 1 && s.priorityRefresh.topKeys <= 10_000)) {
    problems.push("priorityRefresh.topKeys must be between 1 and 10000");
  }
  if (!(s.earlyRefresh.beta <= 100)) problems.push("earlyRefresh.beta must be at most 100");
  if (s.promotion.mode === "after-hits") {
    if (
      !(Number.isInteger(s.promotion.minFrequency) && s.promotion.minFrequency >= 1 && s.promotion.minFrequency <= 1000)
    ) {
      problems.push("promotion.minFrequency must be between 1 and 1000 hits with mode AFTER_HITS");
    }
    if (!(s.promotion.windowMs > 0 && s.promotion.windowMs <= MAX_DURATION_MS)) {
      problems.push("promotion.window must be greater than 0 and at most 365 days");
    }
  } else if (!(s.promotion.minFrequency >= 0 && s.promotion.minFrequency <= 15)) {
    problems.push("promotion.minFrequency must be between 0 and 15 (the sketch counts to 15)");
  }
  const ruleList = ruleProblems(s.rules);
  problems.push(...ruleList);
  if (ruleList.length === 0) {
    s.rules.forEach((rule, i) => {
      for (const problem of validateSettings(withOverrides(s, rule.overrides))) {
        problems.push(`rules[${i}] (${rule.name}): ${problem}`);
      }
    });
  }
  return problems;
}

/**
 * The longest an entry of the namespace, under any of its rules, can be served after its
 * creation (see {@link longestLifetimeMs}): how long its invalidation stamps must be kept.
 */
export function longestLifetimeWithRulesMs(s: NamespaceSettings): number {
  let longest = longestLifetimeMs(s);
  for (const rule of s.rules) longest = Math.max(longest, longestLifetimeMs(withOverrides(s, rule.overrides)));
  return longest;
}

/** Every duration of a policy by its field name, for bounds checks. */
function durations(s: NamespaceSettings): [string, number][] {
  return [
    ["l1.ttl", s.l1.ttlMs],
    ["l1.staleWhileRevalidate", s.l1.staleWhileRevalidateMs],
    ["l2.ttl", s.l2.ttlMs],
    ["l2.staleWhileRevalidate", s.l2.staleWhileRevalidateMs],
    ["failSafe.maxStale", s.failSafe.maxStaleMs],
    ["failSafe.throttle", s.failSafe.throttleMs],
    ["adaptiveTtl.maxTtl", s.adaptiveTtl.maxTtlMs],
    ["negativeTtl", s.negativeTtlMs],
    ["loader.softTimeout", s.loadTimeouts.softMs],
    ["loader.hardTimeout", s.loadTimeouts.hardMs],
    ["adaptiveTtl.minTtl", s.adaptiveTtl.minTtlMs],
  ];
}
