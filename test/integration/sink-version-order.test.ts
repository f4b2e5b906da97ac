// The write-behind sink on a real Kafka keeps the highest version of a key, whatever order the
// Sets' records were appended in. Two concurrent Sets can be logged in either order; the cache
// (L2 keeps the highest version) serves the newer, so the system of record must end there too.
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningSink, startSink } from "../../src/cli/sink.js";
import { parseConfig } from "../../src/config/config.js";
import { WriteEventSchema } from "../../src/gen/mlcache/v1/events_pb.js";
import { createLogger } from "../../src/logger.js";
import { requireEnv } from "../support/env.js";
import { eventually, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `sinkorder-${run}.inv`,
  writes: `sinkorder-${run}.writes`,
  deadLetters: `sinkorder-${run}.dl`,
  policies: `sinkorder-${run}.policies`,
};

describe("write-behind sink: the highest version of a key wins, not the log's last", () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("in one batch and across batches, an older version logged later never reaches the writer", async () => {
    const origin: TestGrpcOrigin = await startGrpcOrigin();
    closers.push(() => origin.close());
    const kafka = new Kafka({ clientId: `${run}-producer`, brokers: BROKERS.split(","), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.writes, numPartitions: 1 }] });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    closers.push(() => producer.disconnect());
    const write = (key: string, value: string, version: bigint) => ({
      key: `wb/${key}`,
      value: Buffer.from(
        toBinary(
          WriteEventSchema,
          create(WriteEventSchema, { namespace: "wb", key, value: new TextEncoder().encode(value), version }),
        ),
      ),
    });

    // Logged newer first: the Set with the higher version was appended before the other.
    await producer.send({ topic: topics.writes, messages: [write("k", "newer", 200n), write("k", "older", 100n)] });
    const sink: RunningSink = await startSink(
      parseConfig(
        testConfig({
          instanceId: `${run}-sink`,
          kafka: { brokers: BROKERS.split(","), topics },
          namespaces: { wb: { loader: { grpc: { target: origin.target } }, writeMode: "WRITE_MODE_WRITE_BEHIND" } },
        }),
      ),
      { groupId: `sinkorder-${run}-sink`, logger: createLogger("silent") },
    );
    closers.push(() => sink.close());
    await eventually(() => sink.counters.received >= 2 && sink.counters.batches >= 1, 30_000, "the first batch");
    expect(origin.state.data.get("wb/k")).toBe("newer");
    expect(origin.state.storedPairs.has("wb/k=older")).toBe(false);

    // A later batch: an older version than the one applied is skipped; a newer one is applied.
    await producer.send({ topic: topics.writes, messages: [write("k", "late-older", 150n)] });
    await eventually(
      () => sink.counters.received >= 3 && sink.counters.olderThanApplied >= 1,
      30_000,
      "the late write",
    );
    await producer.send({ topic: topics.writes, messages: [write("k", "newest", 300n)] });
    // The writer holds it before the sink counts it: wait for both.
    await eventually(
      () => origin.state.data.get("wb/k") === "newest" && sink.counters.applied >= 2,
      30_000,
      "the newest write",
    );
    expect(origin.state.storedPairs.has("wb/k=late-older")).toBe(false);
    expect(sink.counters).toMatchObject({ applied: 2, supersededInBatch: 1, olderThanApplied: 1 });
  });
});
