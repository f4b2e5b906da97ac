import type { Consumer, EachBatchPayload } from "kafkajs";
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

/** Enough of a kafkajs consumer for `follow`: no events, nothing to disconnect. */
const quietConsumer = {
  events: { END_BATCH_PROCESS: "consumer.end_batch_process" },
  on: () => () => {},
  disconnect: async () => {},
} as unknown as Consumer;

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("TopicFollower catching up", () => {
  const marks = (high: number) => ({ marks: [{ partition: 0, high: BigInt(high) }], low: new Map([[0, 0n]]) });

  it("also applies what was published while it read its backlog before it counts as caught up", async () => {
    const applied = new AppliedOffsets();
    const follower = new TopicFollower("t", applied, () => {});
    let caughtUp = false;
    void follower.caughtUpOnce().then(() => {
      caughtUp = true;
    });
    // Three records when following began; two more were published while they were read.
    follower.follow(quietConsumer, marks(3), async () => marks(5));
    await follower.eachBatch(batch(0, [0, 1, 2], 5));
    await settled();
    expect(caughtUp).toBe(false);
    expect(follower.ready).toBe(false);
    await follower.eachBatch(batch(0, [3, 4], 5));
    await settled();
    expect(caughtUp).toBe(true);
    await follower.stop();
  });

  it("counts covering the start as caught up when the marks cannot be fetched again", async () => {
    const applied = new AppliedOffsets();
    const follower = new TopicFollower("t", applied, () => {});
    follower.follow(quietConsumer, marks(3), async () => {
      throw new Error("kafka went away");
    });
    await follower.eachBatch(batch(0, [0, 1, 2], 3));
    await settled();
    expect(follower.ready).toBe(true);
    await follower.stop();
  });
});
