import { afterEach, describe, expect, it, vi } from "vitest";
import { AppliedOffsets, L1TrustTracker, type PartitionMark } from "../../../src/events/trust.js";

describe("AppliedOffsets", () => {
  it("covers marks once every partition reached them; empty partitions need nothing", () => {
    const applied = new AppliedOffsets();
    const marks: PartitionMark[] = [
      { partition: 0, high: 5n },
      { partition: 1, high: 3n },
      { partition: 2, high: 7n },
    ];
    const low = new Map([[2, 7n]]); // partition 2: everything below 7 was deleted
    expect(applied.covers("t", marks, low)).toBe(false);
    applied.advance("t", 0, 5n);
    applied.advance("t", 1, 2n);
    expect(applied.covers("t", marks, low)).toBe(false);
    applied.advance("t", 1, 3n);
    applied.advance("t", 1, 1n); // never backwards
    expect(applied.covers("t", marks, low)).toBe(true);
    expect(applied.covers("other", [{ partition: 0, high: 1n }])).toBe(false);
  });
});

describe("L1TrustTracker", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("trusts through the time of the last check the consumer covered, and not past the bound", async () => {
    vi.useFakeTimers();
    let now = 1_000_000;
    const applied = new AppliedOffsets();
    let high = 10n;
    const tracker = new L1TrustTracker({
      boundMs: 2_000,
      topics: ["inv"],
      applied,
      fetchMarks: async () => ({ marks: [{ partition: 0, high }], low: new Map() }),
      now: () => now,
    });
    await tracker.check();
    expect(tracker.trusted).toBe(false); // nothing applied yet
    applied.advance("inv", 0, 10n); // the consumer catches up: the pending check is covered
    expect(tracker.trusted).toBe(true);
    expect(tracker.trustedThrough).toBe(1_000_000);

    // Kafka stops answering: no check succeeds, trust ends at trustedThrough + B.
    now += 1_999;
    vi.advanceTimersByTime(1_999);
    expect(tracker.trusted).toBe(true);
    now += 2;
    vi.advanceTimersByTime(2);
    expect(tracker.trusted).toBe(false);

    // Back: a new check at T, covered only once the consumer applied what was published meanwhile.
    high = 12n;
    await tracker.check();
    expect(tracker.trusted).toBe(false);
    applied.advance("inv", 0, 12n);
    expect(tracker.trusted).toBe(true);
    expect(tracker.trustedThrough).toBe(now);
    tracker.stop();
  });
});
