// The consistency contract while Kafka stalls (the broker paused with SIGSTOP, so connections
// hang as in a network partition):
// - a write-behind Set answered UNAVAILABLE never reaches the writer; acknowledged ones do;
// - an invalidation Kafka did not acknowledge is reported (not silently queued) and delivered later;
// - UpdatePolicy answers UNAVAILABLE and changes nothing, anywhere;
// - an instance that cannot confirm it heard every invalidation stops reading L1 after the bound;
// - an instance whose Kafka does not answer at start is not ready until it has caught up.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { Status } from "../../src/errors.js";
import { InvalidationBus } from "../../src/events/invalidations.js";
import { KafkaConnection } from "../../src/events/kafka.js";
import { AppliedOffsets } from "../../src/events/trust.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { BrokerPause } from "../support/kafka-broker.js";
import { eventually, eventuallyAsync, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { freePort } from "../support/redis-process.js";
import { Code, createGrpcJsClient, rejection, testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const ROOT = join(import.meta.dirname, "..", "..");
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `contract-${run}.inv`,
  writes: `contract-${run}.writes`,
  deadLetters: `contract-${run}.dl`,
  policies: `contract-${run}.policies`,
};
const encode = (text: string) => new TextEncoder().encode(text);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loader: Loader = { load: async (_ns, key) => ({ found: true, value: encode(`v-${key}`) }) };

function config(id: string, extra: Record<string, unknown> = {}) {
  return parseConfig(
    testConfig({ instanceId: `${run}-${id}`, kafka: { brokers: BROKERS.split(","), topics }, ...extra }),
  );
}

const broker = new BrokerPause(BROKERS);
const services: RunningService[] = [];
afterEach(() => broker.resume());
afterAll(async () => {
  broker.resume();
  for (const service of services) await service.close();
});

describe("write-behind while Kafka stalls", () => {
  let origin: TestGrpcOrigin;
  let sink: ChildProcess | undefined;
  afterAll(async () => {
    sink?.kill("SIGKILL");
    await origin?.close();
  });

  it("a Set answered UNAVAILABLE never reaches the writer; the acknowledged ones do", async () => {
    execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "ignore" });
    // One partition: the sink reads the three writes in the order they were made.
    const admin = new Kafka({ brokers: BROKERS.split(","), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: topics.writes, numPartitions: 1 }] });
    await admin.disconnect();
    origin = await startGrpcOrigin();
    const namespaces = { wb: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { grpc: { target: origin.target } } } };
    const w = await startService(config("w", { namespaces }));
    services.push(w);

    await w.manager.set("wb", "k-before", encode("before"));
    await broker.pause();
    const failed = await w.manager.set("wb", "k-during", encode("during")).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: Status.UNAVAILABLE });
    broker.resume();
    // Kafka is back once a Set is acknowledged again (each failed try is UNAVAILABLE: never applied).
    await eventuallyAsync(
      () =>
        w.manager.set("wb", "k-after", encode("after")).then(
          () => true,
          () => false,
        ),
      60_000,
      "a write-behind Set to be acknowledged after Kafka resumed",
    );

    const dir = mkdtempSync(join(tmpdir(), "mlcache-sink-"));
    const configFile = join(dir, "sink.yaml");
    writeFileSync(
      configFile,
      JSON.stringify({
        instanceId: `${run}-sink`,
        log: { level: "warn" },
        kafka: { brokers: BROKERS.split(","), topics },
        namespaces,
      }),
    );
    sink = spawn(
      process.execPath,
      [join(ROOT, "bin", "mlcache.js"), "sink", "--config", configFile, "--group", `sink-${run}`],
      {
        cwd: ROOT,
        stdio: "ignore",
        env: { ...process.env, MLCACHE_REDIS_URL: "", MLCACHE_KAFKA_BROKERS: "", MLCACHE_REDIS_CLUSTER_NODES: "" },
      },
    );
    await eventually(() => origin.state.data.get("wb/k-after") === "after", 90_000, "the sink to apply k-after");
    expect(origin.state.data.get("wb/k-before")).toBe("before");
    // k-during came before k-after in the one partition: had it been readable, it would be here.
    expect(origin.state.data.has("wb/k-during")).toBe(false);
    expect([...origin.state.storedPairs.keys()].filter((pair) => pair.includes("k-during"))).toEqual([]);
  });
});

describe("invalidation publication while Kafka stalls", () => {
  it("is reported UNAVAILABLE within its bound, stays queued, and is delivered once Kafka is back", async () => {
    const connection = new KafkaConnection({ brokers: BROKERS.split(","), clientId: "contract-pub", topics });
    await connection.start();
    const bus = new InvalidationBus({
      connection,
      instanceId: `${run}-pub`,
      applied: new AppliedOffsets(),
      handler: async () => {},
    });
    try {
      const notice = (key: string) => ({ keys: [key], tags: [], cause: "invalidate" as const, at: Date.now() });
      expect(await bus.publish("inv", notice("before"))).toBe(true);
      await broker.pause();
      const failed = await bus.publish("inv", notice("during")).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: Status.UNAVAILABLE });
      expect(bus.queued).toBeGreaterThanOrEqual(1);
      broker.resume();
      await eventually(() => bus.queued === 0, 60_000, "the queued invalidation to be published");
      const keys = execFileSync(
        "kcat",
        ["-C", "-b", BROKERS, "-t", topics.invalidations, "-o", "beginning", "-e", "-f", "%k\\n"],
        { timeout: 30_000, encoding: "utf8" },
      );
      expect(keys.split("\n")).toContain("inv/during");
    } finally {
      await bus.close();
      await connection.close();
    }
  });
});

describe("policy changes while Kafka stalls", () => {
  it("UpdatePolicy answers UNAVAILABLE and changes nothing on any instance", async () => {
    const a = await startService(config("pa"));
    const b = await startService(config("pb"));
    services.push(a, b);
    const adminA = createGrpcJsClient(AdminService, `127.0.0.1:${a.grpcPort}`);
    const adminB = createGrpcJsClient(AdminService, `127.0.0.1:${b.grpcPort}`);
    try {
      await broker.pause();
      const failed = await rejection(
        adminA.updatePolicy({
          policy: { namespace: "stalled", l1: { ttl: durationFromMs(30_000) } },
          updateMask: { paths: ["l1.ttl"] },
        }),
      );
      expect(failed.code).toBe(Code.Unavailable);
      expect(a.manager.policies.isCustomized("stalled")).toBe(false);
      // Past the bound without Kafka, A cannot vouch for its policies: GetPolicy says so.
      expect((await rejection(adminA.getPolicy({ namespace: "stalled" }))).code).toBe(Code.Unavailable);
      broker.resume();
      // A later change arrives on B, in log order after the refused one: that one never does.
      await eventuallyAsync(
        () =>
          adminA
            .updatePolicy({
              policy: { namespace: "marker", l1: { ttl: durationFromMs(40_000) } },
              updateMask: { paths: ["l1.ttl"] },
            })
            .then(
              () => true,
              () => false,
            ),
        60_000,
        "UpdatePolicy to succeed after Kafka resumed",
      );
      await eventuallyAsync(
        () =>
          adminB.getPolicy({ namespace: "marker" }).then(
            (r) => r.customized,
            () => false,
          ),
        30_000,
        "B to apply the marker change",
      );
      for (const admin of [adminA, adminB]) {
        const stalled = await admin.getPolicy({ namespace: "stalled" });
        expect(stalled.customized).toBe(false);
        expect(durationMs(stalled.policy?.l1?.ttl ?? durationFromMs(0))).toBe(5 * 60_000);
      }
    } finally {
      adminA.close();
      adminB.close();
    }
  });
});

describe("L1 trust", () => {
  it("an instance that cannot hear invalidations for longer than the bound reads past L1, and uses it again after", async () => {
    const boundMs = 1_000;
    const extra = { redis: { url: REDIS_URL, keyPrefix: `trust-${run}:` }, consistency: { propagationBound: "1s" } };
    const a = await startService(config("ta", extra), { loaderFor: () => loader });
    const b = await startService(config("tb", extra), { loaderFor: () => loader });
    services.push(a, b);
    await a.manager.get("t", "k"); // loaded once, into L2 (and A's L1)
    await eventuallyAsync(async () => (await b.manager.get("t", "k")).source === "l1", 30_000, "B to read k from L1");

    await broker.pause();
    const pausedAt = Date.now();
    // No check can succeed after the pause, so B's trust ends by pausedAt + B at the latest.
    await sleep(pausedAt + boundMs + 100 - Date.now());
    const during = await b.manager.get("t", "k");
    expect(during.source).toBe("l2");
    const readyz = await fetch(`http://127.0.0.1:${b.httpPort}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toContain("L1 not trusted");
    const metrics = await fetch(`http://127.0.0.1:${b.httpPort}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^mlcache_l1_trusted 0$/m);
    // Its policies may be behind too: it says so rather than show them.
    const getPolicy = (service: typeof b) =>
      fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.AdminService/GetPolicy`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "t" }),
      });
    const behind = await getPolicy(b);
    expect(behind.status).toBe(503);
    expect(await behind.json()).toMatchObject({ code: "unavailable", message: expect.stringContaining("policy log") });

    broker.resume();
    await eventuallyAsync(
      async () => (await b.manager.get("t", "k")).source === "l1",
      60_000,
      "B to read from L1 again after Kafka resumed",
    );
    expect(await fetch(`http://127.0.0.1:${b.httpPort}/metrics`).then((r) => r.text())).toMatch(
      /^mlcache_l1_trusted 1$/m,
    );
    expect((await getPolicy(b)).status).toBe(200);
  });
});

describe("readiness at start", () => {
  it("an instance whose Kafka does not answer is not ready, and becomes ready once it has caught up", async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    await broker.pause();
    const starting = startService(config("late", { server: { grpcPort, httpPort } }));
    starting.then((s) => services.push(s)).catch(() => {});
    let first: { status: number; text: string } | undefined;
    await eventuallyAsync(
      async () => {
        first = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          async (r) => ({ status: r.status, text: await r.text() }),
          () => undefined,
        );
        return first !== undefined;
      },
      30_000,
      "the HTTP port to answer while Kafka is paused",
    );
    expect(first?.status).toBe(503);
    expect(first?.text).toContain("kafka");
    // Until it has read what the fleet decided, it answers no call as if it had.
    const early = await fetch(`http://127.0.0.1:${httpPort}/mlcache.v1.CacheService/Get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace: "p", key: "k" }),
    });
    expect(early.status).toBe(503);
    expect(await early.json()).toMatchObject({ code: "unavailable", message: expect.stringContaining("starting") });
    broker.resume();
    await starting;
    await eventuallyAsync(
      async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status === 200,
      60_000,
      "the instance to be ready after Kafka resumed",
    );
    const later = await fetch(`http://127.0.0.1:${httpPort}/mlcache.v1.CacheService/Get`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ namespace: "p", key: "k" }),
    });
    expect(later.status).toBe(200);
  });
});
