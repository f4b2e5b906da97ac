/**
 * The cost of key rules on the Get path: L1 hits through the CacheManager with 100 rules in the
 * namespace against the same namespace without rules, in one process, alternating rounds.
 *
 *   npm run bench:key-rules [-- --rounds 5 --gets 200000]
 *
 * The rules are 40 exact keys, 30 prefixes (10 distinct lengths) and 30 globs; the keys read
 * (`category:C:product:P`, Zipf-distributed) match none of them, so every Get pays the whole
 * lookup: one map probe, one probe per prefix length, and every glob tested. A second rule set
 * ends in a glob that matches every key (the matched rule's settings are then used).
 *
 * Prints JSON lines {"bench":"key-rules","variant","rules","getsPerSec","nsPerGet"} per round
 * median, and {"bench":"key-rules","ratio"} (with rules / without, median of same-round ratios).
 */
import { parseArgs } from "node:util";
import { CacheManager } from "../src/engine/cache-manager.js";
import type { KeyRule } from "../src/engine/key-rules.js";
import { defaultSettings } from "../src/engine/policy.js";
import { PolicyStore } from "../src/engine/policy-store.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    gets: { type: "string", default: "200000" },
  },
});
const rounds = Number(values.rounds);
const gets = Number(values.gets);
const KEYS = 10_000;

/** 100 rules that match none of the keys read (`matchAll`: the last one, a glob, matches every key). */
function hundredRules(matchAll: boolean): KeyRule[] {
  const rules: KeyRule[] = [];
  for (let i = 0; i < 40; i++)
    rules.push({ name: `e${i}`, match: { kind: "exact", pattern: `user:${i}` }, overrides: {} });
  for (let i = 0; i < 30; i++) {
    rules.push({
      name: `p${i}`,
      match: { kind: "prefix", pattern: `session:${"x".repeat(i % 10)}${i}:` },
      overrides: {},
    });
  }
  for (let i = 0; i < 30; i++) {
    const last = i === 29 && matchAll;
    const pattern = last ? "category:*:product:*" : `category:*:variant${i}:*`;
    rules.push({
      name: `g${i}`,
      match: { kind: "glob", pattern },
      overrides: last ? { l1: { ttlMs: 10 * 60_000, freshForMs: 10 * 60_000 } } : {},
    });
  }
  return rules;
}

function manager(rules: KeyRule[]): CacheManager {
  const settings = { ...defaultSettings(), rules };
  const cache = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 256 << 20, maxEntries: KEYS * 2 }),
    policies: new PolicyStore(defaultSettings(), { bench: settings }),
  });
  return cache;
}

const keys = Array.from({ length: KEYS }, (_, i) => `category:${i % 97}:product:${i}`);
const sample = zipfSampler(KEYS, 0.99, mulberry32(42));
const stream = Int32Array.from({ length: gets }, () => sample());

async function warm(cache: CacheManager): Promise<void> {
  const value = new Uint8Array(64);
  for (const key of keys) await cache.set("bench", key, value);
}

/** Gets per second of L1 hits (every Get awaited, as a caller would). */
async function run(cache: CacheManager): Promise<number> {
  const started = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < stream.length; i++) {
    const lookup = await cache.get("bench", keys[stream[i]!]!);
    if (lookup.found) found++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (found !== stream.length) throw new Error(`expected only hits, got ${found} of ${stream.length}`);
  return stream.length / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const variants = [
  { variant: "none", rules: [] as KeyRule[] },
  { variant: "100-no-match", rules: hundredRules(false) },
  { variant: "100-last-glob-matches", rules: hundredRules(true) },
];
const caches = variants.map((v) => manager(v.rules));
for (const cache of caches) await warm(cache);
for (const cache of caches) await run(cache); // JIT warm-up
const results = variants.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  for (const [i, cache] of caches.entries()) results[i]!.push(await run(cache));
}
for (const [i, v] of variants.entries()) {
  const getsPerSec = median(results[i]!);
  console.log(
    JSON.stringify({
      bench: "key-rules",
      variant: v.variant,
      rules: v.rules.length,
      getsPerSec: Math.round(getsPerSec),
      nsPerGet: Math.round(1e9 / getsPerSec),
    }),
  );
}
for (const i of [1, 2]) {
  const ratios = results[i]!.map((r, round) => r / results[0]![round]!);
  console.log(
    JSON.stringify({
      bench: "key-rules",
      ratio: Number(median(ratios).toFixed(3)),
      of: `${variants[i]!.variant}/none`,
    }),
  );
}
