import type { EachBatchPayload } from "kafkajs";
import { describe, expect, it } from "vitest";
import { TopicFollower } from "../../../src/events/topic-follower.js";
import { AppliedOffsets } from "../../../src/events/trust.js";

/** A fetched batch of `offsets` on `partition`, as kafkajs hands it to eachBatch. */
function batch(partition: number, offsets: number[], highWatermark: number, lastOffset = offsets.at(-1) ?? 0) {
  const payload = {
    batch: {
      topic: "t",
      partition,
      highWatermark: String(highWatermark),
      messages: offsets.map((offset) => ({ offset: String(offset), value: Buffer.from("x") })),
      lastOffset: () => String(lastOffset),
    },
    resolveOffset: () => {},
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
  };
  return payload as unknown as EachBatchPayload;
}

describe("TopicFollower lag", () => {
  it("is what each partition's last fetch left between the applied records and its high-water mark", async () => {
    const applied = new AppliedOffsets();
    const seen: string[] = [];
    const follower = new TopicFollower("t", applied, (value) => seen.push(value.toString()));
    expect(follower.lag).toBe(0);
    await follower.eachBatch(batch(0, [0, 1, 2], 10)); // 3..9 still to come
    expect(follower.lag).toBe(7);
    await follower.eachBatch(batch(1, [4], 6)); // 5 still to come
    expect(follower.lag).toBe(8);
    await follower.eachBatch(batch(0, [3, 4, 5, 6, 7, 8, 9], 10));
    expect(follower.lag).toBe(1);
    // A commit marker past the last record: the batch ends at the high-water mark, nothing behind.
    await follower.eachBatch(batch(1, [5], 7, 6));
    expect(follower.lag).toBe(0);
    expect(seen).toHaveLength(12);
    await follower.stop();
    expect(follower.lag).toBe(0);
  });
});
