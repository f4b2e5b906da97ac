// Proves the Kafka wiring of the test services (scripts/services.mjs): kafkajs can do everything
// the events/ module relies on (admin, idempotent acks=-1 producer, consumer groups, committed
// offsets) against the real broker, and a non-JS client (Debian's kcat, librdkafka) reads the
// same bytes back.
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { type Admin, type Consumer, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireEnv } from "../support/env.js";

/** Resolves with `promise`, or rejects after `ms`: every wait in this file is bounded. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000}s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A key and its raw value, as produced and as read back. */
interface Message {
  key: string;
  value: Buffer;
}

/**
 * Parses kcat output written with the format `%K:%k %S:%s\n`: length-prefixed key and value,
 * so values may hold any bytes, newlines and spaces included.
 */
function parseKcat(out: Buffer): Message[] {
  const records: Message[] = [];
  let at = 0;
  const readLength = (): number => {
    const colon = out.indexOf(":", at);
    if (colon < 0) throw new Error(`kcat output: no length at byte ${at}`);
    const n = Number(out.subarray(at, colon).toString("latin1"));
    if (!Number.isInteger(n) || n < 0) throw new Error(`kcat output: bad length at byte ${at}`);
    at = colon + 1;
    return n;
  };
  const expectByte = (ch: string): void => {
    if (out[at] !== ch.charCodeAt(0)) throw new Error(`kcat output: expected ${JSON.stringify(ch)} at byte ${at}`);
    at++;
  };
  while (at < out.length) {
    const keyLength = readLength();
    const key = out.subarray(at, at + keyLength).toString("utf8");
    at += keyLength;
    expectByte(" ");
    const valueLength = readLength();
    const value = Buffer.from(out.subarray(at, at + valueLength));
    at += valueLength;
    expectByte("\n");
    records.push({ key, value });
  }
  return records;
}

/** Same keys in the same order, and byte-identical values. */
function expectSameValues(actual: Message[], expected: Message[]): void {
  expect(actual.map((m) => m.key)).toEqual(expected.map((m) => m.key));
  for (const [i, m] of actual.entries()) {
    expect(Buffer.compare(m.value, expected[i]?.value ?? Buffer.alloc(0)), `value of ${m.key}`).toBe(0);
  }
}

/** Reads a whole topic from the beginning with kcat (a plain consumer, no group) and exits at its end. */
function kcatReadAll(broker: string, topic: string): Promise<Message[]> {
  const args = ["-b", broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%K:%k %S:%s\n"];
  return new Promise((resolve, reject) => {
    // `timeout` bounds the child; `encoding: buffer` keeps the binary values intact.
    execFile("kcat", args, { encoding: "buffer", timeout: 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kcat ${args.join(" ")} failed: ${err.message}\n${stderr.toString()}`));
      else {
        try {
          resolve(parseKcat(stdout));
        } catch (parseErr) {
          reject(parseErr);
        }
      }
    });
  });
}

// Read at load time: without the services the whole file fails loudly (tests are never skipped).
const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS").split(",");

describe("Kafka broker", () => {
  const broker = BROKERS[0] as string;
  const topic = `mlcache-it-${randomUUID()}`;
  const groupId = `${topic}-group`;
  // Keys and binary values with NUL, '\n', ' ' and 0xff: bytes that neither UTF-8 nor kcat's
  // line-based output would survive without length framing.
  const sent: Message[] = Array.from({ length: 5 }, (_, i) => ({
    key: `key-${i}`,
    value: Buffer.concat([Buffer.from([i, 0x00, 0x0a, 0x20, 0xff]), randomBytes(32)]),
  }));

  let kafka: Kafka;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    kafka = new Kafka({
      clientId: "mlcache-it",
      brokers: BROKERS,
      connectionTimeout: 5_000,
      // kafkajs logs retriable errors (e.g. "coordinator is loading" while a fresh broker
      // creates __consumer_offsets) at ERROR and then retries; the assertions report real failures.
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    // Each step on its own: one failing disconnect must not leak the other clients.
    await consumer?.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    if (admin) {
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  });

  it("creates a topic through the admin API", async () => {
    const a = admin as Admin;
    expect(
      await a.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true }),
    ).toBe(true);
    expect(await a.listTopics()).toContain(topic);
  });

  it("produces with an idempotent producer and acks=-1", async () => {
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1, // what kafkajs requires for ordering with idempotence
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const results = await producer.send({
      topic,
      acks: -1,
      messages: sent.map((r) => ({ key: r.key, value: r.value })),
    });
    expect(results).toHaveLength(1);
    expect(results[0]?.errorCode).toBe(0);
    expect(results[0]?.baseOffset).toBe("0");
  });

  it("consumes them back in a consumer group and commits offsets", async () => {
    // Short fetch waits: kafkajs heartbeats between fetches, so idle long-polls delay it.
    consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    const received: Message[] = [];
    const c = consumer;
    // kafkajs heartbeats from its fetch loop once heartbeatInterval has passed; seeing one proves
    // the broker still accepts the classic group protocol's Heartbeat, not just Join/Sync.
    const heartbeat = new Promise<void>((resolve) => {
      const off = c.on(c.events.HEARTBEAT, () => {
        off();
        resolve();
      });
    });
    const allReceived = new Promise<void>((resolve, reject) => {
      c.run({
        autoCommit: false, // commit explicitly: that is what the write-behind sink does
        eachMessage: async ({ partition, message }) => {
          try {
            received.push({ key: message.key?.toString("utf8") ?? "", value: message.value ?? Buffer.alloc(0) });
            await c.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            if (received.length === sent.length) resolve();
          } catch (err) {
            reject(err);
          }
        },
      }).catch(reject);
    });
    // Join + sync + first fetch on a fresh broker includes creating __consumer_offsets.
    await within(45_000, `${sent.length} messages in group ${groupId}`, allReceived);

    expectSameValues(received, sent);
    await within(30_000, "a consumer group heartbeat", heartbeat);
    const [group] = (await (admin as Admin).describeGroups([groupId])).groups;
    expect(group?.state).toBe("Stable");
    expect(group?.members).toHaveLength(1);

    await consumer.stop();
    const committed = await (admin as Admin).fetchOffsets({ groupId, topics: [topic] });
    expect(committed).toEqual([{ topic, partitions: [{ partition: 0, offset: String(sent.length), metadata: null }] }]);
  });

  it("lets kcat (librdkafka) read the same keys and binary values", async () => {
    const records = await kcatReadAll(broker, topic);
    expectSameValues(records, sent);
  });
});
