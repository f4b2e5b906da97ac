import type { EntryTable } from "./entry-table.js";
import { NONE } from "./entry-table.js";

/** Bucket counts per level (powers of two). */
const BUCKETS = [64, 64, 32, 4, 1] as const;
/**
 * Span of one bucket per level, in ms: ~1 s, ~65 s, ~70 min, ~37 h, ~6.2 days. Level i
 * covers BUCKETS[i] × SPANS[i] = SPANS[i + 1]; the last level is an overflow bucket that is
 * re-examined every SPANS[4] ms.
 */
const SPANS = [2 ** 10, 2 ** 16, 2 ** 22, 2 ** 27, 2 ** 29, 2 ** 29] as const;

/** Sentinel slots a {@link TimerWheel} needs in its table. */
export const TIMER_WHEEL_SENTINELS = BUCKETS.reduce((sum, n) => sum + n, 0);

/**
 * A hierarchical timer wheel (Varghese & Lauck; Caffeine's layout, in milliseconds) over
 * the timer links of an {@link EntryTable}. An entry is put in the coarsest-enough bucket
 * for its remaining time; when a bucket's time passes, its entries either expire or
 * cascade to a finer level. Scheduling, rescheduling and removal are O(1); advancing is
 * O(1) amortized per entry.
 */
export class TimerWheel<V> {
  /** Entries currently scheduled. */
  count = 0;
  private readonly table: EntryTable<V>;
  /** First sentinel slot of each level. */
  private readonly levelStart: number[];
  /** Time (ms) the wheel was last advanced to. */
  private time: number;

  /** Uses table slots `firstSentinel … firstSentinel + TIMER_WHEEL_SENTINELS - 1` as buckets. */
  constructor(table: EntryTable<V>, firstSentinel: number, now: number) {
    this.table = table;
    this.time = now;
    this.levelStart = [];
    let slot = firstSentinel;
    for (const n of BUCKETS) {
      this.levelStart.push(slot);
      slot += n;
    }
  }

  /** True if `slot` is in a bucket. */
  isScheduled(slot: number): boolean {
    return this.table.timerPrev[slot] !== NONE;
  }

  /** Adds (or moves) `slot` to the bucket for its `expiresAt`. */
  schedule(slot: number): void {
    const t = this.table;
    if (t.timerPrev[slot] !== NONE) this.unlink(slot);
    const sentinel = this.bucketFor(t.expiresAt[slot]!);
    const tail = t.timerPrev[sentinel]!;
    t.timerPrev[slot] = tail;
    t.timerNext[slot] = sentinel;
    t.timerNext[tail] = slot;
    t.timerPrev[sentinel] = slot;
    this.count++;
  }

  /** Removes `slot` from its bucket if it is scheduled. */
  deschedule(slot: number): void {
    if (this.table.timerPrev[slot] !== NONE) this.unlink(slot);
  }

  /**
   * Advances to `now`, calling `expire` for every entry whose bucket has elapsed and whose
   * `expiresAt` ≤ now; other entries of those buckets cascade to finer buckets. An entry
   * can stay scheduled up to one level-0 tick (~1 s) past its expiry; see {@link sweep}.
   */
  advance(now: number, expire: (slot: number) => void): void {
    const previous = this.time;
    if (now <= previous) return;
    this.time = now;
    for (let level = 0; level < BUCKETS.length; level++) {
      const span = SPANS[level]!;
      const previousTicks = Math.floor(previous / span);
      const delta = Math.floor(now / span) - previousTicks;
      if (delta <= 0) break;
      const n = BUCKETS[level]!;
      const steps = Math.min(delta, n);
      for (let i = 0; i < steps; i++) {
        this.drain(this.levelStart[level]! + ((previousTicks + i) % n), now, expire);
      }
    }
  }

  /**
   * Advances, then also drains the current bucket of every level, so that every entry with
   * `expiresAt` ≤ now is expired. Costs O(entries due within the current ticks): meant for
   * explicit clean-ups, not the write path.
   */
  sweep(now: number, expire: (slot: number) => void): void {
    this.advance(now, expire);
    for (let level = 0; level < BUCKETS.length; level++) {
      const n = BUCKETS[level]!;
      this.drain(this.levelStart[level]! + (Math.floor(now / SPANS[level]!) % n), now, expire);
    }
  }

  /** Forgets every scheduled entry (the caller frees their slots). */
  reset(now: number): void {
    const t = this.table;
    for (let level = 0; level < BUCKETS.length; level++) {
      for (let i = 0; i < BUCKETS[level]!; i++) {
        const sentinel = this.levelStart[level]! + i;
        t.timerPrev[sentinel] = sentinel;
        t.timerNext[sentinel] = sentinel;
      }
    }
    this.count = 0;
    this.time = now;
  }

  private drain(sentinel: number, now: number, expire: (slot: number) => void): void {
    const t = this.table;
    // Detach the whole list first: expire() and schedule() may touch this bucket again.
    let slot = t.timerNext[sentinel]!;
    t.timerPrev[sentinel] = sentinel;
    t.timerNext[sentinel] = sentinel;
    while (slot !== sentinel) {
      const next = t.timerNext[slot]!;
      t.timerPrev[slot] = NONE;
      t.timerNext[slot] = NONE;
      this.count--;
      if (t.expiresAt[slot]! <= now) expire(slot);
      else this.schedule(slot);
      slot = next;
    }
  }

  private bucketFor(expiresAt: number): number {
    const duration = expiresAt - this.time;
    const last = BUCKETS.length - 1;
    for (let level = 0; level < last; level++) {
      if (duration < SPANS[level + 1]!) {
        const ticks = Math.floor(Math.max(expiresAt, this.time) / SPANS[level]!);
        return this.levelStart[level]! + (ticks % BUCKETS[level]!);
      }
    }
    return this.levelStart[last]!;
  }

  private unlink(slot: number): void {
    const t = this.table;
    const before = t.timerPrev[slot]!;
    const after = t.timerNext[slot]!;
    t.timerNext[before] = after;
    t.timerPrev[after] = before;
    t.timerPrev[slot] = NONE;
    t.timerNext[slot] = NONE;
    this.count--;
  }
}
