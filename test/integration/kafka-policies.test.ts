// Run-time policy changes reach every instance through the compacted policies topic: a change
// on A is in force on B, on an instance started later, and a reset too; concurrent changes on
// two instances end in the same policy everywhere; a refused change reaches nobody.
import { randomUUID } from "node:crypto";
import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
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
});
