import { ceilingPowerOfTwo } from "./hash.js";

/** Estimates how often a hashed key was seen recently. */
export interface FrequencyEstimator {
  /** Records one occurrence of the key with this hash. */
  increment(hash: number): void;
  /** Returns the estimated recent frequency of the key with this hash. */
  frequency(hash: number): number;
}

/** Options for {@link FrequencySketch}. */
export interface FrequencySketchOptions {
  /** Expected number of resident entries; sizes the table (16 counters per entry). */
  maximumSize: number;
  /** Samples between halvings; defaults to 10 × maximumSize. */
  sampleSize?: number;
  /** Increment only the counters that hold the minimum (default true). */
  conservative?: boolean;
  /** Called after each halving (the doorkeeper is cleared here). */
  onReset?: () => void;
}

/** Largest value of a 4-bit counter. */
export const MAX_FREQUENCY = 15;

const ONE_MASK = 0x11111111;
const RESET_MASK = 0x77777777;

/*
 * A 4-bit count-min sketch with periodic aging, after TinyLFU (Einziger, Friedman & Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS 2017) and Caffeine's layout.
 *
 * Layout. Counters are 4 bits, eight to a Uint32 word. Words are grouped in blocks of 16
 * words (64 bytes, one CPU cache line, 128 counters). A key's hash is spread once to pick
 * its block, and re-hashed once to pick four counters inside that block: hash function i
 * (i = 0..3) uses byte i of the re-hash to pick one of the four words of quarter i of the
 * block (2 bits) and one of the eight counters of that word (3 bits). So the four counters
 * are always distinct and one lookup touches a single cache line. The table holds
 * 2 × ceilPow2(maximumSize) words, i.e. 16 counters (8 bytes) per expected entry.
 *
 * Counting. The estimate is the minimum of the four counters (count-min: it can only
 * over-estimate, through collisions). With conservative update only the counters equal to
 * that minimum are incremented, which reduces over-estimation without breaking the
 * never-under-estimate property. Counters saturate at 15: TinyLFU only needs to compare
 * popularity, not to count exactly.
 *
 * Aging. Every `sampleSize` samples (10 × the cache size, the paper's W) all counters are
 * halved at once with a shift and mask, so the sketch reflects recent history and a key
 * that was hot long ago loses its advantage. `size` is corrected for the truncation of odd
 * counters as in the paper (subtract a quarter of the odd counters, then halve).
 */

/** A 4-bit count-min sketch with conservative update and periodic halving. */
export class FrequencySketch implements FrequencyEstimator {
  /** Samples recorded since the last halving. */
  size = 0;
  /** Number of halvings performed. */
  resets = 0;
  readonly sampleSize: number;
  private readonly table: Uint32Array;
  private readonly blockMask: number;
  private readonly conservative: boolean;
  private readonly onReset: (() => void) | undefined;

  constructor(options: FrequencySketchOptions) {
    const maximum = Math.max(1, Math.min(Math.floor(options.maximumSize), 1 << 30));
    const words = Math.max(16, 2 * ceilingPowerOfTwo(maximum));
    this.table = new Uint32Array(words);
    this.blockMask = (words >>> 4) - 1;
    this.sampleSize = options.sampleSize ?? 10 * maximum;
    this.conservative = options.conservative ?? true;
    this.onReset = options.onReset;
  }

  /** Returns the estimated frequency (0..15) of the key with this hash. */
  frequency(hash: number): number {
    const blockHash = spread(hash);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 4;
    const table = this.table;
    let min = MAX_FREQUENCY;
    for (let i = 0; i < 4; i++) {
      const h = counterHash >>> (i << 3);
      const count = (table[block + (i << 2) + (h & 3)]! >>> (((h >>> 2) & 7) << 2)) & 15;
      if (count < min) min = count;
    }
    return min;
  }

  /** Records one occurrence of the key with this hash; halves all counters when the sample is full. */
  increment(hash: number): void {
    const blockHash = spread(hash);
    const counterHash = rehash(blockHash);
    const block = (blockHash & this.blockMask) << 4;
    const table = this.table;
    const i0 = block + (counterHash & 3);
    const s0 = ((counterHash >>> 2) & 7) << 2;
    const i1 = block + 4 + ((counterHash >>> 8) & 3);
    const s1 = ((counterHash >>> 10) & 7) << 2;
    const i2 = block + 8 + ((counterHash >>> 16) & 3);
    const s2 = ((counterHash >>> 18) & 7) << 2;
    const i3 = block + 12 + ((counterHash >>> 24) & 3);
    const s3 = ((counterHash >>> 26) & 7) << 2;
    const c0 = (table[i0]! >>> s0) & 15;
    const c1 = (table[i1]! >>> s1) & 15;
    const c2 = (table[i2]! >>> s2) & 15;
    const c3 = (table[i3]! >>> s3) & 15;
    if (this.conservative) {
      const min = Math.min(c0, c1, c2, c3);
      if (min < MAX_FREQUENCY) {
        if (c0 === min) table[i0] = table[i0]! + (1 << s0);
        if (c1 === min) table[i1] = table[i1]! + (1 << s1);
        if (c2 === min) table[i2] = table[i2]! + (1 << s2);
        if (c3 === min) table[i3] = table[i3]! + (1 << s3);
      }
    } else {
      if (c0 < MAX_FREQUENCY) table[i0] = table[i0]! + (1 << s0);
      if (c1 < MAX_FREQUENCY) table[i1] = table[i1]! + (1 << s1);
      if (c2 < MAX_FREQUENCY) table[i2] = table[i2]! + (1 << s2);
      if (c3 < MAX_FREQUENCY) table[i3] = table[i3]! + (1 << s3);
    }
    this.tick();
  }

  /** Counts one sample without touching the counters (used when the doorkeeper absorbs it). */
  tick(): void {
    if (++this.size >= this.sampleSize) this.reset();
  }

  /** Halves every counter (aging) and clears the sample count accordingly. */
  reset(): void {
    const table = this.table;
    let odd = 0;
    for (let i = 0; i < table.length; i++) {
      const word = table[i]!;
      odd += popcount(word & ONE_MASK);
      table[i] = (word >>> 1) & RESET_MASK;
    }
    this.size = Math.max(0, (this.size - (odd >>> 2)) >>> 1);
    this.resets++;
    this.onReset?.();
  }

  /** Zeroes every counter. */
  clear(): void {
    this.table.fill(0);
    this.size = 0;
  }
}

function spread(x: number): number {
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b);
  x = Math.imul((x >>> 16) ^ x, 0x45d9f3b);
  return ((x >>> 16) ^ x) >>> 0;
}

function rehash(x: number): number {
  x = Math.imul(x, 0x31848bab);
  return (x ^ (x >>> 14)) >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
