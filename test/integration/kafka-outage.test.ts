// Kafka stops answering (the broker process is paused, so connections hang as in a network
// partition): write-behind Sets fail with UNAVAILABLE and change nothing, invalidations still
// apply locally and are delivered to the other instances once Kafka is back, and an instance
// that cannot hear Kafka for longer than the propagation bound is not ready.

import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import type { Loader } from "../../src/engine/loader.js";
import { Status } from "../../src/errors.js";
import { type RunningService, startService } from "../../src/server.js";
import { BrokerPause } from "../support/kafka-broker.js";
import { eventually, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { testConfig } from "../support/service.js";

const BROKERS = process.env.MLCACHE_KAFKA_BROKERS;
if (!BROKERS) throw new Error("MLCACHE_KAFKA_BROKERS is not set: run through `npm test` (it starts Kafka)");
const run = randomUUID().slice(0, 8);
const topics = { invalidations: `outage-${run}.inv`, writes: `outage-${run}.writes`, deadLetters: `outage-${run}.dl` };
const loader: Loader = { load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(`v-${key}`) }) };

describe("Kafka outage", () => {
  let origin: TestGrpcOrigin;
  const services: RunningService[] = [];
  const broker = new BrokerPause(BROKERS);

  afterAll(async () => {
    broker.resume();
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

    await broker.pause();

    const failed = await w.manager.set("wb", "during", new TextEncoder().encode("lost?")).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: Status.UNAVAILABLE });
    expect(w.manager.peekL1("wb", "during")).toBeUndefined();

    // Applied here and queued for the others, and said so: not acknowledged as done.
    const invalidated = await w.manager.invalidate("p", { keys: ["inv-1"] }).catch((e: unknown) => e);
    expect(invalidated).toMatchObject({ code: Status.UNAVAILABLE });
    expect(String((invalidated as Error).message)).toContain("Kafka did not acknowledge");
    // Past the propagation bound (2 s) without hearing Kafka: not ready, L1 no longer trusted.
    const readyz = await fetch(`http://127.0.0.1:${w.httpPort}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toContain("L1 not trusted");

    broker.resume();
    await eventually(() => v.manager.peekL1("p", "inv-1") === undefined, 90_000, "the queued invalidation to reach V");
  });
});
