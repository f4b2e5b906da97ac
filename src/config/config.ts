import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { create } from "@bufbuild/protobuf";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { KeyRing, KeyRingError } from "../crypto/key-ring.js";
import { defaultSettings, type NamespaceSettings, validateSettings } from "../engine/policy.js";
import { NAMESPACE_PATTERN } from "../engine/policy-store.js";
import { type OriginPolicy, OriginPolicySchema } from "../gen/mlcache/v1/policy_pb.js";
import type { RedisConnection } from "../layers/redis/connection.js";
import { REDACTED, redactUrl, SECRET_NAME } from "../redact.js";
import { authSection } from "./auth.js";
import { encryptionSection } from "./encryption.js";
import { bytes, duration, policy } from "./fields.js";
import { kafkaSection } from "./kafka.js";
import { limitsSection } from "./limits.js";
import { overlayPolicy, policyFromJson, ruleOriginsOf } from "./policy-proto.js";
import { redisSection, resolveRedisConnection } from "./redis.js";
import { serverSection } from "./server.js";
import { telemetrySection } from "./telemetry.js";

const ConfigSchema = z
  .object({
    /** Stable identity of this instance (Kafka consumer group, stats); defaults to the host name. */
    instanceId: z.string().min(1).max(128).optional(),
    server: serverSection.default(() => serverSection.parse({})),
    l1: z
      .object({
        maxBytes: bytes.default(256 * 1024 * 1024),
        maxEntries: z.number().int().positive().default(1_000_000),
      })
      .strict()
      .default({ maxBytes: 256 * 1024 * 1024, maxEntries: 1_000_000 }),
    redis: redisSection.optional(),
    /** Hot keys, per-key stats, anomalies and snapshot files (src/telemetry). */
    telemetry: telemetrySection.optional(),
    kafka: kafkaSection.optional(),
    /** The consistency contract's knobs (README, "Consistency"). */
    consistency: z
      .object({
        /**
         * B: an acknowledged invalidation or policy change is in force on every instance within
         * B; an instance that cannot confirm it has heard everything up to B ago stops using L1.
         */
        propagationBound: duration
          .refine((ms) => ms >= 200 && ms <= 60_000, "must be between 200ms and 60s")
          .default(2_000),
      })
      .strict()
      .default({ propagationBound: 2_000 }),
    /**
     * Who may call what. With tokens or identities configured, every RPC on both ports needs a
     * credential; without `auth`, a non-loopback bind refuses to start unless `disabled: true`.
     */
    auth: authSection.optional(),
    /**
     * Encryption at rest: the key ring (keys from files or environment variables, never the API).
     * A namespace is encrypted when its policy's `encryptionKeyId` names one of these keys.
     */
    encryption: encryptionSection.optional(),
    /** Where policies changed through the API may point loaders and writers (see OriginAllowlist). */
    origins: z
      .object({ allowedTargets: z.array(z.string().min(1).max(2048)).max(10_000).default([]) })
      .strict()
      .default({ allowedTargets: [] }),
    limits: limitsSection,
    log: z
      .object({ level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info") })
      .strict()
      .default({ level: "info" }),
    /** Policy every namespace starts from (NamespacePolicy in YAML form). */
    defaults: policy.optional(),
    /** Namespaces with policies of their own. */
    namespaces: z.record(z.string(), policy).default({}),
  })
  .strict();

type RawConfig = z.infer<typeof ConfigSchema>;

/** The validated configuration of one instance. */
export interface Config extends Omit<RawConfig, "defaults" | "namespaces" | "instanceId" | "origins"> {
  instanceId: string;
  /** Resolved defaults for every namespace. */
  defaults: NamespaceSettings;
  /** Resolved settings of the namespaces configured by name. */
  namespaces: Record<string, NamespaceSettings>;
  /**
   * Loader and writer origins by namespace (`defaults` applies to namespaces without their
   * own), and the targets the API may point them at besides these.
   */
  origins: { defaults: OriginPair; namespaces: Record<string, OriginPair>; allowedTargets: string[] };
  /** The YAML policies as written, for display. */
  policySources: { defaults: Record<string, unknown>; namespaces: Record<string, Record<string, unknown>> };
}

/** The origins a policy names. */
export interface OriginPair {
  loader?: OriginPolicy | undefined;
  writer?: OriginPolicy | undefined;
  /** A LoaderService asked when the loader fails and nothing stale exists (policy.fallback.grpc). */
  fallback?: OriginPolicy | undefined;
  /** Origins of the namespace's key rules, by rule name: only rules that name one of their own. */
  rules?: Record<string, RuleOrigins> | undefined;
}

/** The origins a key rule names (`rules[i].overrides.loader/writer/fallback`). */
export type RuleOrigins = Omit<OriginPair, "rules">;

/** A configuration problem; the message names the field and says what is expected. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Config as read from YAML, before zod has checked it. */
// biome-ignore lint/suspicious/noExplicitAny: untyped until validated
type RawInput = Record<string, any>;

/** Environment variables that override the file, and where they go. */
const ENV: Record<string, (raw: RawInput, value: string) => void> = {
  MLCACHE_HOST: (raw, v) => {
    raw.server = { ...raw.server, host: v };
  },
  MLCACHE_GRPC_PORT: (raw, v) => {
    raw.server = { ...raw.server, grpcPort: envNumber("MLCACHE_GRPC_PORT", v) };
  },
  MLCACHE_HTTP_PORT: (raw, v) => {
    raw.server = { ...raw.server, httpPort: envNumber("MLCACHE_HTTP_PORT", v) };
  },
  // The address replaces the file's; its credentials and TLS settings stay.
  MLCACHE_REDIS_URL: (raw, v) => {
    raw.redis = { ...redisKept(raw), url: v };
  },
  MLCACHE_REDIS_CLUSTER_NODES: (raw, v) => {
    raw.redis = { ...redisKept(raw), clusterNodes: splitList(v) };
  },
  MLCACHE_KAFKA_BROKERS: (raw, v) => {
    raw.kafka = { ...raw.kafka, brokers: splitList(v) };
  },
  MLCACHE_LOG_LEVEL: (raw, v) => {
    raw.log = { ...raw.log, level: v };
  },
  MLCACHE_INSTANCE_ID: (raw, v) => {
    raw.instanceId = v;
  },
  // One token with every right on every namespace (containers); read from the environment at start.
  MLCACHE_AUTH_TOKEN: (raw) => {
    const token = {
      name: "env",
      tokenEnv: "MLCACHE_AUTH_TOKEN",
      namespaces: ["*"],
      rights: ["read", "write", "admin"],
    };
    raw.auth = { ...raw.auth, tokens: [...(raw.auth?.tokens ?? []), token] };
  },
};

/** What of the file's `redis` section an address from the environment keeps. */
function redisKept(raw: RawInput): RawInput {
  const { keyPrefix, username, password, passwordFile, passwordEnv, tls } = raw.redis ?? {};
  return { keyPrefix, username, password, passwordFile, passwordEnv, tls };
}

function envNumber(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`${name}="${value}" is not a port number`);
  return n;
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Loads the configuration: the YAML file named by `MLCACHE_CONFIG` (or `path`), then the
 * `MLCACHE_*` environment variables on top. With neither, the embedded default: L1 only.
 */
export function loadConfig(options: { path?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const env = options.env ?? process.env;
  const path = options.path ?? env.MLCACHE_CONFIG;
  let raw: RawInput = {};
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
    }
    try {
      raw = (parseYaml(text) as RawInput | null) ?? {};
    } catch (error) {
      throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(`config file ${path} must hold a mapping at the top level`);
    }
  }
  for (const [name, apply] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== "") apply(raw, value);
  }
  return parseConfig(raw, path ?? "config");
}

/** Validates a configuration object (as read from YAML) and resolves its policies. */
export function parseConfig(raw: unknown, source = "config"): Config {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
      return `  ${where}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration in ${source}:\n${problems.join("\n")}`);
  }
  const c = parsed.data;
  if (c.auth && c.auth.identities.length > 0 && !c.server.tls?.requireClientCert) {
    throw new ConfigError(
      `invalid configuration in ${source}:\n  auth.identities: client certificate identities need server.tls with caFile and requireClientCert: true`,
    );
  }
  const origins: Config["origins"] = { defaults: {}, namespaces: {}, allowedTargets: c.origins.allowedTargets };
  const resolve = (base: NamespaceSettings, json: Record<string, unknown>, where: string): NamespaceSettings => {
    let settings: NamespaceSettings;
    try {
      const policy = policyFromJson(json, where);
      settings = overlayPolicy(base, policy);
      const fallback = policy.fallback?.kind.case === "grpc" ? policy.fallback.kind.value : undefined;
      const pair: OriginPair = {
        loader: policy.loader,
        writer: policy.writer,
        fallback: fallback ? create(OriginPolicySchema, { kind: { case: "grpc", value: fallback } }) : undefined,
        // A namespace without rules of its own has the defaults' rules, and their origins.
        rules: policy.rules.length > 0 ? ruleOriginsOf(policy) : origins.defaults.rules,
      };
      if (where === "defaults") origins.defaults = pair;
      else origins.namespaces[where.slice("namespaces.".length)] = pair;
    } catch (error) {
      throw new ConfigError(`invalid configuration in ${source}: ${(error as Error).message}`);
    }
    const problems = validateSettings(settings);
    if (problems.length > 0) {
      throw new ConfigError(`invalid configuration in ${source}: ${where}: ${problems.join("; ")}`);
    }
    return settings;
  };
  const keyIds = new Set(c.encryption?.keys.map((k) => k.id) ?? []);
  const checkKey = (settings: NamespaceSettings, where: string): void => {
    const id = settings.encryptionKeyId;
    if (id && !keyIds.has(id)) {
      throw new ConfigError(
        `invalid configuration in ${source}: ${where}.encryptionKeyId: "${id}" is not a key of encryption.keys` +
          (keyIds.size > 0 ? ` (${[...keyIds].join(", ")})` : " (no keys configured)"),
      );
    }
  };
  const defaults = resolve(defaultSettings(), c.defaults ?? {}, "defaults");
  checkKey(defaults, "defaults");
  const namespaces: Record<string, NamespaceSettings> = {};
  for (const [name, json] of Object.entries(c.namespaces)) {
    if (!NAMESPACE_PATTERN.test(name)) {
      throw new ConfigError(
        `invalid configuration in ${source}: namespaces.${name}: names use 1-64 of a-z, 0-9, '_', '.', '-'`,
      );
    }
    namespaces[name] = resolve(defaults, json as Record<string, unknown>, `namespaces.${name}`);
    checkKey(namespaces[name], `namespaces.${name}`);
  }
  return {
    ...c,
    instanceId: c.instanceId ?? `${hostname()}-${process.pid}`,
    defaults,
    namespaces,
    origins,
    policySources: {
      defaults: c.defaults ?? {},
      namespaces: c.namespaces as Record<string, Record<string, unknown>>,
    },
  };
}

/**
 * Reads the keys the configuration names (files, environment variables); undefined without
 * `encryption`. Throws a ConfigError naming the key and the problem, never its bytes.
 */
export function loadKeyRing(config: Config, env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  if (!config.encryption) return undefined;
  try {
    return KeyRing.load(config.encryption.keys, env);
  } catch (error) {
    if (error instanceof KeyRingError) throw new ConfigError(`invalid configuration: ${error.message}`);
    throw error;
  }
}

/**
 * Where and how to reach Redis, with the password and TLS files the configuration names read
 * (once, at start); undefined without `redis`. Throws a ConfigError naming the field and the
 * problem (a missing file, an unset variable), never the secret.
 */
export function loadRedisConnection(config: Config, env: NodeJS.ProcessEnv = process.env): RedisConnection | undefined {
  if (!config.redis) return undefined;
  try {
    return resolveRedisConnection(config.redis, env);
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
}

/**
 * The configuration as plain data with secrets replaced by "<redacted>": passwords in URLs,
 * tokens, and any field or header whose name looks secret.
 */
export function redactConfig(config: Config): unknown {
  const walk = (value: unknown, name: string): unknown => {
    if (typeof value === "string") {
      if (SECRET_NAME.test(name)) return REDACTED;
      return redactUrl(value);
    }
    if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
    if (Array.isArray(value)) return value.map((v) => walk(v, name));
    if (value && typeof value === "object") {
      // Every value of the collector's headers is a secret (API keys under any header name);
      // an origin's headers are judged one by one, like any other field.
      const allSecret = value === config.telemetry?.otel?.headers;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, allSecret && typeof v === "string" ? REDACTED : walk(v, k)]),
      );
    }
    return value;
  };
  const { defaults, namespaces, policySources, origins, ...rest } = config;
  return walk({ ...rest, defaults, namespaces, policies: policySources }, "");
}
