import { create, type DescMessage, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import type { WriteMode as EngineWriteMode, LayerSettings, NamespaceSettings } from "../engine/policy.js";
import { WriteMode } from "../gen/mlcache/v1/common_pb.js";
import {
  type LayerPolicy,
  LayerPolicySchema,
  type NamespacePolicy,
  NamespacePolicySchema,
} from "../gen/mlcache/v1/policy_pb.js";
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
    promotion: {
      minFrequency: p.promotion?.minFrequency ?? base.promotion.minFrequency,
    },
    maxValueBytes: p.maxValueBytes > 0n ? Number(p.maxValueBytes) : base.maxValueBytes,
    negativeTtlMs: ms(p.negativeTtl, base.negativeTtlMs),
    loadTimeouts: {
      softMs: ms(p.loader?.softTimeout, base.loadTimeouts.softMs),
      hardMs: ms(p.loader?.hardTimeout, base.loadTimeouts.hardMs),
    },
    fallbackValue: p.fallback?.kind.case === "value" ? p.fallback.kind.value : base.fallbackValue,
    encryptionKeyId: p.encryptionKeyId || base.encryptionKeyId,
    maxTtlMs: ms(p.maxTtl, base.maxTtlMs),
  };
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
    promotion: { ...s.promotion },
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
    out[name] = field?.fieldKind === "message" ? normalizeDurations(field.message, value, `${where}.${name}`) : value;
  }
  return out;
}
