/**
 * L1 micro-benchmark: get/set throughput of our W-TinyLFU against lru-cache in the same
 * process (alternating runs, median of several), and bytes per entry at 1M entries.
 *
 *   npm run bench:l1 [-- --runs 7 --skip-memory]
 *
 * Prints JSON lines {"bench","impl","opsPerSec"}, {"bench","ratio"} and
 * {"bench":"memory","impl","bytesPerEntry"}. Needs --expose-gc for the memory part.
 */

import { parseArgs } from "node:util";
import { LRUCache } from "lru-cache";
import { WTinyLfuCache } from "../src/layers/memory/index.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    "skip-memory": { type: "boolean", default: false },
    "memory-entries": { type: "string", default: "1000000" },
  },
});
const runs = Number(values.runs);

interface Impl {
  name: "mlcache" | "lru-cache";
  create(max: number): { get(key: string): unknown; set(key: string, value: unknown): void };
}

const ONE = { weight: 1 };
const impls: Impl[] = [
  {
    name: "mlcache",
    create(max) {
      const cache = new WTinyLfuCache<unknown>({ maxEntries: max });
      return { get: (key) => cache.get(key), set: (key, value) => void cache.set(key, value, ONE) };
    },
  },
  {
    name: "lru-cache",
    create(max) {
      const cache = new LRUCache<string, object>({ max });
      return { get: (key) => cache.get(key), set: (key, value) => void cache.set(key, value as object) };
    },
  },
];

const VALUE = { payload: true };

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Gets over a warm cache that holds every key: all hits, Zipf(0.99)-distributed. */
function benchGet(impl: Impl, keys: string[], stream: Int32Array): number {
  const cache = impl.create(keys.length);
  for (const key of keys) cache.set(key, VALUE);
  for (let i = 0; i < stream.length; i++) cache.get(keys[stream[i]!]!); // warm-up pass
  let found = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < stream.length; i++) if (cache.get(keys[stream[i]!]!) !== undefined) found++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (found !== stream.length) throw new Error(`${impl.name}: expected only hits`);
  return stream.length / seconds;
}

/** Sets of uniformly random keys, 10× more keys than capacity: almost every set evicts. */
function benchSet(impl: Impl, keys: string[], stream: Int32Array, capacity: number): number {
  const cache = impl.create(capacity);
  for (let i = 0; i < capacity * 2; i++) cache.set(keys[stream[i]!]!, VALUE); // fill + warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < stream.length; i++) cache.set(keys[stream[i]!]!, VALUE);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return stream.length / seconds;
}

function throughput(): void {
  const random = mulberry32(1);
  const getKeys = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
  const zipf = zipfSampler(getKeys.length, 0.99, random);
  const getStream = Int32Array.from({ length: 2_000_000 }, () => zipf());
  const setKeys = Array.from({ length: 1_000_000 }, (_, i) => `key:${i}`);
  const setStream = Int32Array.from({ length: 1_000_000 }, () => Math.floor(random() * setKeys.length));
  const results: Record<string, Record<string, number[]>> = { get: {}, set: {} };
  for (let run = 0; run < runs; run++) {
    // Alternate the order so neither implementation always runs on a warmer JIT or heap.
    const order = run % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) {
      results.get![impl.name] ??= [];
      results.get![impl.name]!.push(benchGet(impl, getKeys, getStream));
      results.set![impl.name] ??= [];
      results.set![impl.name]!.push(benchSet(impl, setKeys, setStream, 100_000));
    }
  }
  for (const bench of ["get", "set"]) {
    const byImpl = results[bench]!;
    for (const impl of impls) {
      const opsPerSec = Math.round(median(byImpl[impl.name]!));
      process.stdout.write(`${JSON.stringify({ bench, impl: impl.name, opsPerSec })}\n`);
    }
    const ratio = median(byImpl.mlcache!) / median(byImpl["lru-cache"]!);
    process.stdout.write(`${JSON.stringify({ bench, ratio: Number(ratio.toFixed(3)), of: "mlcache/lru-cache" })}\n`);
  }
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run node with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  // Typed arrays (sketch, doorkeeper, entry table) live outside the JS heap: count them too.
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Heap bytes per entry beyond the key strings and the (shared) value, at `n` entries. */
function memory(n: number): void {
  const keys = Array.from({ length: n }, (_, i) => `key:${i}`);
  for (const impl of impls) {
    const before = heapAfterGc();
    let cache: ReturnType<Impl["create"]> | undefined = impl.create(n);
    for (const key of keys) cache.set(key, VALUE);
    const after = heapAfterGc();
    const bytesPerEntry = Math.round((after - before) / n);
    process.stdout.write(`${JSON.stringify({ bench: "memory", impl: impl.name, entries: n, bytesPerEntry })}\n`);
    if (cache.get(keys[0]!) === undefined && cache.get(keys[n - 1]!) === undefined) throw new Error("empty cache");
    cache = undefined;
  }
  // Entries with an expiry are also linked into the timer wheel.
  const before = heapAfterGc();
  const cache = new WTinyLfuCache<unknown>({ maxEntries: n });
  const expiresAt = Date.now() + 3_600_000.5;
  for (const key of keys) cache.set(key, VALUE, { weight: 1, expiresAt });
  const after = heapAfterGc();
  process.stdout.write(
    `${JSON.stringify({ bench: "memory", impl: "mlcache+ttl", entries: n, bytesPerEntry: Math.round((after - before) / n) })}\n`,
  );
  if (cache.size !== n) throw new Error("cache lost entries");
}

throughput();
if (!values["skip-memory"]) memory(Number(values["memory-entries"]));
