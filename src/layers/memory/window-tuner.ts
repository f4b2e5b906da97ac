/**
 * Chooses the W-TinyLFU window share by miniature simulation.
 *
 * A hill climber on the hit rate moves the window a few percent per sample of 10 × capacity
 * requests, so on a recency-skewed workload it spends most of a trace far from the window it
 * needs (sprite@1000 wants 99%, orm-busy@1000 80%, multi3@500 1%). Instead, a few small
 * W-TinyLFU caches, each with a fixed window share, replay a spatially sampled part of the
 * request stream (SHARDS: Waldspurger et al., "Cache Modeling and Optimization using
 * Miniature Simulations", USENIX ATC 2017 — keys whose hash falls under a threshold, rate
 * m / capacity, in caches of m entries). The sampled hit ratios track those of full-size
 * caches, so after each period the tuner reports the share of the best simulation and the
 * cache jumps there instead of walking — if that share's lead over the current one is more
 * than noise (a paired test on the requests where exactly one of the two hit) plus the cost
 * of the move, and only as far as the nearest share that is not significantly worse than the
 * best (`chooseShare`). The tuner starts on the cache's initial share and stays there on a tie.
 * It also looks part-way through each period (`EARLY_CHECKS` times), on the decayed histogram
 * plus the period so far, and moves at once if the lead is already strong (`EARLY_EVIDENCE_SIGMAS`
 * instead of `EVIDENCE_SIGMAS`, same move cost): a sequential test, so that a clear lead on a
 * short trace or after a phase change does not wait for the end of a period.
 * Three more simulations keep a ghost (`Ghost`: a duel loser that comes back while remembered
 * is admitted), at 1%, 15% and 50%: standing on one of them turns the real cache's ghost on.
 *
 * The simulations judge admission with the real cache's frequency sketch, on the popularity
 * its duel compares (a key's popularity does not change with sampling), so they cost only their small lists and index: at most
 * `MINI_ENTRIES` keys per share, whatever the capacity.
 */

import { Ghost } from "./ghost.js";

/** Window shares simulated, as fractions of capacity. */
export const SIMULATED_WINDOW_SHARES: readonly number[] = [0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.99];
/**
 * Shares also simulated with the ghost (a candidate that lost the duel recently is admitted
 * when it comes back): candidates 8, 9, 10.
 */
export const GHOST_WINDOW_SHARES: readonly number[] = [0.01, 0.15, 0.5];
/**
 * The ghost remembers up to this many rejected candidates (at least half as many), as a share
 * of capacity: 1 beat 0.5 on the tuning half (mean gap +0.49 against +0.47). Fixed on at 1% it
 * cost loops (cs@1000 −7.3, loop@1000 −17.8 at 1 × capacity): hence a choice of the simulations.
 */
export const GHOST_SHARE = 1;
/** Every simulated candidate: its window share and whether it keeps a ghost. */
export const CANDIDATES: readonly { share: number; ghost: boolean }[] = [
  ...SIMULATED_WINDOW_SHARES.map((share) => ({ share, ghost: false })),
  ...GHOST_WINDOW_SHARES.map((share) => ({ share, ghost: true })),
];
/** Largest simulated cache, in entries: caps the memory and the per-request work. */
const MINI_ENTRIES = 512;
/** Sampled requests per decision, as a multiple of the simulated capacity... */
const PERIOD_MULTIPLIER = 3;
/** ...but at least this many: fewer are too noisy to rank the shares (multi3@100 lost a point). */
const MIN_PERIOD = 1000;
/**
 * Scores carry this share of the previous periods' hits: about twenty periods of memory.
 * With the evidence test below, 0.95 beat 0.9 and 0.8 on the tuning half (mean gap +0.40 against
 * +0.37): a longer memory damps the back-and-forth on phase-changing traces.
 */
const HISTORY_DECAY = 0.95;
/**
 * Evidence a move needs: the best share must have hit more than the current one by this many
 * standard deviations of their paired difference (sampled requests where exactly one of the
 * two hit, decayed as the scores). Every move reshuffles the segments, so a lead that is noise
 * costs hits twice: on a phase-changing trace (multi3@500) one move on a 0.4% lead cost 3
 * points, and a first decision on the warm-up period's near tie (all shares within a few hits)
 * sent multi1@1000 to a 50% window for a period: 4.5 points below the climber.
 */
const EVIDENCE_SIGMAS = 1;
/**
 * ...plus this many sampled hits per entry of the simulated cache and per unit of share moved:
 * a long jump reshuffles more entries than a short one. With evidence alone, a first period's
 * 1% lead of the 99% share (a warm-up artefact: the sketch knows nothing yet) still moved.
 * Chosen on the tuning half with EVIDENCE_SIGMAS (1, 2 or 3 × 0, 0.05, 0.1, 0.2 or 0.3: the
 * mean gap moved by at most 0.05 point, except 0.3, which lost web07@1000 and @5000; 1 and 0.1
 * scored best).
 */
const MOVE_COST = 0.1;
/**
 * Checks of the evidence part-way through a period, at every `period / EARLY_CHECKS` sampled
 * requests, each with the stricter `EARLY_EVIDENCE_SIGMAS`: a period is 3 × the simulated
 * capacity, a large part of a short trace or of a phase (zigzag@1000: 98 sampled hits for the
 * 99% window against 5 for the 1% one well before the period's end, while the cache waited at
 * 1%). Chosen on the tuning half (4, 8, 16 or 32 checks × 2, 3 or 4 sigmas): only 8 checks at
 * 2 or 3 sigmas let no row fall by more than 0.3 point (the others cost scan@250, multi3@100 or
 * sprite@100 0.3 to 0.7), and 2 sigmas gained most (sum of the rows' changes +2.2 points against
 * +1.6).
 */
const EARLY_CHECKS = 8;
/** Evidence an early move needs, in standard deviations of the paired difference (see above). */
const EARLY_EVIDENCE_SIGMAS = 2;
/** Share of the main space given to the protected segment (as in the real cache). */
const PROTECTED_SHARE = 0.8;

const NONE = -1;
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** One simulated W-TinyLFU cache over key hashes: three LRU lists in typed arrays. */
class MiniCache {
  private readonly index = new Map<number, number>();
  private readonly keys: Int32Array;
  private readonly segments: Uint8Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Per list: its least recently used slot (head) and its count; slots link head → tail. */
  private readonly heads = [NONE, NONE, NONE];
  private readonly tails = [NONE, NONE, NONE];
  private readonly counts = [0, 0, 0];
  private used = 0;
  private readonly windowMax: number;
  private readonly protectedMax: number;
  /** Recently rejected candidates (the ghost candidates only). */
  private readonly ghost: Ghost | undefined;

  constructor(
    private readonly capacity: number,
    windowShare: number,
    private readonly frequency: (hash: number) => number,
    ghost = false,
  ) {
    this.ghost = ghost ? new Ghost(GHOST_SHARE * capacity) : undefined;
    this.keys = new Int32Array(capacity);
    this.segments = new Uint8Array(capacity);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.windowMax = Math.max(1, Math.round(windowShare * capacity));
    this.protectedMax = Math.floor(PROTECTED_SHARE * (capacity - this.windowMax));
  }

  /** Replays one request; returns 1 on a hit, else 0. */
  access(hash: number): number {
    const slot = this.index.get(hash);
    if (slot !== undefined) {
      this.onHit(slot);
      return 1;
    }
    this.onMiss(hash);
    return 0;
  }

  private onHit(slot: number): void {
    const segment = this.segments[slot]!;
    this.unlink(slot);
    if (segment === PROBATION) {
      this.link(slot, PROTECTED);
      if (this.counts[PROTECTED]! > this.protectedMax) this.moveOldest(PROTECTED, PROBATION);
    } else {
      this.link(slot, segment);
    }
  }

  private onMiss(hash: number): void {
    let slot: number;
    if (this.used < this.capacity) {
      slot = this.used++;
    } else if (this.counts[WINDOW]! >= this.windowMax) {
      // The window's oldest entry duels the main space's victim; the loser makes room.
      const candidate = this.heads[WINDOW]!;
      const victim = this.heads[PROBATION] !== NONE ? this.heads[PROBATION]! : this.heads[PROTECTED]!;
      if (
        victim === NONE ||
        (this.frequency(this.keys[candidate]!) <= this.frequency(this.keys[victim]!) &&
          !this.ghost?.contains(this.keys[candidate]!))
      ) {
        slot = candidate;
        if (victim !== NONE) this.ghost?.add(this.keys[candidate]!);
      } else {
        slot = victim;
        this.unlink(candidate);
        this.link(candidate, PROBATION);
      }
      this.evict(slot);
    } else {
      slot = this.heads[PROBATION] !== NONE ? this.heads[PROBATION]! : this.heads[PROTECTED]!;
      this.evict(slot);
    }
    this.keys[slot] = hash;
    this.index.set(hash, slot);
    this.link(slot, WINDOW);
    if (this.counts[WINDOW]! > this.windowMax) this.moveOldest(WINDOW, PROBATION);
  }

  private evict(slot: number): void {
    this.index.delete(this.keys[slot]!);
    this.unlink(slot);
  }

  private moveOldest(from: number, to: number): void {
    const slot = this.heads[from]!;
    this.unlink(slot);
    this.link(slot, to);
  }

  /** Appends the slot at the most recently used end of the list. */
  private link(slot: number, list: number): void {
    const tail = this.tails[list]!;
    this.segments[slot] = list;
    this.prev[slot] = tail;
    this.next[slot] = NONE;
    if (tail === NONE) this.heads[list] = slot;
    else this.next[tail] = slot;
    this.tails[list] = slot;
    this.counts[list]!++;
  }

  private unlink(slot: number): void {
    const list = this.segments[slot]!;
    const before = this.prev[slot]!;
    const after = this.next[slot]!;
    if (before === NONE) this.heads[list] = after;
    else this.next[before] = after;
    if (after === NONE) this.tails[list] = before;
    else this.prev[after] = before;
    this.counts[list]!--;
  }
}

/**
 * Replays sampled requests through one mini cache per window share and, every period,
 * names the share whose simulation hit most (decayed over periods) when its lead over the
 * current share is more than noise.
 *
 * Per sampled request the tuner keeps only which simulations hit, as a bit mask: a histogram
 * of masks (256 counters for 8 shares) gives every share's hits and, for any two shares, how
 * often exactly one of them hit — the variance of their paired difference.
 *
 * @example
 * const tuner = new WindowTuner(10_000, (hash) => admittor.duelFrequency(hash));
 * const share = tuner.record(hash); // a new window share, or -1 while undecided
 */
export class WindowTuner {
  private readonly minis: MiniCache[];
  /** Decayed count of sampled requests per mask of the simulations that hit. */
  private readonly masks: Float64Array;
  /** This period's count per mask. */
  private readonly periodMasks: Uint32Array;
  private readonly scratch = new ShareChoiceScratch();
  /** Each candidate's hits in the decayed histogram (as of the last period's end)... */
  private readonly decayedScores: Float64Array;
  /** ...and in this period so far. */
  private readonly periodHits: Float64Array;
  /** Scratch for an early check: the decayed histogram plus this period's. */
  private readonly combined: Float64Array;
  /** Requests whose mixed hash is below this are sampled. */
  private readonly threshold: number;
  private readonly period: number;
  /** Sampled requests between two early checks. */
  private readonly earlyStep: number;
  private sampled = 0;
  private chosen: number;
  /** Entries of each simulated cache. */
  private readonly entries: number;

  /**
   * @param initialShare the window share the cache starts with: the tuner moves away from
   *   the simulated share nearest to it only on evidence.
   */
  constructor(maxEntries: number, frequency: (hash: number) => number, initialShare = 0.01) {
    const entries = Math.max(1, Math.min(maxEntries, MINI_ENTRIES));
    this.entries = entries;
    this.threshold = Math.floor((entries / maxEntries) * 0x1_0000_0000);
    this.period = Math.max(MIN_PERIOD, PERIOD_MULTIPLIER * entries);
    this.minis = CANDIDATES.map(({ share, ghost }) => new MiniCache(entries, share, frequency, ghost));
    this.masks = new Float64Array(1 << CANDIDATES.length);
    this.periodMasks = new Uint32Array(1 << CANDIDATES.length);
    this.combined = new Float64Array(1 << CANDIDATES.length);
    this.earlyStep = Math.ceil(this.period / EARLY_CHECKS);
    this.decayedScores = new Float64Array(CANDIDATES.length);
    this.periodHits = new Float64Array(CANDIDATES.length);
    this.chosen = nearestShare(initialShare);
  }

  /** The simulated share the tuner currently stands on. */
  get share(): number {
    return CANDIDATES[this.chosen]!.share;
  }

  /** True if the candidate the tuner stands on admits a ghost's rejected candidates. */
  get ghost(): boolean {
    return CANDIDATES[this.chosen]!.ghost;
  }

  /** Records one request for the key with this hash; returns a new window share, else -1. */
  record(hash: number): number {
    if (Math.imul(hash ^ 0x5bd1e995, 0x9e3779b1) >>> 0 >= this.threshold) return -1;
    return this.replay(hash);
  }

  /** Replays a sampled request through the simulations (kept apart: `record` stays small). */
  private replay(hash: number): number {
    const { minis, periodHits } = this;
    let mask = 0;
    for (let i = 0; i < minis.length; i++) {
      const hit = minis[i]!.access(hash);
      mask |= hit << i;
      periodHits[i]! += hit;
    }
    this.periodMasks[mask]!++;
    if (++this.sampled < this.period) return this.sampled % this.earlyStep === 0 ? this.decideEarly() : -1;
    this.sampled = 0;
    return this.decide();
  }

  /** Part-way through a period: moves if the lead, this period included, is already strong. */
  private decideEarly(): number {
    // Nothing can move while the candidate the tuner stands on has hit most: a cheap test first.
    const { decayedScores, periodHits } = this;
    let best = 0;
    for (let i = 1; i < periodHits.length; i++) {
      if (decayedScores[i]! + periodHits[i]! > decayedScores[best]! + periodHits[best]!) best = i;
    }
    if (best === this.chosen) return -1;
    const { masks, periodMasks, combined } = this;
    for (let mask = 0; mask < masks.length; mask++) combined[mask] = masks[mask]! + periodMasks[mask]!;
    return this.moveTo(chooseShare(combined, this.chosen, this.entries, this.scratch, EARLY_EVIDENCE_SIGMAS));
  }

  /** At the end of a period: folds the period into the decayed histogram and decides. */
  private decide(): number {
    const { masks, periodMasks } = this;
    for (let mask = 0; mask < masks.length; mask++) {
      masks[mask] = HISTORY_DECAY * masks[mask]! + periodMasks[mask]!;
      periodMasks[mask] = 0;
    }
    const next = chooseShare(masks, this.chosen, this.entries, this.scratch);
    this.decayedScores.set(this.scratch.scores);
    this.periodHits.fill(0);
    return this.moveTo(next);
  }

  /** Stands on candidate `next`: returns its share if that is a move, else -1. */
  private moveTo(next: number): number {
    if (next === this.chosen) return -1;
    this.chosen = next;
    return CANDIDATES[next]!.share;
  }
}

/**
 * The share (an index into `SIMULATED_WINDOW_SHARES`) to stand on, from the decayed histogram
 * of hit masks (bit i set: simulation i hit): the current one unless another share's lead over
 * it is evidence (more than `sigmas` — `EVIDENCE_SIGMAS` unless told — standard deviations of
 * the paired difference plus the move cost). The target is not the best share itself but the one
 * nearest the current share that is not significantly worse than the best: when 15% and 85% both beat 1%, by a
 * margin between them that is noise, the cache goes to 15% — a short move, and the window the
 * workload has shown it needs. Leaves each share's score in `scratch.scores`.
 */
export function chooseShare(
  masks: ArrayLike<number>,
  current: number,
  entries: number,
  scratch: ShareChoiceScratch,
  sigmas = EVIDENCE_SIGMAS,
): number {
  // The masks that occur, in order: few of the 2^candidates, and every sum below runs over them.
  const { scores, occurringMasks, occurringCounts } = scratch;
  let occurring = 0;
  for (let mask = 0; mask < masks.length; mask++) {
    const count = masks[mask]!;
    if (count === 0) continue;
    occurringMasks[occurring] = mask;
    occurringCounts[occurring++] = count;
  }
  scratch.occurring = occurring;
  scores.fill(0);
  for (let k = 0; k < occurring; k++) {
    const mask = occurringMasks[k]!;
    const count = occurringCounts[k]!;
    for (let i = 0; i < scores.length; i++) if ((mask >>> i) & 1) scores[i]! += count;
  }
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  if (best === current) return current;
  // Switching the ghost on or off moves no entry: only the window share's change costs.
  const distance = (i: number) => Math.abs(CANDIDATES[i]!.share - CANDIDATES[current]!.share);
  let target = best;
  for (let i = 0; i < scores.length; i++) {
    if (i === current || distance(i) >= distance(target)) continue;
    if (scores[best]! - scores[i]! <= sigmas * Math.sqrt(disagreements(scratch, best, i))) target = i;
  }
  const lead = scores[target]! - scores[current]!;
  const moveCost = MOVE_COST * distance(target) * entries;
  if (lead <= sigmas * Math.sqrt(disagreements(scratch, target, current)) + moveCost) return current;
  return target;
}

/** The working space of {@link chooseShare}, one per tuner. */
export class ShareChoiceScratch {
  /** Per share, its (decayed) hits. */
  readonly scores = new Float64Array(CANDIDATES.length);
  /** The masks whose count is not 0 (the first `occurring`), and their counts. */
  readonly occurringMasks = new Int32Array(1 << CANDIDATES.length);
  readonly occurringCounts = new Float64Array(1 << CANDIDATES.length);
  occurring = 0;
}

/** Decayed sampled requests where exactly one of the two simulations hit. */
function disagreements(scratch: ShareChoiceScratch, a: number, b: number): number {
  const { occurringMasks, occurringCounts, occurring } = scratch;
  let count = 0;
  for (let k = 0; k < occurring; k++) {
    const mask = occurringMasks[k]!;
    if (((mask >>> a) ^ (mask >>> b)) & 1) count += occurringCounts[k]!;
  }
  return count;
}

/** Index of the simulated share nearest to this one. */
function nearestShare(share: number): number {
  let nearest = 0;
  for (let i = 1; i < SIMULATED_WINDOW_SHARES.length; i++) {
    if (Math.abs(SIMULATED_WINDOW_SHARES[i]! - share) < Math.abs(SIMULATED_WINDOW_SHARES[nearest]! - share))
      nearest = i;
  }
  return nearest;
}
