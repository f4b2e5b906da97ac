/**
 * What encryption at rest costs, encrypted against plain in the same run (alternating sides):
 * the engine's L2 hit (L1 bypassed) and its Set (L1 and L2), for a namespace sealed with
 * AES-256-GCM and one in clear on the same Redis layer; an L1 hit with `encryption.l1`; and the
 * seal/open work alone.
 * Prints one JSON line per measurement and one ratio per comparison.
 *
 *   npm run bench:encryption -- --ops 20000 --concurrency 16 --value-bytes 512
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { KeyRing, namespaceEncryption } from "../src/crypto/key-ring.js";
import { CacheManager } from "../src/engine/cache-manager.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { decodeEntry, encodeEntry } from "../src/layers/redis/envelope.js";
import { RedisLayer } from "../src/layers/redis/redis-layer.js";
import { SealedLayer } from "../src/layers/sealed-layer.js";
import { measure, medianOf, redisForBench } from "./support.js";

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "16" },
    runs: { type: "string", default: "5" },
    "value-bytes": { type: "string", default: "512" },
  },
});
const ops = Number(values.ops);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const valueBytes = Number(values["value-bytes"]);
const value = new Uint8Array(valueBytes).fill(7);
const print = (line: Record<string, unknown>) =>
  console.log(JSON.stringify({ bench: "encryption", valueBytes, concurrency, ...line }));
type Result = Awaited<ReturnType<typeof measure>>;

const ring = KeyRing.of({ k1: randomBytes(32) });
const redis = await redisForBench();
try {
  const layer = new RedisLayer({
    url: redis.url,
    keyPrefix: `bench-enc-${Date.now()}:`,
    encryption: namespaceEncryption(ring, (namespace) => (namespace === "enc" ? "k1" : "")),
  });

  await layer.waitUntilReady();
  const encryption = namespaceEncryption(ring, (namespace) => (namespace === "enc" ? "k1" : ""));
  const memory = new MemoryLayer({ maxBytes: 256 << 20, maxEntries: 1_000_000 });
  // encryption.l1: the encrypted namespace's L1 values are sealed too.
  const manager = new CacheManager({ l1: new SealedLayer(memory, encryption), l2: layer });
  const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
  for (const ns of ["enc", "plain"]) for (const key of keys) await manager.set(ns, key, value);

  const cases = {
    "L2 hit (L1 bypassed)": (ns: string) => (i: number) =>
      manager.get(ns, keys[i % keys.length] as string, { bypassL1: true }),
    Set: (ns: string) => (i: number) => manager.set(ns, keys[i % keys.length] as string, value),
    "L1 hit (encryption.l1)": (ns: string) => (i: number) => manager.get(ns, keys[i % keys.length] as string),
  };
  for (const [name, op] of Object.entries(cases)) {
    const sealed: Result[] = [];
    const plain: Result[] = [];
    for (let run = 0; run < runs; run++) {
      const a = () => measure(op("enc"), ops, concurrency);
      const b = () => measure(op("plain"), ops, concurrency);
      if (run % 2 === 0) {
        sealed.push(await a());
        plain.push(await b());
      } else {
        plain.push(await b());
        sealed.push(await a());
      }
    }
    const s = medianOf(sealed);
    const p = medianOf(plain);
    print({ case: name, impl: "encrypted", ...s });
    print({ case: name, impl: "plain", ...p });
    print({
      case: name,
      ratio: "encrypted/plain",
      throughput: Number((s.opsPerSec / p.opsPerSec).toFixed(3)),
      p50: Number((s.p50 / p.p50).toFixed(3)),
      p99: Number((s.p99 / p.p99).toFixed(3)),
    });
  }
  await layer.close();

  // The envelope work alone, no Redis: encode+decode of one entry, sealed and clear.
  const now = Date.now();
  const entry = {
    value,
    createdAt: now,
    freshUntil: now + 60_000,
    expiresAt: now + 60_000,
    staleUntil: now + 60_000,
    version: 1n,
    tags: [],
    flags: 0,
    loadMs: 0,
  };
  const sealing = { keyId: "k1", ring, namespace: "enc", key: "key-1" };
  const time = (fn: () => unknown) => {
    const n = 50_000;
    for (let i = 0; i < 5_000; i++) fn();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return Number((((performance.now() - t0) / n) * 1000).toFixed(2));
  };
  const sealedBytes = encodeEntry(entry, sealing);
  const clearBytes = encodeEntry(entry);
  print({
    case: "envelope alone (µs per op)",
    encodeEncrypted: time(() => encodeEntry(entry, sealing)),
    encodePlain: time(() => encodeEntry(entry)),
    decodeEncrypted: time(() => decodeEntry(sealedBytes, ring, "enc", "key-1")),
    decodePlain: time(() => decodeEntry(clearBytes)),
    bytesEncrypted: sealedBytes.length,
    bytesPlain: clearBytes.length,
  });
} finally {
  await redis.stop();
}
