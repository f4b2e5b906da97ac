import { z } from "zod";
import { rate } from "./fields.js";

/** `limits`: bounds on namespaces, keys, bulk calls, tags, watchers and request rates. */
export const limitsSection = z
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
  .default({ maxNamespaces: 1000, maxKeyBytes: 1024, maxBulkKeys: 1000, maxTags: 32, maxWatchers: 256 });
