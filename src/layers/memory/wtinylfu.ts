import type { Clock } from "../../engine/clock.js";
import { systemClock } from "../../engine/clock.js";
import type { RemovalCause } from "../../engine/layer.js";
import type { Admittor } from "./admission.js";
import { AlwaysAdmit, TinyLfuAdmittor } from "./admission.js";
import { AccessList, EntryTable, NEVER, NONE, Segment } from "./entry-table.js";
import { hashKey } from "./hash.js";
import { TIMER_WHEEL_SENTINELS, TimerWheel } from "./timer-wheel.js";
import { WindowTuner } from "./window-tuner.js";

/**
 * Removal causes (the engine's `RemovalCause` union): `size` = evicted by the entries/bytes
 * bound, `expired` = `expiresAt` passed, `explicit` = `delete`/`clear`, `replaced` = a later
 * `set` replaced the value (or refused the new one).
 */
const Cause = {
  Size: "size",
  Expired: "expired",
  Explicit: "explicit",
  Replaced: "replaced",
} as const satisfies Record<string, RemovalCause>;

/** Listener called synchronously when an entry leaves the cache; it must not modify the cache. */
export type EvictionListener<V> = (key: string, value: V, cause: RemovalCause) => void;

/**
 * Bytes added to every entry's weight for its table slot, map entry, sketch and doorkeeper
 * share: `npm run bench:l1` measured 86–94 B at 1M entries (heap + array buffers), rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 96;

/** How a {@link WTinyLfuCache} adapts its window share. */
export type WindowTuning = "simulation" | "climbing" | "fixed";

/** Options of {@link WTinyLfuCache}. */
export interface WTinyLfuOptions<V> {
  /** Maximum number of entries; also sizes the frequency sketch. */
  maxEntries: number;
  /** Maximum total weight in bytes (default: unbounded, entries only). */
  maxBytes?: number;
  /** Largest accepted entry weight (default: the initial window, `windowPercent` of maxBytes). */
  maxEntryBytes?: number;
  /** Bytes added to each entry's weight besides value and key (default {@link ENTRY_OVERHEAD_BYTES}). */
  entryOverhead?: number;
  /** Time source for expiry (default `Date.now`). */
  clock?: Clock;
  /** Called when an entry leaves the cache. */
  onEvict?: EvictionListener<V>;
  /** TinyLFU admission duel (default true); false gives a windowed segmented LRU. */
  admission?: boolean;
  /** Values that skip the duel: always admitted, as if admission were off for them alone. */
  alwaysAdmits?: (value: V) => boolean;
  /** Doorkeeper Bloom filter in front of the sketch (default true). */
  doorkeeper?: boolean;
  /**
   * How the window share adapts (default "simulation"): "simulation" jumps to the share whose
   * miniature simulation hits most ({@link WindowTuner}); "climbing" walks by hill climbing on
   * the hit rate (Caffeine's simple climber); "fixed" keeps `windowPercent`.
   */
  windowTuning?: WindowTuning;
  /** Initial window size, percent of capacity (default 1). */
  windowPercent?: number;
  /** Seed of the admission jitter (default fixed). */
  seed?: number;
  /** Conservative update in the frequency sketch (default true). */
  conservativeUpdate?: boolean;
}

/** Per-call options of {@link WTinyLfuCache.set}. */
export interface SetOptions {
  /** Size of the value in bytes (key and overhead are added by the cache). */
  weight: number;
  /** Absolute expiry time in clock ms; omitted = never expires. */
  expiresAt?: number;
}

/** A point-in-time copy of the cache counters. */
export interface CacheStats {
  /** `get` calls that returned a value. */
  hits: number;
  /** `get` calls that returned undefined (absent or expired). */
  misses: number;
  /** `set` calls that stored their value. */
  puts: number;
  /** Entries that left the cache, by cause. */
  evictions: Record<RemovalCause, number>;
  /** Admission duels the candidate lost (it was evicted instead of the victim). */
  admissionRejections: number;
  /** `set` calls refused because the entry was heavier than `maxEntryBytes`/`maxBytes` or already expired. */
  rejectedSets: number;
  /** Entries resident now (including expired ones not yet cleaned up). */
  entries: number;
  /** Total weight resident now, in bytes. */
  bytes: number;
  /** Current window share of the capacity, in percent (moves with the window tuning). */
  windowPercent: number;
}

/** A key and its estimated recent frequency, as returned by {@link WTinyLfuCache.topKeys}. */
export interface HotKey {
  /** The key. */
  key: string;
  /** Estimated recent frequency (0..16). */
  frequency: number;
}

/** Share of the main space given to the protected segment. */
const PERCENT_MAIN_PROTECTED = 0.8;
/** Hill climber: first step, as a share of capacity. */
const STEP_PERCENT = 0.0625;
/**
 * Hill climber: each step is this share of the previous one while the hit rate is stable.
 * Caffeine uses 0.98; 0.95 settles faster and scored better on the shared traces (bench/).
 */
const STEP_DECAY = 0.95;
/** Hill climber: a hit-rate change at least this large restarts with a full step. */
const RESTART_THRESHOLD = 0.05;
/** Hill climber: requests per sample, as a multiple of maxEntries... */
const SAMPLE_MULTIPLIER = 10;
/** ...but at least this many, so that small caches do not climb on noise. */
const MIN_SAMPLE_REQUESTS = 6000;
/** Hill climber: largest window share; past the protected segment it takes from probation. */
const MAX_WINDOW_SHARE = 0.99;

/**
 * A synchronous, byte- and entry-bounded W-TinyLFU cache with per-entry expiry.
 *
 * New entries enter a small LRU window; entries leaving the window compete with the main
 * space's probation victim, and the less popular one (by TinyLFU's sketch) is evicted. The
 * main space is a segmented LRU (probation, and protected = 80%). The window share follows
 * miniature simulations of the workload at several shares (or a hill climber, by option).
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
  private readonly window: AccessList<V>;
  private readonly probation: AccessList<V>;
  private readonly protected: AccessList<V>;
  private readonly wheel: TimerWheel<V>;
  private readonly admittor: Admittor;
  private readonly alwaysAdmits: ((value: V) => boolean) | undefined;
  private readonly clock: Clock;
  private readonly onEvict: EvictionListener<V> | undefined;
  private readonly expireSlot = (slot: number): void => this.remove(slot, Cause.Expired);

  // Segment limits, derived from the window and protected shares of capacity.
  private windowShare: number;
  private protectedShare: number;
  /** Window + protected share: constant while the window is below it (probation keeps its size). */
  private readonly windowAndProtectedShare: number;
  private windowMaxEntries = 0;
  private windowMaxBytes = 0;
  private protectedMaxEntries = 0;
  private protectedMaxBytes = 0;

  private tuner: WindowTuner | undefined;
  // Hill climber state.
  private readonly climbing: boolean;
  private readonly sampleSize: number;
  /** True once the cache has been full: the climber ignores the warm-up. */
  private filled = false;
  private sampleHits = 0;
  private sampleRequests = 0;
  private previousHitRate = 0;
  private stepSize: number;

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
    this.window = new AccessList(this.table, 0);
    this.probation = new AccessList(this.table, 1);
    this.protected = new AccessList(this.table, 2);
    this.wheel = new TimerWheel<V>(this.table, 3, this.clock.now());
    this.windowShare = Math.min(1, Math.max(0, (options.windowPercent ?? 1) / 100));
    this.protectedShare = PERCENT_MAIN_PROTECTED * (1 - this.windowShare);
    this.windowAndProtectedShare = this.windowShare + this.protectedShare;
    this.updateLimits();
    this.maxEntryBytes = Math.min(
      this.maxBytes,
      options.maxEntryBytes ?? (Number.isFinite(this.maxBytes) ? Math.max(this.windowMaxBytes, 1) : NEVER),
    );
    const tuning = options.windowTuning ?? "simulation";
    this.climbing = tuning === "climbing";
    this.sampleSize = Math.max(MIN_SAMPLE_REQUESTS, SAMPLE_MULTIPLIER * this.maxEntries);
    // First move grows the window (Caffeine shrinks first): on frequency-skewed workloads the
    // climber reverses after one sample, on recency-skewed ones it gains a sample.
    this.stepSize = STEP_PERCENT;
    if (tuning === "simulation") this.tuner = this.createTuner(this.maxEntries);
  }

  /** Entries resident (including expired ones not yet cleaned up). */
  get size(): number {
    return this.map.size;
  }

  /** Total weight resident, in bytes. */
  get weightedSize(): number {
    return this.window.weight + this.probation.weight + this.protected.weight;
  }

  /** Returns the value and records the access, or undefined if absent or expired. */
  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) {
      this.misses++;
      if (this.climbing && this.filled) this.sample(0);
      return undefined;
    }
    const table = this.table;
    const expiresAt = table.expiresAt[slot]!;
    if (expiresAt !== NEVER && expiresAt <= this.clock.now()) {
      this.remove(slot, Cause.Expired);
      this.misses++;
      if (this.climbing && this.filled) this.sample(0);
      return undefined;
    }
    this.hits++;
    const hash = table.hashes[slot]!;
    this.admittor.recordResident(hash);
    this.onAccess(slot);
    const tuner = this.tuner;
    if (tuner !== undefined) {
      const share = tuner.record(hash);
      if (share >= 0) this.tune(share);
    } else if (this.climbing && this.filled) this.sample(1);
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
      const list = this.listOf(slot);
      list.weight += weight - table.weights[slot]!;
      table.weights[slot] = weight;
      table.values[slot] = value;
      this.setExpiry(slot, expiresAt);
      this.evictions.replaced++;
      this.notify(key, previous, Cause.Replaced);
      this.admittor.recordResident(table.hashes[slot]!);
      this.onAccess(slot);
    } else {
      const hash = hashKey(key);
      this.admittor.record(hash);
      slot = table.allocate(key, value, hash, weight, Segment.Window, expiresAt);
      this.map.set(key, slot);
      this.window.push(slot);
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
    this.window.reset();
    this.probation.reset();
    this.protected.reset();
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
      windowPercent: this.windowShare * 100,
    };
  }

  // ---------------------------------------------------------------- policy

  private isExpired(slot: number, now: number): boolean {
    const expiresAt = this.table.expiresAt[slot]!;
    return expiresAt !== NEVER && expiresAt <= now;
  }

  private onAccess(slot: number): void {
    const table = this.table;
    switch (table.segments[slot]) {
      case Segment.Window:
        this.window.moveToBack(slot);
        break;
      case Segment.Probation:
        if (table.weights[slot]! > this.protectedMaxBytes || this.protectedMaxEntries === 0) {
          this.probation.moveToBack(slot);
          break;
        }
        this.probation.remove(slot);
        table.segments[slot] = Segment.Protected;
        this.protected.push(slot);
        this.demoteFromProtected();
        break;
      case Segment.Protected:
        this.protected.moveToBack(slot);
        break;
    }
  }

  private demoteFromProtected(): void {
    const list = this.protected;
    while (list.count > this.protectedMaxEntries || list.weight > this.protectedMaxBytes) {
      const slot = list.first();
      if (slot === NONE) break;
      list.remove(slot);
      this.table.segments[slot] = Segment.Probation;
      this.probation.push(slot);
    }
  }

  private isOverCapacity(): boolean {
    return (
      this.map.size > this.maxEntries ||
      this.window.weight + this.probation.weight + this.protected.weight > this.maxBytes
    );
  }

  /** Moves window overflow to probation, then evicts from the main space until within bounds. */
  private evictEntries(): void {
    const window = this.window;
    let candidate = NONE;
    while (window.count > this.windowMaxEntries || window.weight > this.windowMaxBytes) {
      const slot = window.first();
      if (slot === NONE) break;
      window.remove(slot);
      this.table.segments[slot] = Segment.Probation;
      this.probation.push(slot);
      if (candidate === NONE) candidate = slot;
    }
    if (!this.isOverCapacity()) return;
    if (!this.filled) {
      this.filled = true;
      // Filled by bytes before entries: simulate the capacity in entries the cache really has.
      if (this.tuner !== undefined && this.map.size < this.maxEntries) this.tuner = this.createTuner(this.map.size);
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
    let candidate = firstCandidate;
    let victimList = this.probation;
    let victim = victimList.first();
    while (this.isOverCapacity()) {
      if (victim === NONE) {
        if (candidate === NONE && victimList === this.probation) {
          victimList = this.protected;
          victim = victimList.first();
          continue;
        }
        if (candidate === NONE && victimList === this.protected) {
          victimList = this.window;
          victim = victimList.first();
          continue;
        }
        if (candidate === NONE) break;
        const next = this.probation.after(candidate);
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
        const next = this.probation.after(candidate);
        this.remove(candidate, Cause.Size);
        victim = next;
        candidate = next;
        continue;
      }
      if (
        this.alwaysAdmits?.(this.table.values[candidate] as V) ||
        this.admittor.admit(hashes[candidate]!, hashes[victim]!)
      ) {
        const next = victimList.after(victim);
        this.remove(victim, Cause.Size);
        victim = next;
        candidate = this.probation.after(candidate);
      } else {
        this.admissionRejections++;
        const next = this.probation.after(candidate);
        this.remove(candidate, Cause.Size);
        candidate = next;
      }
    }
  }

  private remove(slot: number, cause: RemovalCause): void {
    const table = this.table;
    const key = table.keys[slot]!;
    const value = table.values[slot] as V;
    this.listOf(slot).remove(slot);
    this.wheel.deschedule(slot);
    this.map.delete(key);
    table.free(slot);
    this.evictions[cause]++;
    this.notify(key, value, cause);
  }

  private notify(key: string, value: V, cause: RemovalCause): void {
    if (this.onEvict !== undefined) this.onEvict(key, value, cause);
  }

  private listOf(slot: number): AccessList<V> {
    const segment = this.table.segments[slot];
    return segment === Segment.Window ? this.window : segment === Segment.Probation ? this.probation : this.protected;
  }

  private setExpiry(slot: number, expiresAt: number): void {
    this.table.expiresAt[slot] = expiresAt;
    if (expiresAt === NEVER) this.wheel.deschedule(slot);
    else this.wheel.schedule(slot);
  }

  // ---------------------------------------------------------------- hill climber

  private createTuner(capacity: number): WindowTuner {
    const admittor = this.admittor;
    return new WindowTuner(capacity, (hash) => admittor.frequency(hash));
  }

  /** Moves the window to the share the tuner chose. */
  private tune(share: number): void {
    const target = Math.min(share, MAX_WINDOW_SHARE);
    if (target > this.windowShare) this.increaseWindow(target - this.windowShare);
    else if (target < this.windowShare) this.decreaseWindow(this.windowShare - target);
  }

  private sample(hit: number): void {
    this.sampleHits += hit;
    if (++this.sampleRequests >= this.sampleSize) this.climb();
  }

  /*
   * Hill climbing on the hit rate (Caffeine's "simple" climber). Every sample (10 × maxEntries
   * requests, at least 6000, counted once the cache has filled) compares its hit rate with the
   * previous sample's: if it rose or held, the window moves again in the same direction, else
   * it reverses. The step starts at 6.25% of capacity, decays by 0.95 per sample and restarts
   * at 6.25% when the hit rate moves by 5 points (the workload changed). The first move grows.
   *
   * The window takes its growth from the protected segment, so probation keeps its size, and
   * then from probation itself, up to 99%: recency-skewed traces (sprite, orm-busy, zigzag)
   * want a near-LRU cache. Tuned on the shared traces (bench/hit-ratio.ts):
   * - the sample floor matters most for small caches: 10 × 100 entries = 1000 requests is too
   *   noisy to tell a step's effect from the workload's mood (multi3@100, loop@250 gained 1–3
   *   points with it).
   * - tried and rejected: accelerating the step while the hit rate keeps rising, or only until
   *   the first reversal (overshoots on loop and oltp); 3–5 × size samples (noise: zipf-0.9
   *   @1000 lost 3 points); decay 0.98.
   * Known limit: a hill climber starting at 1% needs tens of samples to reach a large window,
   * so short recency-skewed traces (zigzag, sprite@1000) stay below LRU. That is why the
   * default tuning is simulation ({@link WindowTuner}); the climber stays as an option and as
   * the hit-ratio benchmark's comparison.
   */
  private climb(): void {
    const hitRate = this.sampleHits / this.sampleRequests;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.stepSize : -this.stepSize;
    this.stepSize = Math.abs(change) >= RESTART_THRESHOLD ? STEP_PERCENT * (amount >= 0 ? 1 : -1) : STEP_DECAY * amount;
    this.previousHitRate = hitRate;
    this.sampleHits = 0;
    this.sampleRequests = 0;
    if (amount > 0) this.increaseWindow(amount);
    else if (amount < 0) this.decreaseWindow(-amount);
  }

  private increaseWindow(amount: number): void {
    const quota = Math.min(amount, MAX_WINDOW_SHARE - this.windowShare);
    if (quota <= 0) return;
    this.windowShare += quota;
    this.protectedShare = Math.max(0, this.windowAndProtectedShare - this.windowShare);
    this.updateLimits();
    this.demoteFromProtected();
    const window = this.window;
    const table = this.table;
    for (;;) {
      let slot = this.probation.first();
      if (slot === NONE) slot = this.protected.first();
      if (slot === NONE) break;
      if (window.count + 1 > this.windowMaxEntries || window.weight + table.weights[slot]! > this.windowMaxBytes) break;
      this.listOf(slot).remove(slot);
      table.segments[slot] = Segment.Window;
      window.push(slot);
    }
  }

  private decreaseWindow(amount: number): void {
    const quota = Math.min(amount, this.windowShare);
    if (quota <= 0) return;
    this.windowShare -= quota;
    this.protectedShare = Math.max(0, this.windowAndProtectedShare - this.windowShare);
    this.updateLimits();
    const window = this.window;
    while (window.count > this.windowMaxEntries || window.weight > this.windowMaxBytes) {
      const slot = window.first();
      if (slot === NONE) break;
      window.remove(slot);
      this.table.segments[slot] = Segment.Probation;
      this.probation.push(slot);
    }
  }

  private updateLimits(): void {
    // The window rounds up (at least one entry), the protected segment rounds down.
    this.windowMaxEntries = Math.max(1, Math.ceil(this.windowShare * this.maxEntries - 1e-9));
    this.protectedMaxEntries = Math.floor(this.protectedShare * this.maxEntries + 1e-9);
    const bytes = this.maxBytes;
    this.windowMaxBytes = Number.isFinite(bytes) ? Math.ceil(this.windowShare * bytes) : NEVER;
    this.protectedMaxBytes = Number.isFinite(bytes) ? Math.floor(this.protectedShare * bytes) : NEVER;
  }
}
