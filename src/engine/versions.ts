import type { Clock, MonotonicTime } from "./clock.js";

/** Versions per millisecond: room for an instance salt (below half) and increments above it. */
const VERSION_SPACE = 1n << 20n;

/**
 * When a load started: its value gets this creation time and version, because the origin's
 * answer may predate anything that happened while the load ran (an invalidation, a Set).
 */
export interface LoadStart {
  at: number;
  version: bigint;
}

/**
 * The versions this instance hands out: milliseconds of time times 2^20, plus a random salt
 * of this instance, so two instances writing or loading a key in the same millisecond still
 * get different versions (a Set's notice keeps only the copy of that very write).
 */
export class Versions {
  private last = 0n;
  private readonly salt = BigInt(Math.floor(Math.random() * Number(VERSION_SPACE / 2n)));

  constructor(
    private readonly clock: Clock,
    private readonly time: MonotonicTime,
  ) {}

  /** A version greater than `current` and than every version handed out here. */
  next(current: bigint): bigint {
    let candidate = BigInt(Math.floor(this.clock.now())) * VERSION_SPACE + this.salt;
    if (candidate <= this.last) candidate = this.last + 1n;
    if (candidate <= current) candidate = current + 1n;
    this.last = candidate;
    return candidate;
  }

  /** Marks the start of a load (see {@link LoadStart}). */
  loadStart(): LoadStart {
    return { at: this.time.next(), version: this.next(0n) };
  }
}
