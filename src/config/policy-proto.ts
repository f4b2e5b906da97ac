import { create, type DescMessage, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import type { KeyRule as EngineKeyRule, RuleMatch, SettingsOverrides } from "../engine/key-rules.js";
import type {
  PromotionMode as EnginePromotionMode,
  WriteMode as EngineWriteMode,
  LayerSettings,
  NamespaceSettings,
} from "../engine/policy.js";
import { WriteMode } from "../gen/mlcache/v1/common_pb.js";
import {
  type KeyRule,
  KeyRuleSchema,
  type LayerPolicy,
  LayerPolicySchema,
  type NamespacePolicy,
  NamespacePolicySchema,
  OriginPolicySchema,
  PromotionMode,
  type PromotionPolicy,
} from "../gen/mlcache/v1/policy_pb.js";
import type { RuleOrigins } from "./config.js";
import { parseDuration } from "./units.js";

const writeModes: Record<EngineWriteMode, WriteMode> = {
  "cache-only": WriteMode.CACHE_ONLY,
  "write-through": WriteMode.WRITE_THROUGH,
  "write-behind": WriteMode.WRITE_BEHIND,
};

/** The engine's write mode for an API write mode; undefined for UNSPECIFIED. */
export function engineWriteMode(mode: WriteMode): EngineWriteMode | undefined {
  for (const [name, value] of Object.entries(writeModes)) if (value === mode) return name as EngineWriteMode;
  return undefined;
}

/** The API write mode for an engine write mode. */
export function apiWriteMode(mode: EngineWriteMode): WriteMode {
  return writeModes[mode];
}

const promotionModes: Record<EnginePromotionMode, PromotionMode> = {
  frequency: PromotionMode.UNSPECIFIED,
  always: PromotionMode.ALWAYS,
  never: PromotionMode.NEVER,
  "after-hits": PromotionMode.AFTER_HITS,
  admission: PromotionMode.ADMISSION,
};

/** The engine's promotion settings of a PromotionPolicy; throws for an unknown mode. */
function enginePromotion(p: PromotionPolicy, base: NamespaceSettings["promotion"]): NamespaceSettings["promotion"] {
  const mode = Object.entries(promotionModes).find(([, value]) => value === p.mode)?.[0] as
    | EnginePromotionMode
    | undefined;
  if (!mode) {
    throw new Error(
      `promotion.mode has unknown value ${p.mode}; use one of PROMOTION_MODE_UNSPECIFIED, PROMOTION_MODE_ALWAYS, PROMOTION_MODE_NEVER, PROMOTION_MODE_AFTER_HITS, PROMOTION_MODE_ADMISSION`,
    );
  }
  return { mode, minFrequency: p.minFrequency, windowMs: ms(p.window, base.windowMs) };
}

const ms = (d: Duration | undefined, fallback: number): number => (d ? durationMs(d) : fallback);

function overlayLayer(base: LayerSettings, p: LayerPolicy | undefined): LayerSettings {
  if (!p) return base;
  return {
    enabled: p.enabled ?? base.enabled,
    ttlMs: ms(p.ttl, base.ttlMs),
    // A TTL set without freshFor means "fresh for the whole TTL".
    freshForMs: ms(p.freshFor, p.ttl && !p.freshFor ? durationMs(p.ttl) : base.freshForMs),
    jitter: p.jitter ?? base.jitter,
    staleWhileRevalidateMs: ms(p.staleWhileRevalidate, base.staleWhileRevalidateMs),
    admission: p.admission ?? base.admission,
  };
}

/**
 * Applies the fields set in `policy` on top of `base`; fields not set keep base's value.
 * Throws a message naming the field for a value no setting can hold (an unknown enum number,
 * a size past 2^53).
 */
export function overlayPolicy(base: NamespaceSettings, policy: NamespacePolicy): NamespaceSettings {
  const p = policy;
  if (!(p.writeMode in WriteMode)) {
    throw new Error(
      `write_mode has unknown value ${p.writeMode}; use one of WRITE_MODE_CACHE_ONLY, WRITE_MODE_WRITE_THROUGH, WRITE_MODE_WRITE_BEHIND`,
    );
  }
  if (p.maxValueBytes > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`max_value_bytes ${p.maxValueBytes} is too large`);
  return {
    l1: overlayLayer(base.l1, p.l1),
    l2: overlayLayer(base.l2, p.l2),
    failSafe: {
      enabled: p.failSafe?.enabled ?? base.failSafe.enabled,
      maxStaleMs: ms(p.failSafe?.maxStale, base.failSafe.maxStaleMs),
      throttleMs: ms(p.failSafe?.throttle, base.failSafe.throttleMs),
    },
    earlyRefresh: {
      enabled: p.earlyRefresh?.enabled ?? base.earlyRefresh.enabled,
      beta: p.earlyRefresh?.beta ?? base.earlyRefresh.beta,
    },
    adaptiveTtl: {
      enabled: p.adaptiveTtl?.enabled ?? base.adaptiveTtl.enabled,
      minTtlMs: ms(p.adaptiveTtl?.minTtl, base.adaptiveTtl.minTtlMs),
      maxTtlMs: ms(p.adaptiveTtl?.maxTtl, base.adaptiveTtl.maxTtlMs),
    },
    priorityRefresh: {
      enabled: p.priorityRefresh?.enabled ?? base.priorityRefresh.enabled,
      topKeys: p.priorityRefresh?.topKeys || base.priorityRefresh.topKeys,
      maxConcurrent: p.priorityRefresh?.maxConcurrent || base.priorityRefresh.maxConcurrent,
      maxPerSecond: p.priorityRefresh?.maxPerSecond || base.priorityRefresh.maxPerSecond,
    },
    writeMode: engineWriteMode(p.writeMode) ?? base.writeMode,
    promotion: p.promotion ? enginePromotion(p.promotion, base.promotion) : base.promotion,
    maxValueBytes: p.maxValueBytes > 0n ? Number(p.maxValueBytes) : base.maxValueBytes,
    negativeTtlMs: ms(p.negativeTtl, base.negativeTtlMs),
    loadTimeouts: {
      softMs: ms(p.loader?.softTimeout, base.loadTimeouts.softMs),
      hardMs: ms(p.loader?.hardTimeout, base.loadTimeouts.hardMs),
    },
    fallbackValue: p.fallback?.kind.case === "value" ? p.fallback.kind.value : base.fallbackValue,
    encryptionKeyId: p.encryptionKeyId || base.encryptionKeyId,
    maxTtlMs: ms(p.maxTtl, base.maxTtlMs),
    // A policy without rules keeps the rules in force (clear them with the update_mask path "rules").
    rules: p.rules.length > 0 ? p.rules.map((rule, i) => engineRule(rule, i)) : base.rules,
  };
}

/** Fields of a rule's overrides that are namespace-wide, with why. */
const NAMESPACE_WIDE: [keyof NamespacePolicy, string][] = [
  ["namespace", "the rule's namespace is the policy's"],
  ["rules", "rules do not nest"],
  ["encryptionKeyId", "encryption is per namespace"],
  ["maxTtl", "max_ttl bounds the whole namespace's invalidation stamps"],
];

function isSet(value: unknown): boolean {
  if (value === undefined || value === "" || value === 0n) return false;
  return !(Array.isArray(value) && value.length === 0);
}

/** The engine's rule for an API rule; throws naming the rule and field. */
function engineRule(rule: KeyRule, index: number): EngineKeyRule {
  const where = `rules[${index}] (${rule.name || "unnamed"})`;
  if (!rule.match.case) throw new Error(`${where}: set one of exact, prefix, glob`);
  const match: RuleMatch = { kind: rule.match.case, pattern: rule.match.value };
  const o = rule.overrides;
  const overrides: SettingsOverrides = {};
  if (!o) return { name: rule.name, match, overrides };
  for (const [field, why] of NAMESPACE_WIDE) {
    if (isSet(o[field])) throw new Error(`${where}.overrides.${field} cannot be set in a rule: ${why}`);
  }
  try {
    const layer = (p: LayerPolicy | undefined): Partial<LayerSettings> | undefined => {
      if (!p) return undefined;
      const out: Partial<LayerSettings> = {};
      if (p.enabled !== undefined) out.enabled = p.enabled;
      if (p.ttl) out.ttlMs = durationMs(p.ttl);
      // As for a namespace: a TTL without freshFor means "fresh for the whole TTL".
      if (p.freshFor || p.ttl) out.freshForMs = durationMs(p.freshFor ?? (p.ttl as Duration));
      if (p.jitter !== undefined) out.jitter = p.jitter;
      if (p.staleWhileRevalidate) out.staleWhileRevalidateMs = durationMs(p.staleWhileRevalidate);
      if (p.admission !== undefined) out.admission = p.admission;
      return out;
    };
    const l1 = layer(o.l1);
    const l2 = layer(o.l2);
    if (l1) overrides.l1 = l1;
    if (l2) overrides.l2 = l2;
    if (o.failSafe) {
      overrides.failSafe = {
        ...(o.failSafe.enabled !== undefined ? { enabled: o.failSafe.enabled } : {}),
        ...(o.failSafe.maxStale ? { maxStaleMs: durationMs(o.failSafe.maxStale) } : {}),
        ...(o.failSafe.throttle ? { throttleMs: durationMs(o.failSafe.throttle) } : {}),
      };
    }
    if (o.earlyRefresh) {
      overrides.earlyRefresh = {
        ...(o.earlyRefresh.enabled !== undefined ? { enabled: o.earlyRefresh.enabled } : {}),
        ...(o.earlyRefresh.beta !== undefined ? { beta: o.earlyRefresh.beta } : {}),
      };
    }
    if (o.adaptiveTtl) {
      overrides.adaptiveTtl = {
        ...(o.adaptiveTtl.enabled !== undefined ? { enabled: o.adaptiveTtl.enabled } : {}),
        ...(o.adaptiveTtl.minTtl ? { minTtlMs: durationMs(o.adaptiveTtl.minTtl) } : {}),
        ...(o.adaptiveTtl.maxTtl ? { maxTtlMs: durationMs(o.adaptiveTtl.maxTtl) } : {}),
      };
    }
    if (o.priorityRefresh) {
      const { enabled, topKeys, maxConcurrent, maxPerSecond } = o.priorityRefresh;
      if (topKeys || maxConcurrent || maxPerSecond) {
        throw new Error(
          "priority_refresh: top_keys, max_concurrent and max_per_second are the namespace's budget; a rule may set enabled only",
        );
      }
      if (enabled !== undefined) overrides.priorityRefresh = { enabled };
    }
    if (o.promotion) {
      const promotion = enginePromotion(o.promotion, { mode: "frequency", minFrequency: 0, windowMs: 60_000 });
      overrides.promotion = o.promotion.window
        ? promotion
        : { mode: promotion.mode, minFrequency: promotion.minFrequency };
    }
    if (!(o.writeMode in WriteMode)) throw new Error(`write_mode has unknown value ${o.writeMode}`);
    const writeMode = engineWriteMode(o.writeMode);
    if (writeMode) overrides.writeMode = writeMode;
    if (o.maxValueBytes > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Error(`max_value_bytes ${o.maxValueBytes} is too large`);
    if (o.maxValueBytes > 0n) overrides.maxValueBytes = Number(o.maxValueBytes);
    if (o.negativeTtl) overrides.negativeTtlMs = durationMs(o.negativeTtl);
    // The origins themselves (kind, guards) are the origin registry's (see ruleOriginsOf).
    if (o.loader) {
      const { $typeName: _, kind, softTimeout, hardTimeout, ...guards } = o.loader;
      if (!kind.case && Object.values(guards).some((v) => v !== undefined && v !== 0)) {
        throw new Error(
          "loader: set grpc or http to name an origin; without one a rule's loader may set soft_timeout and hard_timeout only",
        );
      }
      if (softTimeout || hardTimeout) {
        overrides.loadTimeouts = {
          ...(softTimeout ? { softMs: durationMs(softTimeout) } : {}),
          ...(hardTimeout ? { hardMs: durationMs(hardTimeout) } : {}),
        };
      }
    }
    if (o.writer && !o.writer.kind.case) throw new Error("writer: set grpc or http to name the rule's writer");
    if (o.fallback?.kind.case === "value") overrides.fallbackValue = o.fallback.kind.value;
  } catch (error) {
    throw new Error(`${where}.overrides: ${(error as Error).message}`);
  }
  return { name: rule.name, match, overrides };
}

/** Most rules of one namespace that may name origins of their own (each holds connections and a breaker). */
export const MAX_RULE_ORIGINS = 32;

/**
 * The origins a policy's rules name (`rules[i].overrides.loader/writer/fallback` with a gRPC or
 * HTTP origin), by rule name; undefined when none does. Throws, naming the field, past
 * {@link MAX_RULE_ORIGINS}.
 */
export function ruleOriginsOf(policy: NamespacePolicy): Record<string, RuleOrigins> | undefined {
  const out: Record<string, RuleOrigins> = {};
  let count = 0;
  for (const rule of policy.rules) {
    const o = rule.overrides;
    const loader = o?.loader?.kind.case ? o.loader : undefined;
    const writer = o?.writer?.kind.case ? o.writer : undefined;
    const fallback =
      o?.fallback?.kind.case === "grpc"
        ? create(OriginPolicySchema, { kind: { case: "grpc", value: o.fallback.kind.value } })
        : undefined;
    if (!loader && !writer && !fallback) continue;
    if (++count > MAX_RULE_ORIGINS) {
      throw new Error(
        `rules: more than ${MAX_RULE_ORIGINS} rules name origins of their own (loader, writer or fallback); each holds its own connections and breaker, so at most ${MAX_RULE_ORIGINS} may`,
      );
    }
    out[rule.name] = { loader, writer, fallback };
  }
  return count > 0 ? out : undefined;
}

/** The API rule of an engine rule: only the overridden fields are set. */
function apiRule(rule: EngineKeyRule): KeyRule {
  const o = rule.overrides;
  const layer = (l: Partial<LayerSettings> | undefined): LayerPolicy | undefined =>
    l
      ? create(LayerPolicySchema, {
          ...(l.enabled !== undefined ? { enabled: l.enabled } : {}),
          ...(l.ttlMs !== undefined ? { ttl: durationFromMs(l.ttlMs) } : {}),
          ...(l.freshForMs !== undefined ? { freshFor: durationFromMs(l.freshForMs) } : {}),
          ...(l.jitter !== undefined ? { jitter: l.jitter } : {}),
          ...(l.staleWhileRevalidateMs !== undefined
            ? { staleWhileRevalidate: durationFromMs(l.staleWhileRevalidateMs) }
            : {}),
          ...(l.admission !== undefined ? { admission: l.admission } : {}),
        })
      : undefined;
  const optionalMs = (value: number | undefined) => (value !== undefined ? durationFromMs(value) : undefined);
  const overrides = create(NamespacePolicySchema, {
    l1: layer(o.l1),
    l2: layer(o.l2),
    ...(o.failSafe
      ? {
          failSafe: {
            enabled: o.failSafe.enabled,
            maxStale: optionalMs(o.failSafe.maxStaleMs),
            throttle: optionalMs(o.failSafe.throttleMs),
          },
        }
      : {}),
    ...(o.earlyRefresh ? { earlyRefresh: { enabled: o.earlyRefresh.enabled, beta: o.earlyRefresh.beta } } : {}),
    ...(o.adaptiveTtl
      ? {
          adaptiveTtl: {
            enabled: o.adaptiveTtl.enabled,
            minTtl: optionalMs(o.adaptiveTtl.minTtlMs),
            maxTtl: optionalMs(o.adaptiveTtl.maxTtlMs),
          },
        }
      : {}),
    ...(o.priorityRefresh ? { priorityRefresh: { enabled: o.priorityRefresh.enabled } } : {}),
    ...(o.promotion
      ? {
          promotion: {
            mode: promotionModes[o.promotion.mode ?? "frequency"],
            minFrequency: o.promotion.minFrequency ?? 0,
            window: optionalMs(o.promotion.windowMs),
          },
        }
      : {}),
    ...(o.writeMode ? { writeMode: apiWriteMode(o.writeMode) } : {}),
    ...(o.maxValueBytes !== undefined ? { maxValueBytes: BigInt(o.maxValueBytes) } : {}),
    ...(o.negativeTtlMs !== undefined ? { negativeTtl: durationFromMs(o.negativeTtlMs) } : {}),
    ...(o.loadTimeouts
      ? {
          loader: {
            softTimeout: optionalMs(o.loadTimeouts.softMs),
            hardTimeout: optionalMs(o.loadTimeouts.hardMs),
          },
        }
      : {}),
    ...(o.fallbackValue ? { fallback: { kind: { case: "value" as const, value: o.fallbackValue } } } : {}),
  });
  return create(KeyRuleSchema, {
    name: rule.name,
    match: { case: rule.match.kind, value: rule.match.pattern },
    overrides,
  });
}

function layerPolicy(l: LayerSettings): LayerPolicy {
  return create(LayerPolicySchema, {
    enabled: l.enabled,
    ttl: durationFromMs(l.ttlMs),
    freshFor: durationFromMs(l.freshForMs),
    jitter: l.jitter,
    staleWhileRevalidate: durationFromMs(l.staleWhileRevalidateMs),
    admission: l.admission,
  });
}

/** The full policy message for a namespace's settings, every field set. */
export function settingsToPolicy(namespace: string, s: NamespaceSettings): NamespacePolicy {
  return create(NamespacePolicySchema, {
    namespace,
    l1: layerPolicy(s.l1),
    l2: layerPolicy(s.l2),
    failSafe: {
      enabled: s.failSafe.enabled,
      maxStale: durationFromMs(s.failSafe.maxStaleMs),
      throttle: durationFromMs(s.failSafe.throttleMs),
    },
    earlyRefresh: { enabled: s.earlyRefresh.enabled, beta: s.earlyRefresh.beta },
    adaptiveTtl: {
      enabled: s.adaptiveTtl.enabled,
      minTtl: durationFromMs(s.adaptiveTtl.minTtlMs),
      maxTtl: durationFromMs(s.adaptiveTtl.maxTtlMs),
    },
    priorityRefresh: { ...s.priorityRefresh },
    writeMode: apiWriteMode(s.writeMode),
    promotion: {
      mode: promotionModes[s.promotion.mode],
      minFrequency: s.promotion.minFrequency,
      window: durationFromMs(s.promotion.windowMs),
    },
    rules: s.rules.map(apiRule),
    maxValueBytes: BigInt(s.maxValueBytes),
    encryptionKeyId: s.encryptionKeyId,
    negativeTtl: durationFromMs(s.negativeTtlMs),
    ...(s.maxTtlMs > 0 ? { maxTtl: durationFromMs(s.maxTtlMs) } : {}),
    loader: {
      softTimeout: durationFromMs(s.loadTimeouts.softMs),
      hardTimeout: durationFromMs(s.loadTimeouts.hardMs),
    },
    ...(s.fallbackValue ? { fallback: { kind: { case: "value" as const, value: s.fallbackValue } } } : {}),
  });
}

/**
 * Replaces, in `target`, the fields named by the mask paths (`l1.ttl`, `failSafe`, …) with
 * their values in `source` (cleared where source has them unset). Paths use the proto names
 * or their JSON (camelCase) forms. Throws a message naming an unknown path.
 */
export function applyMask(target: NamespacePolicy, source: NamespacePolicy, paths: readonly string[]): void {
  for (const path of paths) {
    const parts = path.split(".");
    let desc: DescMessage = NamespacePolicySchema;
    let to = target as unknown as Record<string, unknown>;
    let from: Record<string, unknown> | undefined = source as unknown as Record<string, unknown>;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const field = desc.fields.find((f) => f.name === part || f.jsonName === part || f.localName === part);
      if (!field) throw new Error(`update_mask path "${path}": ${desc.typeName} has no field "${part}"`);
      const name = field.localName;
      // A oneof member lives in `{ case, value }` under the oneof's name.
      const oneof = field.oneof?.localName;
      const read = (holder: Record<string, unknown> | undefined) => {
        if (!oneof) return holder?.[name];
        const group = holder?.[oneof] as { case?: string; value?: unknown } | undefined;
        return group?.case === name ? group.value : undefined;
      };
      if (i === parts.length - 1) {
        const value = read(from);
        if (oneof) {
          if (value !== undefined) to[oneof] = { case: name, value };
          else if ((to[oneof] as { case?: string } | undefined)?.case === name) to[oneof] = { case: undefined };
        } else if (value === undefined) delete to[name];
        else to[name] = value;
        break;
      }
      if (field.fieldKind !== "message") {
        throw new Error(`update_mask path "${path}": "${part}" is not a message, so it has no sub-fields`);
      }
      desc = field.message;
      let child = read(to) as Record<string, unknown> | undefined;
      if (child === undefined) {
        child = create(field.message) as unknown as Record<string, unknown>;
        if (oneof) to[oneof] = { case: name, value: child };
        else to[name] = child;
      }
      to = child;
      from = read(from) as Record<string, unknown> | undefined;
    }
  }
}

/**
 * Parses a policy written in YAML/JSON (the proto JSON form; durations may also be written
 * "5m", "250ms", or as a number of ms). Throws with the path of the bad field.
 */
export function policyFromJson(json: unknown, where: string): NamespacePolicy {
  const normalized = normalizeDurations(NamespacePolicySchema, json, where);
  try {
    return fromJson(NamespacePolicySchema, normalized as JsonValue);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${where}: ${message.replace(/^cannot decode message mlcache\.v1\.NamespacePolicy from JSON: /, "")}`,
    );
  }
}

/** Rewrites human durations ("5m") of Duration fields into the proto JSON form ("300s"). */
function normalizeDurations(desc: DescMessage, json: unknown, where: string): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    const field = desc.fields.find((f) => f.jsonName === name || f.name === name);
    if (field?.fieldKind === "message" && field.message.typeName === "google.protobuf.Duration") {
      if (typeof value === "number" || (typeof value === "string" && !/^-?\d+(\.\d+)?s$/.test(value))) {
        try {
          out[name] = `${parseDuration(value) / 1000}s`;
        } catch (error) {
          throw new Error(`${where}.${name}: ${(error as Error).message}`);
        }
        continue;
      }
    }
    if (field?.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      out[name] = value.map((item, i) => normalizeDurations(field.message, item, `${where}.${name}[${i}]`));
      continue;
    }
    out[name] = field?.fieldKind === "message" ? normalizeDurations(field.message, value, `${where}.${name}`) : value;
  }
  return out;
}
