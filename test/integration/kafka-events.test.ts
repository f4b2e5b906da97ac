// Kafka as the second writer, with a real broker: invalidations reach every instance (also one
// that was down, and from outside publishers, kcat included), and write-behind writes survive
// a sink killed with SIGKILL.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { InvalidationCause, InvalidationEventSchema } from "../../src/gen/mlcache/v1/events_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventually, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const execFileAsync = promisify(execFile);
const REDIS_URL = requireEnv("MLCACHE_REDIS_URL");
const ROOT = join(import.meta.dirname, "..", "..");
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** A shared "database" the loaders of every instance read. */
const database = new Map<string, string>();
const databaseLoader: Loader = {
  async load(namespace, key) {
    const value = database.get(`${namespace}/${key}`);
    return value === undefined ? { found: false } : { found: true, value: new TextEncoder().encode(value) };
  },
};

const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `test-${run}.invalidations`,
  writes: `test-${run}.writes`,
  deadLetters: `test-${run}.dead-letters`,
};

function instanceConfig(id: string, extra: Record<string, unknown> = {}) {
  return parseConfig(
    testConfig({
      instanceId: `${run}-${id}`,
      kafka: { brokers: BROKERS.split(","), clientId: `test-${id}`, topics },
      ...extra,
    }),
  );
}

async function instance(id: string, extra: Record<string, unknown> = {}): Promise<RunningService> {
  return startService(instanceConfig(id, extra), { loaderFor: () => databaseLoader });
}

describe("invalidations over Kafka", () => {
  const services: RunningService[] = [];
  afterAll(async () => {
    for (const s of services) await s.close();
  });

  it("an invalidation on A drops the key on B and C (1,000 of them, timed)", async () => {
    const [a, b, c] = [await instance("a"), await instance("b"), await instance("c")];
    services.push(a, b, c);
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`);
    for (const key of keys) database.set(`p/${key}`, `v1-${key}`);
    await b.manager.getMany("p", keys);
    await c.manager.getMany("p", keys);
    const latencies: number[] = [];
    for (const key of keys) {
      database.set(`p/${key}`, `v2-${key}`);
      const started = performance.now();
      await a.manager.invalidate("p", { keys: [key] });
      const deadline = Date.now() + 10_000;
      while (b.manager.peekL1("p", key) || c.manager.peekL1("p", key)) {
        if (Date.now() > deadline) throw new Error(`${key} still cached on B or C after 10 s`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      latencies.push(performance.now() - started);
    }
    latencies.sort((x, y) => x - y);
    const p50 = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    console.log(JSON.stringify({ bench: "invalidation-propagation", count: latencies.length, p50Ms: p50, p99Ms: p99 }));
    expect(latencies).toHaveLength(1000);
    expect(text((await b.manager.get("p", "k7")).value)).toBe("v2-k7");
    // A Set on A also drops older copies elsewhere.
    await c.manager.get("p", "k8");
    await a.manager.set("p", "k8", new TextEncoder().encode("set-on-a"));
    await eventually(() => c.manager.peekL1("p", "k8") === undefined, 10_000, "C to drop k8 after a Set on A");
  });
});

describe("an instance that was down", () => {
  it("replays the invalidations it missed before it is ready, including outside ones, and L2 agrees", async () => {
    const prefix = `replay-${run}:`;
    const withRedis = { redis: { url: REDIS_URL, keyPrefix: prefix } };
    const a = await instance("replay-a", withRedis);
    let b = await instance("replay-b", withRedis);
    const keys = Array.from({ length: 100 }, (_, i) => `r${i}`);
    for (const key of keys) database.set(`q/${key}`, `old-${key}`);
    await b.manager.getMany("q", keys); // into L2 and B's L1
    await b.close();

    for (const key of keys) database.set(`q/${key}`, `new-${key}`);
    await a.manager.invalidate("q", { keys: keys.slice(0, 50) });
    await a.close();
    // The other 50 are invalidated by an outside publisher while no instance runs, so only the
    // replay can drop them from Redis.
    const kafka = new Kafka({ clientId: "outside", brokers: BROKERS.split(","), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.invalidations,
      messages: keys.slice(50).map((key) => ({
        key: `q/${key}`,
        value: Buffer.from(
          toBinary(
            InvalidationEventSchema,
            create(InvalidationEventSchema, {
              namespace: "q",
              keys: [key],
              cause: InvalidationCause.EXTERNAL,
              time: timestampNow(),
            }),
          ),
        ),
      })),
    });
    await producer.disconnect();

    b = await instance("replay-b", withRedis);
    try {
      const answers = await b.manager.getMany("q", keys);
      const old = [...answers.values()].filter((a) => "value" in a && text(a.value).startsWith("old-"));
      expect(old).toHaveLength(0);
    } finally {
      await b.close();
    }
  });
});

describe("an outside publisher", () => {
  it("invalidates through a protobuf payload produced by kcat", async () => {
    const service = await instance("kcat");
    try {
      database.set("x/doc", "v1");
      await service.manager.get("x", "doc");
      expect(service.manager.peekL1("x", "doc")).toBeDefined();
      const dir = mkdtempSync(join(tmpdir(), "mlcache-kcat-"));
      const payload = join(dir, "event.bin");
      writeFileSync(
        payload,
        toBinary(
          InvalidationEventSchema,
          create(InvalidationEventSchema, { namespace: "x", keys: ["doc"], cause: InvalidationCause.EXTERNAL }),
        ),
      );
      // kcat -P with a file argument sends the whole file as one message.
      execFileSync("kcat", ["-P", "-b", BROKERS, "-t", topics.invalidations, "-k", "x/doc", payload], {
        timeout: 30_000,
      });
      await eventually(() => service.manager.peekL1("x", "doc") === undefined, 15_000, "the kcat event to be applied");
    } finally {
      await service.close();
    }
  });
});

describe("dead letters", () => {
  it("a key whose loads keep failing is published to the dead-letter topic, read back with kcat", async () => {
    const service = await startService(
      instanceConfig("dl", {
        namespaces: {
          broken: {
            loader: { grpc: { target: "127.0.0.1:1" }, retry: { maxAttempts: 1 }, deadLetter: { maxFailures: 2 } },
          },
        },
      }),
    );
    try {
      for (let i = 0; i < 3; i++) await service.manager.get("broken", "k-dead").catch(() => undefined);
      let keys = "";
      const deadline = Date.now() + 60_000;
      while (!keys.includes("broken/k-dead") && Date.now() < deadline) {
        // Asynchronous: the service publishing the dead letter runs in this process.
        ({ stdout: keys } = await execFileAsync(
          "kcat",
          ["-C", "-b", BROKERS, "-t", topics.deadLetters, "-o", "beginning", "-e", "-f", "%k\\n"],
          { timeout: 20_000, encoding: "utf8" },
        ));
        if (!keys.includes("broken/k-dead")) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(keys).toContain("broken/k-dead");
    } finally {
      await service.close();
    }
  });
});

describe("write-behind", () => {
  let origin: TestGrpcOrigin;
  let service: RunningService;
  let configFile: string;
  let sink: ChildProcess | undefined;

  const startSink = () => {
    sink = spawn(process.execPath, [join(ROOT, "bin", "mlcache.js"), "sink", "--config", configFile], {
      cwd: ROOT,
      stdio: "ignore",
      env: { ...process.env, MLCACHE_REDIS_URL: "", MLCACHE_KAFKA_BROKERS: "", MLCACHE_REDIS_CLUSTER_NODES: "" },
    });
  };

  beforeAll(async () => {
    execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "ignore" });
    origin = await startGrpcOrigin();
    const namespaces = {
      orders: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { grpc: { target: origin.target } } },
    };
    service = await startService(instanceConfig("wb", { namespaces }));
    const dir = mkdtempSync(join(tmpdir(), "mlcache-sink-"));
    configFile = join(dir, "sink.yaml");
    writeFileSync(
      configFile,
      JSON.stringify({
        instanceId: `${run}-sink`,
        log: { level: "warn" },
        kafka: { brokers: BROKERS.split(","), topics },
        namespaces,
      }),
    );
  });
  afterAll(async () => {
    sink?.kill("SIGKILL");
    await service?.close();
    await origin?.close();
  });

  it("10,000 acknowledged Sets survive a sink killed mid-stream: the writer ends with every key's last value", async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `o${i}`);
    let acknowledged = 0;
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        keys.map(async (key) => {
          await service.manager.set("orders", key, new TextEncoder().encode(`${key}@${round}`));
          acknowledged++;
        }),
      );
    }
    expect(acknowledged).toBe(10_000);
    startSink();
    await eventually(() => origin.state.calls.storedItems > 500, 60_000, "the sink to apply some writes");
    sink?.kill("SIGKILL");
    await new Promise((resolve) => sink?.once("exit", resolve));
    const beforeRestart = origin.state.calls.storedItems;
    startSink();
    await eventually(
      () => keys.every((key) => origin.state.data.get(`orders/${key}`) === `${key}@9`),
      120_000,
      "every key's last value at the writer",
    );
    const duplicates = [...origin.state.storedPairs.values()].reduce((sum, n) => sum + (n - 1), 0);
    console.log(
      JSON.stringify({
        bench: "write-behind-sink-crash",
        acknowledged,
        itemsStored: origin.state.calls.storedItems,
        storedBeforeKill: beforeRestart,
        duplicatesApplied: duplicates,
      }),
    );
    expect(origin.state.calls.storedItems).toBeGreaterThanOrEqual(keys.length);
  });
});
