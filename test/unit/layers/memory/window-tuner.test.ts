import { describe, expect, it } from "vitest";
import { hashKey, TinyLfuAdmittor, WindowTuner, WTinyLfuCache } from "../../../../src/layers/memory/index.js";
import {
  chooseShare,
  ShareChoiceScratch,
  SIMULATED_WINDOW_SHARES,
} from "../../../../src/layers/memory/window-tuner.js";

/**
 * Recency-friendly: every key is requested twice, `distance` requests apart, then never again.
 * Only a window that holds `distance` requests' worth of new keys sees the second request.
 */
function* repeatsAfter(distance: number, requests: number): Generator<string> {
  for (let i = 0; i < requests; i++) {
    yield i % 2 === 0 ? `new:${i}` : `new:${i - 1 - distance + (distance % 2)}`;
  }
}

/** Frequency-skewed: half the requests go to 40 hot keys, the rest are one-off scan keys. */
function* hotAndScan(requests: number): Generator<string> {
  for (let i = 0; i < requests; i++) yield i % 2 === 0 ? `hot:${(i * 7) % 40}` : `scan:${i}`;
}

/** Feeds the stream to a tuner backed by a real TinyLFU sketch; returns the last share chosen. */
function lastShare(maxEntries: number, stream: Iterable<string>): number {
  const admittor = new TinyLfuAdmittor({ maximumSize: maxEntries });
  const tuner = new WindowTuner(maxEntries, (hash) => admittor.frequency(hash));
  let share = -1;
  for (const key of stream) {
    const hash = hashKey(key);
    admittor.record(hash);
    const chosen = tuner.record(hash);
    if (chosen >= 0) share = chosen;
  }
  return share;
}

function hitRatio(cache: WTinyLfuCache<number>, stream: Iterable<string>): number {
  let hits = 0;
  let requests = 0;
  for (const key of stream) {
    requests++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, 1, { weight: 1 });
  }
  return hits / requests;
}

describe("WindowTuner", () => {
  it("chooses a large window when requests come back after more than a small window holds", () => {
    expect(lastShare(200, repeatsAfter(150, 20_000))).toBeGreaterThanOrEqual(0.5);
  });

  it("chooses a small window when frequent keys compete with one-off scans", () => {
    expect(lastShare(200, hotAndScan(20_000))).toBeLessThanOrEqual(0.05);
  });

  it("decides from a sample of the keys when the cache is large", () => {
    // 20,000 entries: about one key in 40 reaches the simulations of 512 entries.
    expect(lastShare(20_000, repeatsAfter(15_000, 600_000))).toBeGreaterThanOrEqual(0.5);
    expect(lastShare(20_000, hotAndScan(600_000))).toBeLessThanOrEqual(0.05);
  });

  it("moves only at a check: part-way through a period on a strong lead, else at its end", () => {
    const admittor = new TinyLfuAdmittor({ maximumSize: 200 });
    const tuner = new WindowTuner(200, (hash) => admittor.frequency(hash));
    // 200 entries: every request is sampled, a period is 1,000 requests, checked every 125.
    // Requests come back after 150 others: a large window wins by far from the first returns.
    const moves: { request: number; share: number }[] = [];
    let request = 0;
    for (const key of repeatsAfter(150, 20_000)) {
      admittor.record(hashKey(key));
      const share = tuner.record(hashKey(key));
      request++;
      if (share >= 0) moves.push({ request, share });
    }
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.every(({ request }) => request % 125 === 0)).toBe(true);
    // The lead is evidence long before the first period ends: the tuner does not wait for it.
    expect(moves[0]!.request).toBeLessThan(1000);
    expect(moves.at(-1)!.share).toBeGreaterThanOrEqual(0.5);
  });

  it("stays on its share while no simulated share hits more than noise", () => {
    // Every request is a new key: every simulation misses everything, a tie in every period.
    const admittor = new TinyLfuAdmittor({ maximumSize: 100 });
    const tuner = new WindowTuner(100, (hash) => admittor.frequency(hash), 0.5);
    expect(tuner.share).toBe(0.5);
    const chosen = new Set<number>();
    for (let i = 0; i < 20_000; i++) chosen.add(tuner.record(hashKey(`new:${i}`)));
    expect([...chosen]).toEqual([-1]);
    expect(tuner.share).toBe(0.5);
  });

  it("starts from the simulated share nearest to the cache's initial window", () => {
    const admittor = new TinyLfuAdmittor({ maximumSize: 100 });
    expect(new WindowTuner(100, (hash) => admittor.frequency(hash)).share).toBe(0.01);
    expect(new WindowTuner(100, (hash) => admittor.frequency(hash), 0.2).share).toBe(0.15);
    expect(new WindowTuner(100, (hash) => admittor.frequency(hash), 0.95).share).toBe(0.99);
  });
});

/** A histogram of hit masks: `hits[i]` requests where shares i.. of `group` hit together. */
function masksOf(groups: { shares: number[]; requests: number }[]): Float64Array {
  const masks = new Float64Array(1 << SIMULATED_WINDOW_SHARES.length);
  for (const { shares, requests } of groups) masks[shares.reduce((mask, i) => mask | (1 << i), 0)]! += requests;
  return masks;
}

/**
 * Keys that come back: every other request is a one-off key, the others go to "warm" keys,
 * each requested three times, `gap` warm requests apart — beyond a small window, within the
 * cache, and too rare for the sketch to tell them from the one-off keys.
 */
function* comeBack(gap: number, requests: number): Generator<string> {
  for (let i = 0; i < requests; i++) {
    if (i % 2 === 0) {
      yield `once:${i}`;
      continue;
    }
    const slot = i >> 1;
    yield `warm:${Math.floor(slot / (gap * 3)) * gap + (slot % gap)}`;
  }
}

describe("WindowTuner ghost", () => {
  function tuned(maxEntries: number, stream: Iterable<string>): WindowTuner {
    const admittor = new TinyLfuAdmittor({ maximumSize: maxEntries });
    const tuner = new WindowTuner(maxEntries, (hash) => admittor.duelFrequency(hash));
    for (const key of stream) {
      const hash = hashKey(key);
      admittor.record(hash);
      tuner.record(hash);
    }
    return tuner;
  }

  it("turns the ghost on when duel losers come back while the ghost remembers them", () => {
    expect(tuned(200, comeBack(150, 60_000)).ghost).toBe(true);
  });

  it("leaves it off on a loop longer than the cache and on frequent keys among one-off keys", () => {
    function* loop(requests: number): Generator<string> {
      for (let i = 0; i < requests; i++) yield `loop:${i % 300}`;
    }
    expect(tuned(200, loop(60_000)).ghost).toBe(false);
    expect(tuned(200, hotAndScan(60_000)).ghost).toBe(false);
  });
});

describe("chooseShare", () => {
  const scratch = new ShareChoiceScratch();
  const all = [0, 1, 2, 3, 4, 5, 6, 7];

  it("moves to the nearest share that is not significantly worse than the best", () => {
    // 15% and up catch 400 requests 1% and 5% miss; 99% alone catches 35 more, 15–85% alone 30
    // more: 99% leads by 5 on 65 disagreements (one standard deviation ≈ 8), noise.
    const masks = masksOf([
      { shares: all, requests: 1000 },
      { shares: [2, 3, 4, 5, 6, 7], requests: 400 },
      { shares: [7], requests: 35 },
      { shares: [2, 3, 4, 5, 6], requests: 30 },
    ]);
    expect(SIMULATED_WINDOW_SHARES[chooseShare(masks, 0, 512, scratch)]).toBe(0.15);
  });

  it("moves to the best share when its lead over the nearer ones is evidence", () => {
    const masks = masksOf([
      { shares: all, requests: 1000 },
      { shares: [2, 3, 4, 5, 6, 7], requests: 400 },
      { shares: [7], requests: 300 },
    ]);
    expect(SIMULATED_WINDOW_SHARES[chooseShare(masks, 0, 512, scratch)]).toBe(0.99);
  });

  it("needs more standard deviations of lead when told (the early checks ask for 2)", () => {
    const masks = masksOf([
      { shares: all, requests: 1000 },
      { shares: [7], requests: 18 },
      { shares: [0], requests: 8 },
    ]);
    // Lead 10, one standard deviation √26 ≈ 5.1, the move's cost 0.1 × 0.98 × 16 ≈ 1.6.
    expect(chooseShare(masks, 0, 16, scratch)).toBe(7);
    expect(chooseShare(masks, 0, 16, scratch, 2)).toBe(0);
  });

  it("stays when the best share's lead is within noise and the move's cost", () => {
    const masks = masksOf([
      { shares: all, requests: 1000 },
      { shares: [7], requests: 30 },
      { shares: [0], requests: 10 },
    ]);
    // Lead 20, one standard deviation √40 ≈ 6.3, the move's cost 0.1 × 0.98 × 512 ≈ 50.
    expect(chooseShare(masks, 0, 512, scratch)).toBe(0);
    // With a 16-entry simulation the move costs 1.6 hits: the lead is evidence.
    expect(chooseShare(masks, 0, 16, scratch)).toBe(7);
  });
});

describe("WTinyLfuCache window tuning by simulation", () => {
  it("grows the window on a recency-friendly load and beats the fixed 1% window", () => {
    const tuned = new WTinyLfuCache<number>({ maxEntries: 200 });
    const fixed = new WTinyLfuCache<number>({ maxEntries: 200, windowTuning: "fixed" });
    const tunedRatio = hitRatio(tuned, repeatsAfter(150, 40_000));
    const fixedRatio = hitRatio(fixed, repeatsAfter(150, 40_000));
    expect(tuned.stats().windowPercent).toBeGreaterThanOrEqual(50);
    expect(tuned.stats().windowPercent).toBeLessThanOrEqual(99);
    expect(tunedRatio).toBeGreaterThan(fixedRatio + 0.1);
  });

  it("keeps the window small when frequency matters, as well as the fixed 1% window", () => {
    const tuned = new WTinyLfuCache<number>({ maxEntries: 200 });
    const fixed = new WTinyLfuCache<number>({ maxEntries: 200, windowTuning: "fixed" });
    const tunedRatio = hitRatio(tuned, hotAndScan(40_000));
    const fixedRatio = hitRatio(fixed, hotAndScan(40_000));
    expect(tuned.stats().windowPercent).toBeLessThanOrEqual(5);
    expect(tunedRatio).toBeGreaterThanOrEqual(fixedRatio - 0.01);
  });

  it("follows a phase change within a period: a recency phase after a frequency phase", () => {
    const cache = new WTinyLfuCache<number>({ maxEntries: 200 });
    hitRatio(cache, hotAndScan(20_000));
    expect(cache.stats().windowPercent).toBeLessThanOrEqual(5);
    // Keys now come back after 150 others: only a large window sees them. Deciding only at the
    // end of each period, the cache hit 21% of these 2,000 requests; checking part-way, 40%.
    const ratio = hitRatio(cache, repeatsAfter(150, 2000));
    expect(cache.stats().windowPercent).toBeGreaterThanOrEqual(50);
    expect(ratio).toBeGreaterThan(0.35);
  });

  it("simulates the capacity the byte bound leaves, not maxEntries", () => {
    // 100,000 entries allowed, but the bytes fit 200 keys of 12 characters (24 bytes each).
    const cache = new WTinyLfuCache<number>({ maxEntries: 100_000, maxBytes: 200 * 24, entryOverhead: 0 });
    let hits = 0;
    for (const key of repeatsAfter(150, 40_000)) {
      const padded = key.padEnd(12, ".");
      if (cache.get(padded) !== undefined) hits++;
      else cache.set(padded, 1, { weight: 0 });
    }
    expect(cache.size).toBe(200);
    expect(cache.stats().windowPercent).toBeGreaterThanOrEqual(50);
    expect(hits / 40_000).toBeGreaterThan(0.3);
  });
});
