import { ceilingPowerOfTwo } from "./hash.js";

/** Remembers which hashed keys were seen once since the last reset. */
export interface SeenFilter {
  /** Marks the hash as seen; returns true if it was (probably) already marked. */
  put(hash: number): boolean;
  /** Returns true if the hash was (probably) marked since the last clear. */
  contains(hash: number): boolean;
  /** Forgets everything. */
  clear(): void;
}

/** Options for {@link Doorkeeper}. */
export interface DoorkeeperOptions {
  /** Expected distinct keys between two clears; sizes the bit array. */
  expectedInsertions: number;
  /** Bits per expected insertion (default 8, rounded up to a power of two in total). */
  bitsPerKey?: number;
}

/**
 * A Bloom filter in front of the frequency sketch (TinyLFU's "doorkeeper"): the first
 * occurrence of a key only sets its bits here, so one-hit wonders never reach the sketch's
 * counters; it is cleared whenever the sketch halves. Three probes derived from one hash by
 * double hashing.
 */
export class Doorkeeper implements SeenFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  constructor(options: DoorkeeperOptions) {
    const bitCount = Math.max(
      64,
      ceilingPowerOfTwo(Math.min(options.expectedInsertions * (options.bitsPerKey ?? 8), 2 ** 31)),
    );
    this.bits = new Uint32Array(bitCount >>> 5);
    this.mask = bitCount - 1;
  }

  /** Marks the hash as seen; returns true if all its bits were already set. */
  put(hash: number): boolean {
    const bits = this.bits;
    const step = (Math.imul(hash, 0x9e3779b1) >>> 16) | 1;
    let present = true;
    let h = hash;
    for (let i = 0; i < 3; i++) {
      const bit = h & this.mask;
      const word = bit >>> 5;
      const flag = 1 << (bit & 31);
      if ((bits[word]! & flag) === 0) {
        present = false;
        bits[word] = bits[word]! | flag;
      }
      h = (h + step) | 0;
    }
    return present;
  }

  /** Returns true if all the bits of the hash are set. */
  contains(hash: number): boolean {
    const bits = this.bits;
    const step = (Math.imul(hash, 0x9e3779b1) >>> 16) | 1;
    let h = hash;
    for (let i = 0; i < 3; i++) {
      const bit = h & this.mask;
      if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
      h = (h + step) | 0;
    }
    return true;
  }

  /** Clears every bit. */
  clear(): void {
    this.bits.fill(0);
  }
}
