/**
 * Write modes: Set throughput and latency in WRITE_BEHIND mode (acknowledged once the write is
 * committed in a Kafka transaction) against WRITE_THROUGH to the same writer (a real gRPC LoaderService whose
 * Store takes `--store-ms`), same process, same concurrency, alternating runs. Then the
 * propagation latency of invalidations from one instance to another over Kafka.
 *
 *   npm run bench:write-modes -- --ops 3000 --concurrency 32 --store-ms 2
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { parseConfig } from "../src/config/config.js";
import { startService } from "../src/server.js";
import { startGrpcOrigin } from "../test/support/origins.js";
import { kafkaForBench, measure, medianOf } from "./support.js";

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
    runs: { type: "string", default: "3" },
    "store-ms": { type: "string", default: "2" },
    invalidations: { type: "string", default: "500" },
  },
});
const ops = Number(values.ops);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "write-modes", ...line }));

const kafka = await kafkaForBench();
const origin = await startGrpcOrigin();
origin.state.faults.latencyMs = Number(values["store-ms"]);
const run = randomUUID().slice(0, 8);
const config = (id: string) =>
  parseConfig({
    instanceId: `bench-${run}-${id}`,
    server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 },
    log: { level: "silent" },
    kafka: {
      brokers: kafka.brokers.split(","),
      topics: { invalidations: `bench-${run}.inv`, writes: `bench-${run}.writes`, deadLetters: `bench-${run}.dl` },
    },
    namespaces: {
      wt: { writeMode: "WRITE_MODE_WRITE_THROUGH", writer: { grpc: { target: origin.target } } },
      wb: { writeMode: "WRITE_MODE_WRITE_BEHIND", writer: { grpc: { target: origin.target } } },
    },
  });
const a = await startService(config("a"));
const b = await startService(config("b"));
try {
  const value = new Uint8Array(256).fill(1);
  const through: Awaited<ReturnType<typeof measure>>[] = [];
  const behind: Awaited<ReturnType<typeof measure>>[] = [];
  for (let r = 0; r < runs; r++) {
    through.push(await measure((i) => a.manager.set("wt", `k${i % 1000}`, value), ops, concurrency));
    behind.push(await measure((i) => a.manager.set("wb", `k${i % 1000}`, value), ops, concurrency));
  }
  const wt = medianOf(through);
  const wb = medianOf(behind);
  print({ impl: "write-through", storeMs: Number(values["store-ms"]), concurrency, ...wt });
  print({ impl: "write-behind (durable in Kafka)", concurrency, ...wb });
  print({
    ratio: "write-behind/write-through",
    throughput: Number((wb.opsPerSec / wt.opsPerSec).toFixed(3)),
    p50: Number((wb.p50 / wt.p50).toFixed(3)),
    p99: Number((wb.p99 / wt.p99).toFixed(3)),
  });

  // Invalidation propagation A → B.
  const count = Number(values.invalidations);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const key = `p${i}`;
    await b.manager.getOrLoad("prop", key, { load: async () => ({ found: true, value }) });
    const started = performance.now();
    await a.manager.invalidate("prop", { keys: [key] });
    const deadline = Date.now() + 10_000;
    while (b.manager.peekL1("prop", key) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    latencies.push(performance.now() - started);
  }
  latencies.sort((x, y) => x - y);
  print({
    impl: "invalidation propagation (A→B over Kafka)",
    count,
    p50Ms: Number((latencies[Math.floor(count * 0.5)] ?? 0).toFixed(2)),
    p99Ms: Number((latencies[Math.floor(count * 0.99)] ?? 0).toFixed(2)),
  });
} finally {
  await a.close();
  await b.close();
  await origin.close();
  await kafka.stop();
}
