/** A key with its estimated count, as the top-K answers it. */
export interface CountedKey {
  key: string;
  /** Estimated (decayed) count: never below the true decayed count, at most `error` above it. */
  count: number;
  /** Upper bound of the over-estimate, inherited from the slot the key took over. */
  error: number;
  /** Accesses since the last `endWindow()` that certainly were this key's (count − window start). */
  windowCount: number;
}

interface Slot {
  key: string;
  count: number;
  error: number;
  /** `count` when the current window began (or `error` for a key that arrived during it). */
  windowStart: number;
  /** Position in the heap. */
  index: number;
}

/*
 * Space-Saving (Metwally, Agrawal & El Abbadi, "Efficient Computation of Frequent and Top-k
 * Elements in Data Streams", ICDT 2005) over a min-heap.
 *
 * The structure holds at most `capacity` keys, each with a counter. A key already held gets
 * +1. A new key takes over the slot of the smallest counter and starts at that counter + 1,
 * remembering the inherited value as its `error`. So a counter over-estimates its key's count
 * by at most `error`, and any key whose true count exceeds (total / capacity) is held: the
 * heavy hitters can never be pushed out by a stream of one-off keys. Memory is O(capacity)
 * whatever the number of distinct keys, and an update is one Map lookup plus a heap sift,
 * O(log capacity).
 *
 * Recency. `endWindow(decay)` multiplies every counter (and error) by `decay`, so counts are
 * an exponentially decayed access rate and a key that was hot long ago sinks. The heap order
 * is unchanged by a uniform scale. It also snapshots each counter as the start of the next
 * window, so `windowCount` (count − windowStart) is a lower bound on the accesses the key
 * had in the window — what the anomaly detector needs, free of inherited error.
 */

/**
 * Bounded top-K of a stream of keys (Space-Saving), with per-window counts and decay.
 *
 *   const top = new TopK(128); top.add("a"); top.top(10);
 */
export class TopK {
  private readonly slots = new Map<string, Slot>();
  private readonly heap: Slot[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
  }

  /** Keys held now (at most `capacity`). */
  get size(): number {
    return this.heap.length;
  }

  /** Counts one access (or `weight`) of `key`. */
  add(key: string, weight = 1): void {
    const held = this.slots.get(key);
    if (held) {
      held.count += weight;
      this.siftDown(held.index);
      return;
    }
    if (this.heap.length < this.capacity) {
      const slot: Slot = { key, count: weight, error: 0, windowStart: 0, index: this.heap.length };
      this.heap.push(slot);
      this.slots.set(key, slot);
      this.siftUp(slot.index);
      return;
    }
    // Take over the smallest counter: the newcomer may have been seen up to `min` times before.
    const victim = this.heap[0] as Slot;
    this.slots.delete(victim.key);
    const min = victim.count;
    victim.key = key;
    victim.error = min;
    victim.windowStart = min;
    victim.count = min + weight;
    this.slots.set(key, victim);
    this.siftDown(0);
  }

  /** The estimated count of `key`, 0 when it is not held. */
  estimate(key: string): number {
    return this.slots.get(key)?.count ?? 0;
  }

  /** Accesses certainly `key`'s (decayed count − inherited error), 0 when it is not held. */
  guaranteed(key: string): number {
    const slot = this.slots.get(key);
    return slot ? slot.count - slot.error : 0;
  }

  /** The `n` keys with the largest counts, largest first. */
  top(n: number): CountedKey[] {
    const all = this.heap.map(view);
    all.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
    return all.slice(0, Math.max(0, n));
  }

  /** Every held key, in no particular order. */
  entries(): CountedKey[] {
    return this.heap.map(view);
  }

  /**
   * Closes the current window: every counter is multiplied by `decay` (0..1; 1 keeps counts)
   * and the next window starts from the decayed values.
   */
  endWindow(decay = 1): void {
    for (const slot of this.heap) {
      slot.count *= decay;
      slot.error *= decay;
      slot.windowStart = slot.count;
    }
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const slot = heap[index] as Slot;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Slot;
      if (parent.count <= slot.count) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = slot;
    slot.index = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const slot = heap[index] as Slot;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && (heap[right] as Slot).count < (heap[left] as Slot).count) child = right;
      const smaller = heap[child] as Slot;
      if (smaller.count >= slot.count) break;
      heap[index] = smaller;
      smaller.index = index;
      index = child;
    }
    heap[index] = slot;
    slot.index = index;
  }
}

function view(slot: Slot): CountedKey {
  return {
    key: slot.key,
    count: slot.count,
    error: slot.error,
    windowCount: Math.max(0, slot.count - slot.windowStart),
  };
}
