/**
 * Reference policies for the hit-ratio benchmark, written from their papers for this bench
 * only (never used by src/): Caffeine-style adaptive W-TinyLFU, S3-FIFO and SIEVE.
 *
 * They replay a {@link Trace} over its dense key ids, so every list is a pair of typed
 * arrays indexed by id (`prev`, `next`) plus a per-id tag saying which list holds it.
 */
import type { Trace } from "./trace-reader.js";

const NONE = -1;

/** Doubly linked lists over key ids; an id is in at most one list at a time. */
class IdLists {
  readonly list: Int8Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  /** Per list: oldest id (head) and newest id (tail). */
  readonly heads: Int32Array;
  readonly tails: Int32Array;
  readonly counts: Int32Array;

  constructor(ids: number, lists: number) {
    this.list = new Int8Array(ids).fill(NONE);
    this.prev = new Int32Array(ids);
    this.next = new Int32Array(ids);
    this.heads = new Int32Array(lists).fill(NONE);
    this.tails = new Int32Array(lists).fill(NONE);
    this.counts = new Int32Array(lists);
  }

  /** Appends at the newest end. */
  push(id: number, list: number): void {
    const tail = this.tails[list]!;
    this.list[id] = list;
    this.prev[id] = tail;
    this.next[id] = NONE;
    if (tail === NONE) this.heads[list] = id;
    else this.next[tail] = id;
    this.tails[list] = id;
    this.counts[list]!++;
  }

  /** Inserts at the oldest end. */
  unshift(id: number, list: number): void {
    const head = this.heads[list]!;
    this.list[id] = list;
    this.next[id] = head;
    this.prev[id] = NONE;
    if (head === NONE) this.tails[list] = id;
    else this.prev[head] = id;
    this.heads[list] = id;
    this.counts[list]!++;
  }

  remove(id: number): void {
    const list = this.list[id]!;
    const before = this.prev[id]!;
    const after = this.next[id]!;
    if (before === NONE) this.heads[list] = after;
    else this.next[before] = after;
    if (after === NONE) this.tails[list] = before;
    else this.prev[after] = before;
    this.list[id] = NONE;
    this.counts[list]!--;
  }

  /** The next newer id after this one in its list. */
  newer(id: number): number {
    return this.next[id]!;
  }
}

/**
 * Count-min sketch of 4-bit counters, 4 rows, halved every 10 × size increments: Caffeine's
 * production constants (Einziger, Friedman, Manes, "TinyLFU", ACM ToS 2017).
 */
class CountMin4 {
  private readonly table: Uint8Array;
  private readonly mask: number;
  private additions = 0;
  private readonly sampleSize: number;

  constructor(size: number) {
    // Caffeine's table: one 64-bit word of 16 counters per power-of-two entry, so 4 × that per row.
    let width = 64;
    while (width < 4 * size) width <<= 1;
    this.mask = width - 1;
    this.table = new Uint8Array(4 * width);
    this.sampleSize = 10 * Math.max(size, 1);
  }

  private index(id: number, row: number): number {
    let h = Math.imul(id + 0x9e3779b9 * (row + 1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return row * (this.mask + 1) + (h & this.mask);
  }

  increment(id: number): void {
    let added = false;
    for (let row = 0; row < 4; row++) {
      const i = this.index(id, row);
      if (this.table[i]! < 15) {
        this.table[i]!++;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) {
      for (let i = 0; i < this.table.length; i++) this.table[i]! >>= 1;
      this.additions >>>= 1;
    }
  }

  frequency(id: number): number {
    let min = 15;
    for (let row = 0; row < 4; row++) min = Math.min(min, this.table[this.index(id, row)]!);
    return min;
  }
}

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/**
 * Caffeine's adaptive W-TinyLFU: 1% LRU window, segmented LRU main (80% protected), TinyLFU
 * admission with Caffeine's random jitter for warm losers, and its "simple" hill climber
 * (first step −6.25% of size, step × 0.98 while the hit rate moves less than 5 points, a
 * full step again when it moves more, one sample per 10 × size requests once full).
 */
export function replayAdaptiveWTinyLfu(trace: Trace, size: number): number {
  const { ids } = trace;
  const lists = new IdLists(trace.keys.length, 3);
  const sketch = new CountMin4(size);
  let maxWindow = Math.max(1, Math.round(0.01 * size));
  let maxProtected = Math.floor(0.8 * (size - maxWindow));
  let random = 0x2545f491;
  const sampleSize = 10 * size;
  let stepSize = -0.0625 * size;
  let previousHitRate = 0;
  let sampleHits = 0;
  let sampleRequests = 0;
  let windowTarget = maxWindow; // fractional, as the climber moves by fractions of an entry
  let resident = 0;
  let hits = 0;

  const demoteProtected = (): void => {
    while (lists.counts[PROTECTED]! > maxProtected) {
      const id = lists.heads[PROTECTED]!;
      lists.remove(id);
      lists.push(id, PROBATION);
    }
  };
  const admit = (candidate: number, victim: number): boolean => {
    const candidateFrequency = sketch.frequency(candidate);
    if (candidateFrequency > sketch.frequency(victim)) return true;
    if (candidateFrequency < 6) return false;
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random & 127) === 0;
  };
  const evict = (): void => {
    while (lists.counts[WINDOW]! > maxWindow) {
      const candidate = lists.heads[WINDOW]!;
      lists.remove(candidate);
      lists.push(candidate, PROBATION);
      if (resident > size) {
        const victim = lists.heads[PROBATION]! === candidate ? lists.heads[PROTECTED]! : lists.heads[PROBATION]!;
        const evicted = admit(candidate, victim) ? victim : candidate;
        lists.remove(evicted);
        resident--;
      }
    }
    while (resident > size) {
      const victim = lists.heads[PROBATION] !== NONE ? lists.heads[PROBATION]! : lists.heads[PROTECTED]!;
      lists.remove(victim);
      resident--;
    }
  };
  const resize = (): void => {
    const next = Math.max(1, Math.min(size - 1, Math.round(windowTarget)));
    maxWindow = next;
    maxProtected = Math.floor(0.8 * (size - maxWindow));
    demoteProtected();
    // A larger window takes the probation's oldest entries; a smaller one hands its oldest over.
    while (lists.counts[WINDOW]! < maxWindow && lists.counts[PROBATION]! > 0 && resident >= size) {
      const id = lists.heads[PROBATION]!;
      lists.remove(id);
      lists.push(id, WINDOW);
    }
    while (lists.counts[WINDOW]! > maxWindow) {
      const id = lists.heads[WINDOW]!;
      lists.remove(id);
      lists.push(id, PROBATION);
    }
  };
  const climb = (): void => {
    const hitRate = sampleHits / sampleRequests;
    const change = hitRate - previousHitRate;
    const amount = change >= 0 ? stepSize : -stepSize;
    stepSize = Math.abs(change) >= 0.05 ? 0.0625 * size * (amount >= 0 ? 1 : -1) : 0.98 * amount;
    previousHitRate = hitRate;
    sampleHits = 0;
    sampleRequests = 0;
    windowTarget = Math.max(1, Math.min(size - 1, windowTarget + amount));
    resize();
  };

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const full = resident >= size;
    sketch.increment(id);
    const list = lists.list[id]!;
    if (list !== NONE) {
      hits++;
      if (full) sampleHits++;
      lists.remove(id);
      if (list === PROBATION) {
        lists.push(id, PROTECTED);
        demoteProtected();
      } else {
        lists.push(id, list);
      }
    } else {
      lists.push(id, WINDOW);
      resident++;
      evict();
    }
    if (full && ++sampleRequests >= sampleSize) climb();
  }
  return hits / ids.length;
}

const SMALL = 0;
const MAIN = 1;
const GHOST = 2;

/**
 * S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023), with
 * libCacheSim's defaults: a small FIFO of 10% of the size, a main FIFO, a ghost FIFO of keys
 * (90% of the size), a 2-bit frequency; a small-queue entry moves to main after 2 hits.
 */
export function replayS3Fifo(trace: Trace, size: number): number {
  const { ids } = trace;
  const lists = new IdLists(trace.keys.length, 3);
  const frequency = new Uint8Array(trace.keys.length);
  const smallMax = Math.max(1, Math.floor(0.1 * size));
  const mainMax = size - smallMax;
  const ghostMax = Math.max(1, Math.floor(0.9 * size));
  let hits = 0;

  const evictMain = (): void => {
    for (;;) {
      const id = lists.heads[MAIN]!;
      lists.remove(id);
      const count = frequency[id]!;
      if (count >= 1) {
        frequency[id] = Math.min(count, 3) - 1;
        lists.push(id, MAIN);
      } else {
        return;
      }
    }
  };
  const evictSmall = (): void => {
    while (lists.counts[SMALL]! > 0) {
      const id = lists.heads[SMALL]!;
      lists.remove(id);
      if (frequency[id]! >= 2) {
        frequency[id] = 0;
        lists.push(id, MAIN);
      } else {
        lists.push(id, GHOST);
        if (lists.counts[GHOST]! > ghostMax) lists.remove(lists.heads[GHOST]!);
        return;
      }
    }
  };

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const list = lists.list[id]!;
    if (list === SMALL || list === MAIN) {
      hits++;
      if (frequency[id]! < 255) frequency[id]!++;
      continue;
    }
    const ghostHit = list === GHOST;
    if (ghostHit) lists.remove(id);
    while (lists.counts[SMALL]! + lists.counts[MAIN]! >= size) {
      if (lists.counts[MAIN]! > mainMax || lists.counts[SMALL] === 0) evictMain();
      else evictSmall();
    }
    frequency[id] = 0;
    lists.push(id, ghostHit ? MAIN : SMALL);
  }
  return hits / ids.length;
}

/**
 * SIEVE (Zhang et al., "SIEVE is simpler than LRU", NSDI 2024): one FIFO with a visited bit
 * per entry; a hand walks from the oldest entry towards newer ones, clearing visited bits,
 * and evicts the first unvisited entry it finds.
 */
export function replaySieve(trace: Trace, size: number): number {
  const { ids } = trace;
  const lists = new IdLists(trace.keys.length, 1);
  const visited = new Uint8Array(trace.keys.length);
  let hand = NONE;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (lists.list[id] === 0) {
      hits++;
      visited[id] = 1;
      continue;
    }
    if (lists.counts[0]! >= size) {
      let victim = hand === NONE ? lists.heads[0]! : hand;
      while (visited[victim] === 1) {
        visited[victim] = 0;
        victim = lists.newer(victim);
        if (victim === NONE) victim = lists.heads[0]!;
      }
      hand = lists.newer(victim);
      lists.remove(victim);
    }
    visited[id] = 0;
    lists.push(id, 0);
  }
  return hits / ids.length;
}
