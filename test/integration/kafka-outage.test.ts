// Kafka stops answering (the broker process is paused, so connections hang as in a network
// partition): write-behind Sets fail with UNAVAILABLE and change nothing, invalidations still
// apply locally and are delivered to the other instances once Kafka is back.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { Status } from "../../src/errors.js";
import { type RunningService, startService } from "../../src/server.js";
import { eventually, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { testConfig } from "../support/service.js";

const BROKERS = process.env.MLCACHE_KAFKA_BROKERS;
if (!BROKERS) throw new Error("MLCACHE_KAFKA_BROKERS is not set: run through `npm test` (it starts Kafka)");
const ROOT = join(import.meta.dirname, "..", "..");

/** The pid of the broker scripts/services started on the port the tests use. */
function brokerPid(): number {
  const state = JSON.parse(readFileSync(join(ROOT, ".services", "state.json"), "utf8")) as {
    kafka?: { procs: { pid: number; port: number }[] };
  };
  const port = Number(BROKERS?.split(",")[0]?.split(":")[1]);
  const proc = state.kafka?.procs.find((p) => p.port === port);
  if (!proc) {
    throw new Error(`this test pauses the broker that scripts/services started; ${BROKERS} is not one of those`);
  }
  return proc.pid;
}

/** Whether a process is stopped (state T in /proc): a signal takes effect a moment after kill(). */
function stopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

const run = randomUUID().slice(0, 8);
const topics = { invalidations: `outage-${run}.inv`, writes: `outage-${run}.writes`, deadLetters: `outage-${run}.dl` };
const loader: Loader = { load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(`v-${key}`) }) };

describe("Kafka outage", () => {
  let origin: TestGrpcOrigin;
  const services: RunningService[] = [];
  let paused: number | undefined;

  afterAll(async () => {
    if (paused) process.kill(paused, "SIGCONT");
    for (const service of services) await service.close();
    await origin?.close();
  });

  it("write-behind fails with UNAVAILABLE and changes nothing; queued invalidations are delivered after", async () => {
    origin = await startGrpcOrigin();
    const config = (id: string) =>
      parseConfig(
        testConfig({
          instanceId: `${run}-${id}`,
          kafka: { brokers: BROKERS.split(","), topics },
          namespaces: { wb: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { grpc: { target: origin.target } } } },
        }),
      );
    const w = await startService(config("w"), { loaderFor: () => loader });
    const v = await startService(config("v"), { loaderFor: () => loader });
    services.push(w, v);
    await w.manager.set("wb", "before", new TextEncoder().encode("ok")); // Kafka is fine: acknowledged
    await v.manager.get("p", "inv-1");
    expect(v.manager.peekL1("p", "inv-1")).toBeDefined();

    paused = brokerPid();
    process.kill(paused, "SIGSTOP");
    await eventually(() => stopped(paused as number), 5_000, "the broker to be stopped");

    const failed = await w.manager.set("wb", "during", new TextEncoder().encode("lost?")).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: Status.UNAVAILABLE });
    expect(w.manager.peekL1("wb", "during")).toBeUndefined();

    // Applied here and queued for the others, and said so: not acknowledged as done.
    const invalidated = await w.manager.invalidate("p", { keys: ["inv-1"] }).catch((e: unknown) => e);
    expect(invalidated).toMatchObject({ code: Status.UNAVAILABLE });
    expect(String((invalidated as Error).message)).toContain("Kafka did not acknowledge");
    const status = await fetch(`http://127.0.0.1:${w.httpPort}/readyz`).then((r) => r.text());
    expect(status).toContain("degraded: kafka");

    process.kill(paused, "SIGCONT");
    paused = undefined;
    await eventually(() => v.manager.peekL1("p", "inv-1") === undefined, 90_000, "the queued invalidation to reach V");
  });
});
