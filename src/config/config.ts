import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { create } from "@bufbuild/protobuf";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { KEY_ID_PATTERN, KeyRing, KeyRingError, MAX_KEYS } from "../crypto/key-ring.js";
import { defaultSettings, type NamespaceSettings, validateSettings } from "../engine/policy.js";
import { NAMESPACE_PATTERN } from "../engine/policy-store.js";
import { type OriginPolicy, OriginPolicySchema } from "../gen/mlcache/v1/policy_pb.js";
import type { RedisConnection } from "../layers/redis/connection.js";
import { REDACTED, redactUrl, SECRET_NAME } from "../redact.js";
import { overlayPolicy, policyFromJson } from "./policy-proto.js";
import { checkRedisSecurity, redisSecurityShape, redisUrl, resolveRedisConnection } from "./redis.js";
import { parseBytes, parseDuration } from "./units.js";

const port = z.number().int().min(0).max(65535);
const bytes = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseBytes(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});
const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});
/** A policy in its YAML form, checked later against the protobuf schema. */
const policy = z.record(z.string(), z.unknown());

/** A namespace pattern of a grant: `*`, a name, or `prefix*`. */
const namespacePattern = z
  .string()
  .regex(
    /^(\*|[a-z0-9][a-z0-9_.-]{0,63}|[a-z0-9_.-]{0,63}\*)$/,
    'use "*", a namespace name, or a prefix ending in "*"',
  );

/** A request rate: `perSecond` on average, `burst` at once (default: one second's worth). */
const rate = z
  .object({
    perSecond: z.number().positive().max(10_000_000),
    burst: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

/** Rights over namespaces, as tokens and identities carry them, and their own request rate. */
const grantShape = {
  /** Namespaces covered: "*" for all, "name", or "prefix*". */
  namespaces: z.array(namespacePattern).min(1).max(1000).default(["*"]),
  rights: z.array(z.enum(["read", "write", "admin"])).min(1),
  /** This credential's request rate (instead of limits.rate.perCredential). */
  rate: rate.optional(),
};

const ServerSchema = z
  .object({
    /** Address both ports bind to. Loopback by default: expose on purpose (0.0.0.0 in containers). */
    host: z.string().min(1).default("127.0.0.1"),
    grpcPort: port.default(50051),
    httpPort: port.default(8080),
    /** Largest request or response message, on both ports. */
    maxMessageBytes: bytes.default(16 * 1024 * 1024),
    /** How long in-flight calls may take to finish on shutdown before connections are cut. */
    shutdownGrace: duration.default(10_000),
    /** Bounds on client connections, per port: nobody holds the ports' sockets for free. */
    connections: z
      .object({
        /** Connections open at once; more are closed on arrival (keep below the fd limit). */
        maxConnections: z.number().int().min(1).max(1_000_000).default(4096),
        /** A connection with no call in flight this long is closed (also one that never spoke). */
        idleTimeout: duration.default(5 * 60_000),
        /** Calls in flight on one connection (HTTP/2 streams). */
        maxStreamsPerConnection: z.number().int().min(1).max(100_000).default(100),
        /** A connection is asked to go away after this long (calls get a grace minute to end). */
        maxAge: duration.default(2 * 3_600_000),
      })
      .strict()
      .default({ maxConnections: 4096, idleTimeout: 5 * 60_000, maxStreamsPerConnection: 100, maxAge: 2 * 3_600_000 }),
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        /** CA that client certificates must chain to; set for mutual TLS. */
        caFile: z.string().min(1).optional(),
        requireClientCert: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict();

const ConfigSchema = z
  .object({
    /** Stable identity of this instance (Kafka consumer group, stats); defaults to the host name. */
    instanceId: z.string().min(1).max(128).optional(),
    server: ServerSchema.default(() => ServerSchema.parse({})),
    l1: z
      .object({
        maxBytes: bytes.default(256 * 1024 * 1024),
        maxEntries: z.number().int().positive().default(1_000_000),
      })
      .strict()
      .default({ maxBytes: 256 * 1024 * 1024, maxEntries: 1_000_000 }),
    redis: z
      .object({
        /** redis://[[user]:password@]host:port[/db] for a single node; rediss:// for TLS. */
        url: redisUrl.optional(),
        /** Seed nodes (host:port) of a Redis Cluster. */
        clusterNodes: z.array(z.string().min(1)).min(1).optional(),
        sentinel: z
          .object({
            sentinels: z.array(z.string().min(1)).min(1),
            name: z.string().min(1),
            password: z.string().optional(),
          })
          .strict()
          .optional(),
        /** The ACL user, its password (or passwordFile, passwordEnv) and TLS (src/config/redis.ts). */
        ...redisSecurityShape,
        keyPrefix: z.string().default("mlc:"),
        /**
         * The Redis command bound: a Redis step of a call (a read, a write, a lease, a poll) that
         * Redis has not answered within it fails, and the call goes on without Redis.
         */
        commandTimeout: duration
          .refine((ms) => ms >= 50 && ms <= 60_000, { message: "must be between 50ms and 60s" })
          .default(1000),
        /** A coarse limit on this instance's L2 reads; past it reads miss L2 at once. Unset: none. */
        maxReadsPerSecond: z.number().positive().max(100_000_000).optional(),
      })
      .strict()
      .refine((r) => [r.url, r.clusterNodes, r.sentinel].filter(Boolean).length === 1, {
        message: "set exactly one of redis.url, redis.clusterNodes, redis.sentinel",
      })
      .superRefine(checkRedisSecurity)
      .optional(),
    /** Hot keys, per-key stats, anomalies and snapshot files (src/telemetry). */
    telemetry: z
      .object({
        topK: z.number().int().min(1).max(10_000).optional(),
        maxTrackedKeys: z.number().int().min(2).optional(),
        windowMs: duration.optional(),
        hotKeyDecay: z.number().gt(0).max(1).optional(),
        anomalies: z
          .object({
            threshold: z.number().positive(),
            alpha: z.number().gt(0).max(1),
            warmupWindows: z.number().int().min(0),
            minCount: z.number().min(0),
            hotKeyRanks: z.number().int().min(1),
            retentionMs: duration,
          })
          .partial()
          .strict()
          .optional(),
        fleet: z
          .object({ publishIntervalMs: duration, publishTop: z.number().int().min(1).max(1000) })
          .partial()
          .strict()
          .optional(),
        snapshotFile: z
          .object({
            path: z.string().min(1),
            intervalMs: duration,
            maxBytes: bytes,
            maxKeys: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    kafka: z
      .object({
        brokers: z.array(z.string().min(1)).min(1),
        clientId: z.string().min(1).default("mlcache"),
        /** TLS to the brokers: `true` trusts the system CAs; an object names the CA and more. */
        ssl: z
          .union(
            [
              z.literal(true),
              z
                .object({
                  /** PEM CA bundle the broker certificates must chain to (default: the system CAs). */
                  caFile: z.string().min(1).optional(),
                  /** A client certificate (PEM) and its key, for brokers that ask for one (mutual TLS). */
                  certFile: z.string().min(1).optional(),
                  keyFile: z.string().min(1).optional(),
                  /** The name the broker certificates must carry, instead of each broker's host. */
                  servername: z.string().min(1).optional(),
                })
                .strict()
                .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
                  message: "set both certFile and keyFile, or neither",
                }),
            ],
            { error: "use true (the system CAs) or { caFile, certFile, keyFile, servername } with file paths" },
          )
          .optional(),
        /** SASL authentication to the brokers (needs `ssl`: the credentials never travel in clear). */
        sasl: z
          .object({
            mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]),
            username: z.string().min(1),
            /** The password itself, or where to read it: */
            password: z.string().min(1).optional(),
            /** a file holding it (trimmed), */
            passwordFile: z.string().min(1).optional(),
            /** or an environment variable. */
            passwordEnv: z.string().min(1).optional(),
          })
          .strict()
          .refine((s) => [s.password, s.passwordFile, s.passwordEnv].filter((v) => v !== undefined).length === 1, {
            message: "set exactly one of password, passwordFile, passwordEnv",
          })
          .optional(),
        topics: z
          .object({
            invalidations: z.string().min(1).default("mlcache.invalidations"),
            writes: z.string().min(1).default("mlcache.writes"),
            deadLetters: z.string().min(1).default("mlcache.dead-letters"),
            /** Compacted, keyed by namespace: run-time policy changes, read from the beginning at start. */
            policies: z.string().min(1).default("mlcache.policies"),
          })
          .strict()
          .default({
            invalidations: "mlcache.invalidations",
            writes: "mlcache.writes",
            deadLetters: "mlcache.dead-letters",
            policies: "mlcache.policies",
          }),
      })
      .strict()
      .refine((k) => k.sasl === undefined || k.ssl !== undefined, {
        message: "needs kafka.ssl too: without TLS the credentials would travel in clear",
        path: ["sasl"],
      })
      .optional(),
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
    auth: z
      .object({
        /** Explicitly no authentication, also on a non-loopback address (logged at start). */
        disabled: z.boolean().default(false),
        tokens: z
          .array(
            z
              .object({
                name: z.string().min(1).max(128),
                /** The token itself (at least 16 characters), or where to read it: */
                token: z.string().min(16, "tokens must be at least 16 characters").optional(),
                /** a file holding it (trimmed), */
                tokenFile: z.string().min(1).optional(),
                /** or an environment variable. */
                tokenEnv: z.string().min(1).optional(),
                ...grantShape,
              })
              .strict()
              .refine((t) => [t.token, t.tokenFile, t.tokenEnv].filter((v) => v !== undefined).length === 1, {
                message: "set exactly one of token, tokenFile, tokenEnv",
              }),
          )
          .max(10_000)
          .default([]),
        /** Client certificate identities (needs server.tls.requireClientCert). */
        identities: z
          .array(
            z
              .object({
                name: z.string().min(1).max(128),
                /** The certificate subject's common name (CN) … */
                commonName: z.string().min(1).optional(),
                /** … or one of its subject alternative names (DNS, URI, IP, email value). */
                san: z.string().min(1).optional(),
                ...grantShape,
              })
              .strict()
              .refine((i) => (i.commonName === undefined) !== (i.san === undefined), {
                message: "set exactly one of commonName, san",
              }),
          )
          .max(10_000)
          .default([]),
        /** What answers without a credential (health always does). */
        open: z
          .object({ reflection: z.boolean().default(true), metrics: z.boolean().default(true) })
          .strict()
          .default({ reflection: true, metrics: true }),
      })
      .strict()
      .refine((a) => a.disabled || a.tokens.length + a.identities.length > 0, {
        message: "configure at least one token or identity, or set disabled: true",
      })
      .optional(),
    /**
     * Encryption at rest: the key ring (keys from files or environment variables, never the API).
     * A namespace is encrypted when its policy's `encryptionKeyId` names one of these keys.
     */
    encryption: z
      .object({
        keys: z
          .array(
            z
              .object({
                id: z.string().regex(KEY_ID_PATTERN, "ids use 1-64 of A-Z a-z 0-9 _ . -"),
                /** A file holding the 32-byte key as base64 or hex. */
                file: z.string().min(1).optional(),
                /** An environment variable holding it. */
                env: z.string().min(1).optional(),
              })
              .strict()
              .refine((k) => (k.file === undefined) !== (k.env === undefined), {
                message: "set exactly one of file, env",
              }),
          )
          .min(1)
          .max(MAX_KEYS)
          .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, { message: "key ids must differ" }),
        /** Encrypted namespaces also keep their L1 values sealed (memory dumps); costs a decryption per L1 hit. */
        l1: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Where policies changed through the API may point loaders and writers (see OriginAllowlist). */
    origins: z
      .object({ allowedTargets: z.array(z.string().min(1).max(2048)).max(10_000).default([]) })
      .strict()
      .default({ allowedTargets: [] }),
    limits: z
      .object({
        maxNamespaces: z.number().int().positive().default(1000),
        maxKeyBytes: z.number().int().positive().max(65536).default(1024),
        maxBulkKeys: z.number().int().positive().default(1000),
        maxTags: z.number().int().positive().default(32),
        /** WatchStats subscribers at once; more are refused with RESOURCE_EXHAUSTED. */
        maxWatchers: z.number().int().min(1).max(100_000).default(256),
        /** Request rates per instance; past them RESOURCE_EXHAUSTED. Unset: unlimited. */
        rate: z.object({ perCredential: rate.optional(), perNamespace: rate.optional() }).strict().optional(),
      })
      .strict()
      .default({ maxNamespaces: 1000, maxKeyBytes: 1024, maxBulkKeys: 1000, maxTags: 32, maxWatchers: 256 }),
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
}

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
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  const { defaults, namespaces, policySources, origins, ...rest } = config;
  return walk({ ...rest, defaults, namespaces, policies: policySources }, "");
}
