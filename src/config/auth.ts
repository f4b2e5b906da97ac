import { z } from "zod";
import { rate } from "./fields.js";

/** A namespace pattern of a grant: `*`, a name, or `prefix*`. */
const namespacePattern = z
  .string()
  .regex(
    /^(\*|[a-z0-9][a-z0-9_.-]{0,63}|[a-z0-9_.-]{0,63}\*)$/,
    'use "*", a namespace name, or a prefix ending in "*"',
  );

/** Rights over namespaces, as tokens and identities carry them, and their own request rate. */
const grantShape = {
  /** Namespaces covered: "*" for all, "name", or "prefix*". */
  namespaces: z.array(namespacePattern).min(1).max(1000).default(["*"]),
  rights: z.array(z.enum(["read", "write", "admin"])).min(1),
  /** This credential's request rate (instead of limits.rate.perCredential). */
  rate: rate.optional(),
};

/**
 * Who may call what. With tokens or identities configured, every RPC on both ports needs a
 * credential; without `auth`, a non-loopback bind refuses to start unless `disabled: true`.
 */
export const authSection = z
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
  });
