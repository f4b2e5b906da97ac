// The outcome rules of the transactional publisher, on a scripted producer: UNAVAILABLE only
// when the transaction is not and will never be committed; DEADLINE_EXCEEDED when the commit
// was sent and no answer came; concurrent publications share transactions.
import type { Kafka } from "kafkajs";
import { describe, expect, it } from "vitest";
import { Status } from "../../../src/errors.js";
import { type TopicRecord, TransactionalPublisher } from "../../../src/events/transactions.js";

/** A promise settled from outside. */
function gate<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A fake kafkajs client whose transactions do what the test scripts, and say what happened. */
function scriptedKafka(script: { send?: () => Promise<void>; commit?: () => Promise<void> } = {}) {
  const log: string[] = [];
  const sent: number[] = [];
  let producers = 0;
  const kafka = {
    producer: () => {
      const id = ++producers;
      return {
        connect: async () => log.push(`connect ${id}`),
        disconnect: async () => log.push(`disconnect ${id}`),
        transaction: async () => {
          let sends = 0;
          return {
            sendBatch: async ({ topicMessages }: { topicMessages: { messages: unknown[] }[] }) => {
              sends++;
              sent.push(topicMessages.reduce((n, t) => n + t.messages.length, 0));
              log.push("send");
              await script.send?.();
            },
            commit: async () => {
              log.push("commit");
              await script.commit?.();
              log.push("committed");
            },
            // An empty transaction's abort is the fence a producer makes when it connects.
            abort: async () => log.push(sends > 0 ? "abort" : `fence ${id}`),
          };
        },
      };
    },
  };
  return { kafka: kafka as unknown as Kafka, log, sent };
}

const record = (key: string): TopicRecord[] => [{ topic: "t", key, value: new Uint8Array([1]) }];

describe("TransactionalPublisher", () => {
  it("resolves once committed; publications made while every lane is busy share the next transaction", async () => {
    const first = gate();
    let sends = 0;
    const { kafka, sent } = scriptedKafka({ send: () => (++sends === 1 ? first.promise : Promise.resolve()) });
    const publisher = new TransactionalPublisher({ kafka, transactionalId: "x", lanes: 1 });
    const one = publisher.publish(record("a"));
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [publisher.publish(record("b")), publisher.publish(record("c")), publisher.publish(record("d"))];
    first.resolve();
    await Promise.all([one, ...rest]);
    expect(sent).toEqual([1, 3]);
    expect(publisher.committed).toBe(2);
  });

  it("a send still out at the bound is UNAVAILABLE, and its transaction is aborted, never committed", async () => {
    const stalled = gate();
    const { kafka, log } = scriptedKafka({ send: () => stalled.promise });
    const publisher = new TransactionalPublisher({ kafka, transactionalId: "x", lanes: 1 });
    const error = await publisher.publish(record("a"), 50).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE });
    stalled.resolve(); // Kafka answers late
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log).toContain("abort");
    expect(log).not.toContain("commit");
  });

  it("a failed send is UNAVAILABLE, aborted, and the next transaction runs on a new producer (a new epoch)", async () => {
    let sends = 0;
    const { kafka, log } = scriptedKafka({
      send: () => (++sends === 1 ? Promise.reject(new Error("broker said no")) : Promise.resolve()),
    });
    const publisher = new TransactionalPublisher({ kafka, transactionalId: "x", lanes: 1 });
    const error = await publisher.publish(record("a")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE });
    expect(log).toContain("abort");
    expect(log).not.toContain("commit");
    // A produce of the failed send may still reach the broker late; under the same producer epoch
    // it could join the next transaction and be committed with it. A new producer fences it.
    await publisher.publish(record("b"));
    expect(log.indexOf("disconnect 1")).toBeGreaterThan(log.indexOf("abort"));
    expect(log.indexOf("connect 2")).toBeGreaterThan(log.indexOf("disconnect 1"));
  });

  it("a commit without an answer at the bound is DEADLINE_EXCEEDED (may or may not be applied), never UNAVAILABLE", async () => {
    const hanging = gate();
    const { kafka } = scriptedKafka({ commit: () => hanging.promise });
    const publisher = new TransactionalPublisher({ kafka, transactionalId: "x", lanes: 1 });
    const error = await publisher.publish(record("a"), 50).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    expect((error as Error).message).toContain("may or may not have been applied");
    hanging.resolve();
  });

  it("a failed commit is DEADLINE_EXCEEDED and the producer is replaced (the new one fences the old)", async () => {
    let commits = 0;
    const { kafka, log } = scriptedKafka({
      commit: () => (++commits === 1 ? Promise.reject(new Error("connection closed")) : Promise.resolve()),
    });
    const publisher = new TransactionalPublisher({ kafka, transactionalId: "x", lanes: 1 });
    const error = await publisher.publish(record("a")).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    await publisher.publish(record("b"));
    expect(log).toEqual([
      "connect 1",
      "fence 1",
      "send",
      "commit",
      "disconnect 1",
      "connect 2",
      "fence 2",
      "send",
      "commit",
      "committed",
    ]);
  });
});
