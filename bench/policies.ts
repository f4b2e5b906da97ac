/** Trace replay for the hit-ratio benchmark: our cache, lru-cache, and Bélády's OPT. */
import { LRUCache } from "lru-cache";
import type { WTinyLfuOptions } from "../src/layers/memory/index.js";
import { WTinyLfuCache } from "../src/layers/memory/index.js";
import type { Trace } from "./trace-reader.js";

/** Policies the benchmark knows: ours, the references (bench/reference-policies.ts) and OPT. */
export type PolicyName = "mlcache" | "lru" | "adaptive" | "s3fifo" | "sieve" | "opt";

/** Replays the trace through our W-TinyLFU (weight 1 per entry, maxEntries = size). */
export function replayMlcache(trace: Trace, size: number, options: Partial<WTinyLfuOptions<number>> = {}): number {
  const cache = new WTinyLfuCache<number>({ ...options, maxEntries: size });
  const { ids, keys } = trace;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const key = keys[ids[i]!]!;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, 1, { weight: 1 });
  }
  return hits / ids.length;
}

/** Replays the trace through the `lru-cache` package (max = size). */
export function replayLru(trace: Trace, size: number): number {
  const cache = new LRUCache<string, number>({ max: size });
  const { ids, keys } = trace;
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const key = keys[ids[i]!]!;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, 1);
  }
  return hits / ids.length;
}

/** For each request, the index of the next request for the same key (or `never`). */
export function nextUses(trace: Trace): Int32Array {
  const { ids } = trace;
  const never = 0x7fffffff;
  const next = new Int32Array(ids.length);
  const last = new Int32Array(trace.keys.length).fill(never);
  for (let i = ids.length - 1; i >= 0; i--) {
    const id = ids[i]!;
    next[i] = last[id]!;
    last[id] = i;
  }
  return next;
}

/**
 * Bélády's OPT with bypass: on a miss the new key is admitted only if it is used again
 * sooner than the resident key used farthest in the future, which is then evicted. The
 * resident set is a max-heap on next use with lazy deletion (stale heap items are skipped).
 */
export function replayOpt(trace: Trace, size: number, next: Int32Array = nextUses(trace)): number {
  const never = 0x7fffffff;
  const { ids } = trace;
  const residentNext = new Int32Array(trace.keys.length).fill(-1); // -1 = not resident
  let resident = 0;
  // Max-heap of (nextUse, id); an item is live iff residentNext[id] === nextUse.
  let heapNext = new Int32Array(1024);
  let heapId = new Int32Array(1024);
  let heapSize = 0;
  const push = (nextUse: number, id: number): void => {
    if (heapSize === heapNext.length) {
      const grownNext = new Int32Array(heapSize * 2);
      grownNext.set(heapNext);
      heapNext = grownNext;
      const grownId = new Int32Array(heapSize * 2);
      grownId.set(heapId);
      heapId = grownId;
    }
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapNext[parent]! >= nextUse) break;
      heapNext[i] = heapNext[parent]!;
      heapId[i] = heapId[parent]!;
      i = parent;
    }
    heapNext[i] = nextUse;
    heapId[i] = id;
  };
  const pop = (): void => {
    const lastNext = heapNext[--heapSize]!;
    const lastId = heapId[heapSize]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && heapNext[child + 1]! > heapNext[child]!) child++;
      if (heapNext[child]! <= lastNext) break;
      heapNext[i] = heapNext[child]!;
      heapId[i] = heapId[child]!;
      i = child;
    }
    heapNext[i] = lastNext;
    heapId[i] = lastId;
  };
  const compact = (): void => {
    // Rebuild from live items when stale ones dominate, to bound memory and time.
    const liveNext: number[] = [];
    const liveId: number[] = [];
    for (let i = 0; i < heapSize; i++) {
      if (residentNext[heapId[i]!] === heapNext[i]) {
        liveNext.push(heapNext[i]!);
        liveId.push(heapId[i]!);
      }
    }
    heapSize = 0;
    for (let i = 0; i < liveNext.length; i++) push(liveNext[i]!, liveId[i]!);
  };
  let hits = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const nextUse = next[i]!;
    if (residentNext[id]! >= 0) {
      hits++;
      residentNext[id] = nextUse;
      push(nextUse, id);
    } else if (nextUse !== never) {
      if (resident < size) {
        resident++;
      } else {
        while (residentNext[heapId[0]!] !== heapNext[0]) pop();
        if (heapNext[0]! <= nextUse) continue; // bypass: the newcomer is needed last
        residentNext[heapId[0]!] = -1;
        pop();
      }
      residentNext[id] = nextUse;
      push(nextUse, id);
    }
    if (heapSize > 4 * size + 1024) compact();
  }
  return hits / ids.length;
}
