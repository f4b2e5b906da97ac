/** Synthetic, seeded workloads for the hit-ratio benchmark. */
import type { Trace } from "./trace-reader.js";

/** A small seeded PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws Zipf(s) ranks in 0..keys-1 by inverse CDF (binary search over the cumulative weights). */
export function zipfSampler(keys: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let i = 0; i < keys; i++) {
    sum += 1 / (i + 1) ** s;
    cdf[i] = sum;
  }
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** `requests` Zipf(s) requests over `keys` keys. */
export function zipfWorkload(options: { keys: number; requests: number; s: number; seed: number }): Trace {
  const next = zipfSampler(options.keys, options.s, mulberry32(options.seed));
  const ids = new Int32Array(options.requests);
  for (let i = 0; i < ids.length; i++) ids[i] = next();
  return { ids, keys: Array.from({ length: options.keys }, (_, i) => `zipf:${i}`) };
}

/**
 * A hot Zipf(0.9) set of 10k keys; after every 20k hot requests comes a scan of 10k keys
 * never seen before (50 rounds, 1.5M requests). A scan-resistant cache keeps the hot set.
 */
export function scanWorkload(options: { seed: number }): Trace {
  const hotKeys = 10_000;
  const rounds = 50;
  const hotPerRound = 20_000;
  const scanLength = 10_000;
  const next = zipfSampler(hotKeys, 0.9, mulberry32(options.seed));
  const ids = new Int32Array(rounds * (hotPerRound + scanLength));
  const keys = Array.from({ length: hotKeys }, (_, i) => `hot:${i}`);
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < hotPerRound; i++) ids[n++] = next();
    for (let i = 0; i < scanLength; i++) {
      ids[n++] = keys.length;
      keys.push(`scan:${round}:${i}`);
    }
  }
  return { ids, keys };
}
