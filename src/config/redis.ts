// How the service reaches Redis safely: TLS, the ACL user and its password (from the YAML, a
// file or the environment). Validated with the rest of the configuration; the files and the
// secret are read once at start by loadRedisConnection, and never kept in the Config.
import { z } from "zod";
import type { RedisConnection, RedisTls } from "../layers/redis/connection.js";
import { parseRedisUrl } from "../layers/redis/redis-url.js";
import { duration } from "./fields.js";
import { readSecret, readTlsFiles } from "./secrets.js";

/** TLS to Redis: the CA to trust, and a client certificate for servers that want one. */
const redisTls = z
  .object({
    /** PEM file of the CA(s) the servers' certificates must chain to. */
    caFile: z.string().min(1),
    /** PEM client certificate (mutual TLS), with … */
    certFile: z.string().min(1).optional(),
    /** … its private key: both or neither. */
    keyFile: z.string().min(1).optional(),
    /** The name the servers' certificates must carry, when it is not the host connected to. */
    servername: z.string().min(1).max(253).optional(),
  })
  .strict()
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: "set both certFile and keyFile (a client certificate and its key), or neither",
  });

/** The url field: a redis:// or rediss:// URL that parses (the message never repeats it). */
export const redisUrl = z
  .string()
  .min(1)
  .superRefine((url, ctx) => {
    try {
      parseRedisUrl(url);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });

/** The fields of the `redis` section about credentials and TLS. */
export const redisSecurityShape = {
  /** The ACL user (Redis 6+); without it the password is the `default` user's. */
  username: z.string().min(1).optional(),
  /** The password itself, or where to read it: */
  password: z.string().min(1).optional(),
  /** a file holding it (trimmed), */
  passwordFile: z.string().min(1).optional(),
  /** or an environment variable. */
  passwordEnv: z.string().min(1).optional(),
  /** TLS to every node (and Sentinel); with `url`, the URL must be rediss://. */
  tls: redisTls.optional(),
};

interface RedisSecurityFields {
  url?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
  tls?: z.infer<typeof redisTls> | undefined;
}

/** Cross-field rules of the `redis` section's credentials and TLS. */
export function checkRedisSecurity(redis: RedisSecurityFields, ctx: z.RefinementCtx): void {
  const sources = [redis.password, redis.passwordFile, redis.passwordEnv].filter((v) => v !== undefined).length;
  if (sources > 1) {
    ctx.addIssue({
      code: "custom",
      path: ["password"],
      message: "set at most one of password, passwordFile, passwordEnv",
    });
  }
  if (redis.url === undefined) return;
  let url: ReturnType<typeof parseRedisUrl>;
  try {
    url = parseRedisUrl(redis.url);
  } catch {
    return; // the url field reports it
  }
  if (redis.tls && !url.tls) {
    ctx.addIssue({
      code: "custom",
      path: ["url"],
      message: "redis.tls is set but the URL is redis:// (plain text): use rediss://",
    });
  }
  if ((url.username !== undefined || url.password !== undefined) && (sources > 0 || redis.username !== undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["url"],
      message: "the URL carries credentials: set them there or in redis.username and redis.password*, not both",
    });
  }
}

/**
 * The connection settings of the `redis` section with its secrets resolved (see loadRedisConnection in config.ts): the password read
 * from its file or environment variable, the TLS files read. Throws an Error naming the field
 * and the problem (never the secret), for a clear stop at start.
 */
export function resolveRedisConnection(
  redis: RedisSecurityFields & Omit<RedisConnection, "password" | "tls" | "username">,
  env: NodeJS.ProcessEnv = process.env,
): RedisConnection {
  const password = readSecret(
    "redis.password",
    { value: redis.password, file: redis.passwordFile, env: redis.passwordEnv },
    env,
  );
  let tls: RedisTls | undefined;
  if (redis.tls) {
    const { ca, cert, key } = readTlsFiles("redis.tls", redis.tls);
    tls = { ca, cert, key, servername: redis.tls.servername };
  }
  return {
    url: redis.url,
    clusterNodes: redis.clusterNodes,
    sentinel: redis.sentinel,
    username: redis.username,
    password,
    tls,
  };
}

/** `redis`: one of a node, a cluster or a sentinel group, with its security and bounds (L2). */
export const redisSection = z
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
  .superRefine(checkRedisSecurity);
