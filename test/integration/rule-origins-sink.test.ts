// Write-behind under key rules, on a real Kafka: a rule naming its own writer is set at run time
// through UpdatePolicy; the sink (as `mlcache sink` runs it) reads the policy log before it
// applies writes, so a write-behind Set of a key under the rule reaches the rule's writer (B) and
// one outside reaches the namespace's writer (A).
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningSink, startSink } from "../../src/cli/sink.js";
import { parseConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { createLogger } from "../../src/logger.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { eventually, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { createGrpcJsClient, testConfig } from "../support/service.js";

const BROKERS = requireEnv("MLCACHE_KAFKA_BROKERS");
const run = randomUUID().slice(0, 8);
const topics = {
  invalidations: `ruleorigins-${run}.inv`,
  writes: `ruleorigins-${run}.writes`,
  deadLetters: `ruleorigins-${run}.dl`,
  policies: `ruleorigins-${run}.policies`,
};
const text = (s: string) => new TextEncoder().encode(s);

describe("write-behind under a key rule with its own writer", () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  it("the sink sends a write under the rule to the rule's writer, others to the namespace's", async () => {
    const a: TestGrpcOrigin = await startGrpcOrigin();
    const b: TestGrpcOrigin = await startGrpcOrigin();
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const raw = (id: string) =>
      testConfig({
        instanceId: `${run}-${id}`,
        kafka: { brokers: BROKERS.split(","), topics },
        origins: { allowedTargets: [b.target] },
        namespaces: { wb: { loader: { grpc: { target: a.target } }, writeMode: "WRITE_MODE_WRITE_BEHIND" } },
      });
    const service: RunningService = await startService(parseConfig(raw("svc")));
    closers.push(() => service.close());
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    closers.push(
      () => admin.close(),
      () => cache.close(),
    );

    // The rule and its writer exist only in the policy log: the sink's config does not name them.
    await admin.updatePolicy({
      policy: {
        namespace: "wb",
        rules: [
          {
            name: "audit",
            match: { case: "prefix", value: "audit:" },
            overrides: { writer: { kind: { case: "grpc", value: { target: b.target } } } },
          },
        ],
      },
      updateMask: { paths: ["rules"] },
    });
    const ruled = await cache.set({ namespace: "wb", key: "audit:1", value: text("to-b") });
    const plain = await cache.set({ namespace: "wb", key: "plain:1", value: text("to-a") });
    expect([ruled.writeMode, plain.writeMode]).toEqual([WriteMode.WRITE_BEHIND, WriteMode.WRITE_BEHIND]);
    // Write-behind: nothing reached a writer yet.
    expect(a.state.calls.stores + b.state.calls.stores).toBe(0);

    const sink: RunningSink = await startSink(parseConfig(raw("sink")), {
      groupId: `ruleorigins-${run}-sink`,
      logger: createLogger("silent"),
    });
    closers.push(() => sink.close());
    await eventually(
      () => b.state.data.has("wb/audit:1") && a.state.data.has("wb/plain:1") && sink.counters.applied >= 2,
      30_000,
      "the sink to store both writes",
    );
    expect(b.state.data.get("wb/audit:1")).toBe("to-b");
    expect(a.state.data.get("wb/plain:1")).toBe("to-a");
    expect(a.state.data.has("wb/audit:1")).toBe(false);
    expect(b.state.data.has("wb/plain:1")).toBe(false);
    expect(sink.counters.applied).toBe(2);
  });
});
