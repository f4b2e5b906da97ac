import type { Clock } from "../../engine/clock.js";
import { systemClock } from "../../engine/clock.js";
import type { RemovalCause } from "../../engine/layer.js";
import type { Admittor } from "./admission.js";
import { AlwaysAdmit, TinyLfuAdmittor } from "./admission.js";
import {
  type CacheStats,
  Cause,
  ENTRY_OVERHEAD_BYTES,
  type EvictionListener,
  type HotKey,
  type SetOptions,
  type WTinyLfuOptions,
} from "./cache-types.js";
import { EntryTable, NEVER, NONE, Segment } from "./entry-table.js";
import { Ghost } from "./ghost.js";
import { hashKey } from "./hash.js";
import { HillClimber } from "./hill-climber.js";
import { Segments } from "./segments.js";
import { TIMER_WHEEL_SENTINELS, TimerWheel } from "./timer-wheel.js";
import { GHOST_SHARE, WindowTuner } from "./window-tuner.js";

export {
  type CacheStats,
  ENTRY_OVERHEAD_BYTES,
  type EvictionListener,
  type HotKey,
  type SetOptions,
  type WindowTuning,
  type WTinyLfuOptions,
} from "./cache-types.js";

/**
 * A synchronous, byte- and entry-bounded W-TinyLFU cache with per-entry expiry.
 *
 * New entries enter a small LRU window; entries leaving the window compete with the main
 * space's probation victim, and the less popular one (by TinyLFU's sketch) is evicted. The
 * main space is a segmented LRU (probation, and protected = 80%). The window share follows
 * miniature simulations of the workload at several shares (or a hill climber, by option);
 * the simulations also decide whether a ghost is kept: while it is, a duel loser that comes
 * back while remembered is admitted (S3-FIFO's ghost queue, 2 bytes per entry of capacity).
 * Expired entries are never returned and are dropped by a timer wheel during writes or
 * `cleanUp()`.
 *
 * @example
 * const cache = new WTinyLfuCache<Buffer>({ maxEntries: 10_000, maxBytes: 64 << 20 });
 * cache.set("k", buf, { weight: buf.byteLength, expiresAt: Date.now() + 60_000 });
 * cache.get("k");
 */
export class WTinyLfuCache<V> {
  /** Entry bound. */
  readonly maxEntries: number;
  /** Byte bound. */
  readonly maxBytes: number;
  /** Heaviest entry accepted by `set`. */
  readonly maxEntryBytes: number;
  private readonly entryOverhead: number;
  private readonly map = new Map<string, number>();
  private readonly table: EntryTable<V>;
  private readonly segments: Segments<V>;
  private readonly wheel: TimerWheel<V>;
  private readonly admittor: Admittor;
  private readonly alwaysAdmits: ((value: V) => boolean) | undefined;
  private readonly clock: Clock;
  private readonly onEvict: EvictionListener<V> | undefined;
  private readonly expireSlot = (slot: number): void => this.remove(slot, Cause.Expired);

  /** The window tuning by miniature simulations (the default), or undefined. */
  private tuner: WindowTuner | undefined;
  /** The window tuning by hill climbing (an option), or undefined. */
  private readonly climber: HillClimber | undefined;
  /** Duel losers remembered while the tuner has the ghost on (created on first use). */
  private ghost: Ghost | undefined;
  /** True while a remembered duel loser is admitted when it comes back (chosen by the tuner). */
  private ghostOn = false;
  /** True once the cache has been full: the climber ignores the warm-up. */
  private filled = false;

  // Counters.
  private hits = 0;
  private misses = 0;
  private puts = 0;
  private admissionRejections = 0;
  private rejectedSets = 0;
  private readonly evictions: Record<RemovalCause, number> = {
    size: 0,
    expired: 0,
    explicit: 0,
    replaced: 0,
  };

  constructor(options: WTinyLfuOptions<V>) {
    if (!(options.maxEntries >= 1)) throw new RangeError("maxEntries must be ≥ 1");
    this.maxEntries = Math.floor(options.maxEntries);
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxBytes > 0)) throw new RangeError("maxBytes must be > 0");
    this.entryOverhead = options.entryOverhead ?? ENTRY_OVERHEAD_BYTES;
    this.clock = options.clock ?? systemClock;
    this.onEvict = options.onEvict;
    const admitOptions = {
      maximumSize: Math.min(this.maxEntries, 1 << 30),
      doorkeeper: options.doorkeeper ?? true,
      conservative: options.conservativeUpdate ?? true,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
    this.admittor = (options.admission ?? true) ? new TinyLfuAdmittor(admitOptions) : new AlwaysAdmit(admitOptions);
    this.alwaysAdmits = options.alwaysAdmits;
    // Slots 0..2 are the three segment sentinels, then the timer wheel's buckets.
    this.table = new EntryTable<V>(3 + TIMER_WHEEL_SENTINELS, this.maxEntries);
    const windowShare = Math.min(1, Math.max(0, (options.windowPercent ?? 1) / 100));
    this.segments = new Segments(this.table, this.maxEntries, this.maxBytes, windowShare);
    this.wheel = new TimerWheel<V>(this.table, 3, this.clock.now());
    this.maxEntryBytes = Math.min(
      this.maxBytes,
      options.maxEntryBytes ?? (Number.isFinite(this.maxBytes) ? Math.max(this.segments.windowMaxBytes, 1) : NEVER),
    );
    const tuning = options.windowTuning ?? "simulation";
    this.climber = tuning === "climbing" ? new HillClimber(this.maxEntries) : undefined;
    if (tuning === "simulation") this.tuner = this.createTuner(this.maxEntries);
  }

  /** Entries resident (including expired ones not yet cleaned up). */
  get size(): number {
    return this.map.size;
  }

  /** Total weight resident, in bytes. */
  get weightedSize(): number {
    return this.segments.weight;
  }

  /** Returns the value and records the access, or undefined if absent or expired. */
  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      if (this.climber !== undefined && this.filled) this.sample(0);
      return undefined;
    }
    const table = this.table;
    const expiresAt = table.expiresAt[slot]!;
    if (expiresAt !== NEVER && expiresAt <= this.clock.now()) {
      this.remove(slot, Cause.Expired);
      this.misses++;
      if (this.climber !== undefined && this.filled) this.sample(0);
      return undefined;
    }
    this.hits++;
    const hash = table.hashes[slot]!;
    this.admittor.recordResident(hash);
    this.segments.onAccess(slot);
    const tuner = this.tuner;
    if (tuner !== undefined) {
      const share = tuner.record(hash);
      if (share >= 0) this.tune(share);
    } else if (this.climber !== undefined && this.filled) this.sample(1);
    return table.values[slot];
  }

  /** Returns the value without touching frequency, recency or counters. */
  peek(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined || this.isExpired(slot, this.clock.now())) return undefined;
    return this.table.values[slot];
  }

  /** True if the key is resident and not expired; no side effects. */
  has(key: string): boolean {
    const slot = this.map.get(key);
    return slot !== undefined && !this.isExpired(slot, this.clock.now());
  }

  /**
   * Stores the value. Returns false when it is not stored: heavier than `maxEntryBytes` or
   * `maxBytes`, already expired, or evicted at once because it lost the admission duel.
   * A previous value for the key is dropped in every case.
   */
  set(key: string, value: V, options: SetOptions): boolean {
    const expiresAt = options.expiresAt ?? NEVER;
    const weight = Math.ceil(options.weight) + key.length * 2 + this.entryOverhead;
    const now = expiresAt !== NEVER || this.wheel.count > 0 ? this.clock.now() : 0;
    if (this.wheel.count > 0) this.wheel.advance(now, this.expireSlot);
    let slot = this.map.get(key);

    if (weight > this.maxEntryBytes || (expiresAt !== NEVER && expiresAt <= now)) {
      if (slot !== undefined) this.remove(slot, Cause.Replaced);
      this.rejectedSets++;
      return false;
    }

    const table = this.table;
    if (slot !== undefined) {
      const previous = table.values[slot] as V;
      const list = this.segments.listOf(slot);
      list.weight += weight - table.weights[slot]!;
      table.weights[slot] = weight;
      table.values[slot] = value;
      this.setExpiry(slot, expiresAt);
      this.evictions.replaced++;
      this.notify(key, previous, Cause.Replaced);
      this.admittor.recordResident(table.hashes[slot]!);
      this.segments.onAccess(slot);
    } else {
      const hash = hashKey(key);
      this.admittor.record(hash);
      slot = table.allocate(key, value, hash, weight, Segment.Window, expiresAt);
      this.map.set(key, slot);
      this.segments.admitToWindow(slot);
      if (expiresAt !== NEVER) this.wheel.schedule(slot);
      const share = this.tuner !== undefined ? this.tuner.record(hash) : -1;
      if (share >= 0) this.tune(share);
    }
    this.evictEntries();
    // Evicted at once (lost the duel)? Its slot may even have been reused: check the map.
    if (this.map.get(key) !== slot) return false;
    this.puts++;
    return true;
  }

  /** Removes the key; returns true if it was resident. */
  delete(key: string): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    this.remove(slot, Cause.Explicit);
    return true;
  }

  /** Changes the absolute expiry of a resident key; returns false if absent. */
  setExpiresAt(key: string, expiresAt: number): boolean {
    const slot = this.map.get(key);
    if (slot === undefined) return false;
    const now = this.clock.now();
    if (this.isExpired(slot, now) || expiresAt <= now) {
      this.remove(slot, Cause.Expired);
      return false;
    }
    this.setExpiry(slot, expiresAt);
    return true;
  }

  /** Removes every entry (listener called with `explicit`); the frequency history is kept. */
  clear(): void {
    const table = this.table;
    const removed: [string, V][] = [];
    for (const [key, slot] of this.map) {
      if (this.onEvict !== undefined) removed.push([key, table.values[slot] as V]);
      table.timerPrev[slot] = NONE;
      table.timerNext[slot] = NONE;
      table.free(slot);
    }
    this.evictions.explicit += this.map.size;
    this.map.clear();
    this.segments.window.reset();
    this.segments.probation.reset();
    this.segments.protected.reset();
    this.wheel.reset(this.clock.now());
    for (const [key, value] of removed) this.notify(key, value, Cause.Explicit);
  }

  /** Removes every expired entry now. */
  cleanUp(): void {
    if (this.wheel.count > 0) this.wheel.sweep(this.clock.now(), this.expireSlot);
  }

  /** Iterates over resident, unexpired keys (no particular order; do not modify while iterating). */
  *keys(): IterableIterator<string> {
    const now = this.clock.now();
    for (const [key, slot] of this.map) {
      if (!this.isExpired(slot, now)) yield key;
    }
  }

  /** Estimated recent frequency of a key (0..16), resident or not. */
  frequency(key: string): number {
    return this.admittor.frequency(hashKey(key));
  }

  /**
   * Whether the key would be kept if it were stored now: while the cache has room, yes; once
   * full, when it would win the admission duel against the entry it would meet first (the
   * probation segment's LRU end, else protected's). An estimate: the real duel happens when
   * the key leaves the window, by which time both frequencies may have moved.
   */
  wouldAdmit(key: string): boolean {
    if (!this.filled && this.map.size < this.maxEntries) return true;
    const { probation, protected: protectedList } = this.segments;
    let victim = probation.first();
    if (victim === NONE) victim = protectedList.first();
    if (victim === NONE) return true;
    return this.admittor.duelFrequency(hashKey(key)) > this.admittor.duelFrequency(this.table.hashes[victim]!);
  }

  /** Records an access to a key that is not cached here (so its popularity can grow before it is). */
  recordAccess(key: string): void {
    this.admittor.record(hashKey(key));
  }

  /** The `n` resident keys with the highest estimated frequency, hottest first. O(entries). */
  topKeys(n: number, matches?: (key: string) => boolean): HotKey[] {
    if (n <= 0) return [];
    const now = this.clock.now();
    const hashes = this.table.hashes;
    // Frequencies are tiny integers: count per value, find the cut-off, collect. Keys that do
    // not match are left out before ranking, so a filter never starves (a namespace with
    // fewer hot keys than another still gets its own hottest).
    const histogram = new Array<number>(18).fill(0);
    for (const [key, slot] of this.map) {
      if (matches && !matches(key)) continue;
      if (!this.isExpired(slot, now)) histogram[this.admittor.frequency(hashes[slot]!)]!++;
    }
    let threshold = histogram.length - 1;
    for (let seen = 0; threshold > 0; threshold--) {
      seen += histogram[threshold]!;
      if (seen >= n) break;
    }
    const result: HotKey[] = [];
    for (const [key, slot] of this.map) {
      if (this.isExpired(slot, now) || (matches && !matches(key))) continue;
      const frequency = this.admittor.frequency(hashes[slot]!);
      if (frequency >= threshold) result.push({ key, frequency });
    }
    result.sort((a, b) => b.frequency - a.frequency);
    result.length = Math.min(result.length, n);
    return result;
  }

  /** A snapshot of the counters. */
  stats(): CacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      puts: this.puts,
      evictions: { ...this.evictions },
      admissionRejections: this.admissionRejections,
      rejectedSets: this.rejectedSets,
      entries: this.map.size,
      bytes: this.weightedSize,
      windowPercent: this.segments.windowShare * 100,
    };
  }

  // ---------------------------------------------------------------- policy

  private isExpired(slot: number, now: number): boolean {
    const expiresAt = this.table.expiresAt[slot]!;
    return expiresAt !== NEVER && expiresAt <= now;
  }

  private isOverCapacity(): boolean {
    return this.map.size > this.maxEntries || this.segments.weight > this.maxBytes;
  }

  /** Moves window overflow to probation, then evicts from the main space until within bounds. */
  private evictEntries(): void {
    const candidate = this.segments.spillWindow();
    if (!this.isOverCapacity()) return;
    if (!this.filled) {
      this.filled = true;
      // Filled by bytes before entries: simulate the capacity in entries the cache really has.
      if (this.tuner !== undefined && this.map.size < this.maxEntries) {
        this.tuner = this.createTuner(this.map.size);
        this.ghostOn = false; // the new tuner starts without the ghost
      }
    }
    this.evictFromMain(candidate);
  }

  /**
   * The admission duel: the probation LRU (victim) against the entries that just left the
   * window (candidates, at probation's MRU end), both walking towards MRU; the less frequent
   * one is evicted until the cache fits. Falls back to protected, then window, when empty.
   */
  private evictFromMain(firstCandidate: number): void {
    const hashes = this.table.hashes;
    const { probation, protected: protectedList, window } = this.segments;
    let candidate = firstCandidate;
    let victimList = probation;
    let victim = victimList.first();
    while (this.isOverCapacity()) {
      if (victim === NONE) {
        if (candidate === NONE && victimList === probation) {
          victimList = protectedList;
          victim = victimList.first();
          continue;
        }
        if (candidate === NONE && victimList === protectedList) {
          victimList = window;
          victim = victimList.first();
          continue;
        }
        if (candidate === NONE) break;
        const next = probation.after(candidate);
        this.remove(candidate, Cause.Size);
        candidate = next;
        continue;
      }
      if (candidate === NONE) {
        const next = victimList.after(victim);
        this.remove(victim, Cause.Size);
        victim = next;
        continue;
      }
      if (candidate === victim) {
        // Only candidates are left in probation: evict the oldest of them.
        const next = probation.after(candidate);
        this.remove(candidate, Cause.Size);
        victim = next;
        candidate = next;
        continue;
      }
      if (
        this.alwaysAdmits?.(this.table.values[candidate] as V) ||
        this.admittor.admit(hashes[candidate]!, hashes[victim]!) ||
        (this.ghostOn && (this.ghost as Ghost).contains(hashes[candidate]!))
      ) {
        const next = victimList.after(victim);
        this.remove(victim, Cause.Size);
        victim = next;
        candidate = probation.after(candidate);
      } else {
        this.admissionRejections++;
        if (this.ghostOn) (this.ghost as Ghost).add(hashes[candidate]!);
        const next = probation.after(candidate);
        this.remove(candidate, Cause.Size);
        candidate = next;
      }
    }
  }

  private remove(slot: number, cause: RemovalCause): void {
    const table = this.table;
    const key = table.keys[slot]!;
    const value = table.values[slot] as V;
    this.segments.listOf(slot).remove(slot);
    this.wheel.deschedule(slot);
    this.map.delete(key);
    table.free(slot);
    this.evictions[cause]++;
    this.notify(key, value, cause);
  }

  private notify(key: string, value: V, cause: RemovalCause): void {
    if (this.onEvict !== undefined) this.onEvict(key, value, cause);
  }

  private setExpiry(slot: number, expiresAt: number): void {
    this.table.expiresAt[slot] = expiresAt;
    if (expiresAt === NEVER) this.wheel.deschedule(slot);
    else this.wheel.schedule(slot);
  }

  // ---------------------------------------------------------------- window tuning

  private createTuner(capacity: number): WindowTuner {
    const admittor = this.admittor;
    return new WindowTuner(capacity, (hash) => admittor.duelFrequency(hash), this.segments.windowShare);
  }

  /** Moves the window to the share the tuner chose, and turns the ghost on or off as it says. */
  private tune(share: number): void {
    this.segments.moveWindowTo(share);
    this.ghostOn = (this.tuner as WindowTuner).ghost;
    if (this.ghostOn && this.ghost === undefined) this.ghost = new Ghost(GHOST_SHARE * this.maxEntries);
  }

  /** Feeds the hill climber a request; at the end of a sample it moves the window. */
  private sample(hit: number): void {
    const move = (this.climber as HillClimber).record(hit);
    if (move > 0) this.segments.growWindow(move);
    else if (move < 0) this.segments.shrinkWindow(-move);
  }
}
