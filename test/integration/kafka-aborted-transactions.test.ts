// Two transactional producers interleave committed and aborted transactions in one partition
// (as every instance's write-behind producers do); a read-committed consumer must see exactly
// the committed records. kafkajs 2.2.4 alone lets some aborted ones through (about 3 in 117
// here); the service replaces its filter (src/events/kafkajs-aborted-filter.ts).
import "../../src/events/kafkajs-aborted-filter.js";
import { Kafka, logLevel } from "kafkajs";
import { expect, it } from "vitest";
import { requireEnv } from "../support/env.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS").split(",");

it("a read-committed consumer sees every committed record and no aborted one", async () => {
  const kafka = new Kafka({ clientId: "aborted-probe", brokers: BROKERS, logLevel: logLevel.NOTHING });
  const topic = `aborted-probe-${Date.now()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producers = [0, 1].map((i) =>
    kafka.producer({ transactionalId: `${topic}-${i}`, idempotent: true, maxInFlightRequests: 1 }),
  );
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, readUncommitted: false });
  try {
    for (const producer of producers) await producer.connect();
    const aborted = new Set<string>();
    let sent = 0;
    // About 30% aborted, from a fixed seed: runs of aborted transactions of both producers
    // overlap in the partition, which is where kafkajs's own filter went wrong.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let round = 0; round < 200; round++) {
      await Promise.all(
        producers.map(async (producer) => {
          const transaction = await producer.transaction();
          const id = `r${sent++}`;
          await transaction.send({ topic, messages: [{ key: "k", value: id }] });
          if (random() < 0.3) {
            aborted.add(id);
            await transaction.abort();
          } else {
            await transaction.commit();
          }
        }),
      );
    }
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) seen.push(String(message.value));
      },
    });
    const expected = sent - aborted.size;
    const deadline = Date.now() + 60_000;
    while (seen.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // anything aborted would have arrived too
    expect(seen.filter((id) => aborted.has(id))).toEqual([]);
    expect(seen).toHaveLength(expected);
  } finally {
    await consumer.disconnect().catch(() => {});
    for (const producer of producers) await producer.disconnect().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}, 120_000);
