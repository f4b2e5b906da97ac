/**
 * Hashes a string key to a non-negative 30-bit integer.
 *
 * FNV-1a over UTF-16 code units followed by the murmur3 finalizer for avalanche. The result
 * is shifted to 30 bits so that V8 keeps it as a small integer (no heap number) when it is
 * stored on a cache node; the frequency sketch re-spreads it before indexing.
 *
 * @example const hash = hashKey("user:42");
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 2;
}

/** Returns the smallest power of two that is ≥ `n` (and ≥ 1), for n up to 2^30. */
export function ceilingPowerOfTwo(n: number): number {
  if (n <= 1) return 1;
  return 2 ** Math.ceil(Math.log2(n));
}
