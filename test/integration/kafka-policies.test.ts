// Run-time policy changes reach every instance through the compacted policies topic: a change
// on A is in force on B, on an instance started later, and a reset too; concurrent changes on
// two instances end in the same policy everywhere; a refused change reaches nobody; a change
// acknowledged behind another producer's transaction left open (an instance killed in the middle
// of one) is never hidden behind an OK: instances answer UNAVAILABLE until they can read it.
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { TransactionalPublisher } from "../../src/events/transactions.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { PolicyEventSchema } from "../../src/gen/mlcache/v1/events_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventuallyAsync } from "../support/origins.js";
import { Code, createGrpcJsClient, type GrpcJsClient, rejection, testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `pol-${run}.inv`,
  writes: `pol-${run}.writes`,
  deadLetters: `pol-${run}.dl`,
  policies: `pol-${run}.policies`,
};
const ms = (d: Duration | undefined) => (d ? durationMs(d) : undefined);

describe("policy changes over Kafka", () => {
  const services: RunningService[] = [];
  const clients: GrpcJsClient<typeof AdminService>[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of services) await s.close();
  });

  async function instance(id: string) {
    const service = await startService(
      parseConfig(testConfig({ instanceId: `${run}-${id}`, kafka: { brokers: BROKERS.split(","), topics } })),
    );
    services.push(service);
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    clients.push(admin);
    return admin;
  }
  const l1Ttl = async (admin: GrpcJsClient<typeof AdminService>, namespace: string) =>
    ms((await admin.getPolicy({ namespace })).policy?.l1?.ttl);

  it("UpdatePolicy on A is in force on B and on an instance started later; ResetPolicy on B everywhere", async () => {
    const a = await instance("a");
    const b = await instance("b");
    expect(await l1Ttl(b, "pol")).toBe(5 * 60_000);

    const updated = await a.updatePolicy({
      policy: { namespace: "pol", l1: { ttl: durationFromMs(30_000) } },
      updateMask: { paths: ["l1.ttl"] },
    });
    expect(ms(updated.policy?.l1?.ttl)).toBe(30_000);
    expect(await l1Ttl(a, "pol")).toBe(30_000); // here at once
    await eventuallyAsync(async () => (await l1Ttl(b, "pol")) === 30_000, 15_000, "B to apply A's change");
    expect((await b.getPolicy({ namespace: "pol" })).customized).toBe(true);

    // Started after the change: it reads the log from the beginning before it is ready.
    const c = await instance("c");
    expect(await l1Ttl(c, "pol")).toBe(30_000);
    expect((await c.getPolicy({ namespace: "pol" })).customized).toBe(true);

    await b.resetPolicy({ namespace: "pol" });
    for (const [name, admin] of [
      ["A", a],
      ["C", c],
    ] as const) {
      await eventuallyAsync(
        async () => !(await admin.getPolicy({ namespace: "pol" })).customized,
        15_000,
        `${name} to apply B's reset`,
      );
      expect(await l1Ttl(admin, "pol")).toBe(5 * 60_000);
    }

    // A refused change reaches nobody: a later change of another namespace arrives, it does not.
    const refused = await rejection(
      a.updatePolicy({ policy: { namespace: "refused", l1: { jitter: 5 } }, updateMask: { paths: ["l1.jitter"] } }),
    );
    expect(refused.code).toBe(Code.InvalidArgument);
    await a.updatePolicy({
      policy: { namespace: "marker", l1: { ttl: durationFromMs(40_000) } },
      updateMask: { paths: ["l1.ttl"] },
    });
    await eventuallyAsync(async () => (await l1Ttl(c, "marker")) === 40_000, 15_000, "C to apply the marker change");
    expect((await c.getPolicy({ namespace: "refused" })).customized).toBe(false);
    expect((await a.getPolicy({ namespace: "refused" })).customized).toBe(false);
  });

  it("concurrent changes on two instances end in the same policy on every instance", async () => {
    const [a, b, c] = clients as [
      GrpcJsClient<typeof AdminService>,
      GrpcJsClient<typeof AdminService>,
      GrpcJsClient<typeof AdminService>,
    ];
    const changes = [];
    for (let i = 0; i < 10; i++) {
      for (const [admin, base] of [
        [a, 10_000],
        [b, 20_000],
      ] as const) {
        changes.push(
          admin.updatePolicy({
            policy: { namespace: "race", l1: { ttl: durationFromMs(base + i * 1000) } },
            updateMask: { paths: ["l1.ttl"] },
          }),
        );
      }
    }
    await Promise.all(changes);
    await eventuallyAsync(
      async () => {
        const ttls = await Promise.all([a, b, c].map((admin) => l1Ttl(admin, "race")));
        return ttls.every((t) => t === ttls[0]);
      },
      15_000,
      "A, B and C to agree on the policy of namespace race",
    );
  });

  it("a change committed behind another producer's open transaction: UNAVAILABLE until it can be read, then in force", async () => {
    const [a, b] = clients as [GrpcJsClient<typeof AdminService>, GrpcJsClient<typeof AdminService>];
    // An instance that died in the middle of a policy change: its transaction is open, and Kafka
    // keeps it so (read-committed consumers stop before it) until its timeout or a fence.
    const kafka = new Kafka({ clientId: `${run}-gone`, brokers: BROKERS.split(","), logLevel: logLevel.NOTHING });
    const transactionalId = `${run}-gone-0`;
    const gone = kafka.producer({
      transactionalId,
      transactionTimeout: 120_000,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await gone.connect();
    const open = await gone.transaction();
    await open.send({
      topic: topics.policies,
      messages: [
        {
          key: "gone",
          value: Buffer.from(toBinary(PolicyEventSchema, create(PolicyEventSchema, { namespace: "gone" }))),
        },
      ],
    });
    try {
      const updated = await a.updatePolicy({
        policy: { namespace: "held", l1: { ttl: durationFromMs(45_000) } },
        updateMask: { paths: ["l1.ttl"] },
      });
      expect(ms(updated.policy?.l1?.ttl)).toBe(45_000);
      // Committed, but behind the open transaction: B cannot read it, and must not claim it has
      // everything (before, B answered its old policy with OK for as long as the transaction stayed open).
      let refusal: Awaited<ReturnType<typeof rejection>> | undefined;
      await eventuallyAsync(
        async () => {
          refusal = await rejection(b.getPolicy({ namespace: "held" })).catch(() => undefined);
          return refusal !== undefined;
        },
        15_000,
        "B to answer GetPolicy UNAVAILABLE while the change is behind an open transaction",
      );
      expect(refusal?.code).toBe(Code.Unavailable);
      expect(refusal?.rawMessage).toMatch(/policy log/);
    } finally {
      await gone.disconnect().catch(() => {});
    }
    // The instance starts again: its publisher fences its former self as it starts (not at its
    // first publication), and Kafka aborts the open transaction.
    const successor = new TransactionalPublisher({ kafka, transactionalId: `${run}-gone`, lanes: 1 });
    await successor.start();
    await successor.close();
    await eventuallyAsync(
      async () => (await l1Ttl(b, "held").catch(() => undefined)) === 45_000,
      15_000,
      "B to apply A's change once the open transaction was aborted",
    );
    expect((await b.getPolicy({ namespace: "gone" })).customized).toBe(false);
  });
});
