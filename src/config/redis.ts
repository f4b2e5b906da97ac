// How the service reaches Redis safely: TLS, the ACL user and its password (from the YAML, a
// file or the environment). Validated with the rest of the configuration; the files and the
// secret are read once at start by loadRedisConnection, and never kept in the Config.
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { RedisConnection, RedisTls } from "../layers/redis/connection.js";
import { parseRedisUrl } from "../layers/redis/redis-url.js";

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
  let password = redis.password;
  if (redis.passwordFile !== undefined) {
    try {
      password = readFileSync(redis.passwordFile, "utf8").trim();
    } catch (error) {
      throw new Error(`redis.passwordFile: cannot read ${redis.passwordFile}: ${(error as Error).message}`);
    }
    if (!password) throw new Error(`redis.passwordFile: ${redis.passwordFile} is empty`);
  } else if (redis.passwordEnv !== undefined) {
    password = env[redis.passwordEnv]?.trim();
    if (!password) throw new Error(`redis.passwordEnv: environment variable ${redis.passwordEnv} is not set`);
  }
  let tls: RedisTls | undefined;
  if (redis.tls) {
    const read = (field: "caFile" | "certFile" | "keyFile"): Buffer | undefined => {
      const file = redis.tls?.[field];
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (error) {
        throw new Error(`redis.tls.${field}: cannot read ${file}: ${(error as Error).message}`);
      }
    };
    tls = { ca: read("caFile"), cert: read("certFile"), key: read("keyFile"), servername: redis.tls.servername };
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
