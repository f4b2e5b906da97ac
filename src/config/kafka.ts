import { z } from "zod";

/** `kafka`: the brokers, TLS and SASL to reach them, and the topics of invalidations, writes, dead letters and policies. */
export const kafkaSection = z
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
  });
