import { z } from "zod";
import { KEY_ID_PATTERN, MAX_KEYS } from "../crypto/key-ring.js";

/**
 * Encryption at rest: the key ring (keys from files or environment variables, never the API).
 * A namespace is encrypted when its policy's `encryptionKeyId` names one of these keys.
 */
export const encryptionSection = z
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
  .strict();
