// The write queue of an unreachable Redis: what an invalidation takes out of it, and the
// tombstone a queued deletion keeps for its replay.
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../../src/engine/entry.js";
import { WriteQueue } from "../../../../src/layers/redis/write-queue.js";

function entry(createdAt: number, tags: string[] = []): Entry {
  return {
    value: new Uint8Array([1]),
    createdAt,
    freshUntil: createdAt + 1000,
    expiresAt: createdAt + 1000,
    staleUntil: createdAt + 1000,
    version: 1n,
    tags,
    flags: 0,
    loadMs: 0,
  };
}

const queuedKeys = (queue: WriteQueue) => queue.drain().sets.map((s) => `${s.namespace}/${s.key}`);

describe("WriteQueue.forget", () => {
  it("drops the queued writes an invalidation removes: by key, tag or prefix, created at or before it, in its namespace", () => {
    const queue = new WriteQueue(100);
    queue.set("n", "k", entry(100));
    queue.set("n", "tagged", entry(100, ["t"]));
    queue.set("n", "p:1", entry(100));
    queue.set("n", "later", entry(300));
    queue.set("other", "k", entry(100));
    queue.set("n", "untouched", entry(100, ["u"]));
    expect(queue.forget("n", { keys: ["k", "later"], tags: ["t"], prefix: "p:", at: 200 })).toBe(3);
    expect(queuedKeys(queue).sort()).toEqual(["n/later", "n/untouched", "other/k"]);
  });

  it("leaves values created after the invalidation alone", () => {
    const queue = new WriteQueue(100);
    queue.set("n", "k", entry(201));
    expect(queue.forget("n", { keys: ["k"], tags: [], at: 200 })).toBe(0);
    expect(queuedKeys(queue)).toEqual(["n/k"]);
  });
});

describe("a queued deletion", () => {
  it("keeps its tombstone for the replay, also when put back after a failed replay", () => {
    const queue = new WriteQueue(100);
    queue.delete("n", "k", { at: 123, keepMs: 10_000 });
    const drained = queue.drain();
    expect(drained.deletes).toEqual([{ namespace: "n", key: "k", tombstone: { at: 123, keepMs: 10_000 } }]);
    queue.restore(drained);
    expect(queue.drain().deletes[0]?.tombstone).toEqual({ at: 123, keepMs: 10_000 });
  });
});
