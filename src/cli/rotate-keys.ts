import { parseArgs } from "node:util";
import { ConfigError, loadConfig, loadKeyRing, loadRedisConnection } from "../config/config.js";
import { namespaceEncryption } from "../crypto/key-ring.js";
import { RedisLayer } from "../layers/redis/redis-layer.js";

/**
 * `mlcache rotate-keys -n NS [--to KEY]`: re-encrypts a namespace's L2 values still sealed with
 * an older key (or in clear) under KEY (default: the namespace's `encryptionKeyId` in the
 * configuration), while the service runs. SCAN in bounded batches (`--batch`, with a pause
 * between them; on a Cluster, master after master), each value rewritten through the versioned
 * write, so a newer write wins.
 * Prints one JSON line per batch with the cursor; `--cursor` resumes an interrupted run.
 */
export async function rotateKeysCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      namespace: { type: "string", short: "n" },
      to: { type: "string" },
      batch: { type: "string", default: "200" },
      cursor: { type: "string", default: "0" },
      pause: { type: "string", default: "10" },
    },
    strict: true,
  });
  const config = loadConfig(values.config ? { path: values.config } : {});
  const ring = loadKeyRing(config);
  const namespace = values.namespace;
  if (!namespace) throw new ConfigError("rotate-keys needs -n NAMESPACE");
  if (!config.redis) {
    throw new ConfigError("rotate-keys needs Redis: set redis.url or redis.clusterNodes (or MLCACHE_REDIS_URL)");
  }
  if (!ring) throw new ConfigError("rotate-keys needs encryption.keys in the configuration");
  const keyId = values.to ?? config.namespaces[namespace]?.encryptionKeyId ?? config.defaults.encryptionKeyId;
  if (!keyId)
    throw new ConfigError(`namespace ${namespace} has no encryptionKeyId in the configuration: pass --to KEY`);
  if (!ring.has(keyId))
    throw new ConfigError(`--to: "${keyId}" is not a key of encryption.keys (${ring.ids.join(", ")})`);
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new ConfigError("--batch: 1 to 10000");
  const pauseMs = Number(values.pause);
  const layer = new RedisLayer({
    ...loadRedisConnection(config),
    keyPrefix: config.redis.keyPrefix,
    commandTimeoutMs: config.redis.commandTimeout,
    encryption: namespaceEncryption(ring, () => keyId),
  });
  try {
    await layer.waitUntilReady(5_000);
    const total = { namespace, keyId, resealed: 0, current: 0, skipped: 0, scanned: 0 };
    let cursor = values.cursor;
    do {
      const step = await layer.resealStep(namespace, keyId, cursor, batch);
      cursor = step.cursor;
      total.resealed += step.resealed;
      total.current += step.current;
      total.skipped += step.skipped;
      total.scanned += step.scanned;
      process.stdout.write(`${JSON.stringify({ ...total, cursor })}\n`);
      if (cursor !== "0" && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    } while (cursor !== "0");
  } finally {
    await layer.close();
  }
  return 0;
}
