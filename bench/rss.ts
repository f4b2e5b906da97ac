/**
 * Resident memory against the L1 bound: a service in a child process (no Redis, no Kafka)
 * takes `--sets` Sets of distinct keys with `--value-bytes` values over its gRPC port,
 * `--in-flight` at a time, with `l1.maxBytes` = `--max-bytes`. The child then reports its
 * memory as the process sees it (RSS, V8 heap, external and ArrayBuffer bytes), before and
 * after a full GC, next to the bytes L1 says it holds.
 *
 *   npm run bench:rss [-- --sets 100000 --max-bytes 64MiB --value-bytes 1024 --in-flight 16]
 *
 * Prints JSON lines: {"bench":"rss","phase":"baseline"|"loaded"|"after-gc",…} with the raw
 * samples, then {"bench":"rss","summary":…} with RSS/maxBytes and the bytes per entry beyond
 * the value, split into V8 heap, ArrayBuffer backing stores and the rest of the RSS.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getHeapSpaceStatistics } from "node:v8";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { parseConfig } from "../src/config/config.js";
import { parseBytes } from "../src/config/units.js";
import { CacheService } from "../src/gen/mlcache/v1/cache_pb.js";
import { startService } from "../src/server.js";
import { measure } from "./support.js";

const { values } = parseArgs({
  options: {
    sets: { type: "string", default: "500000" },
    "max-bytes": { type: "string", default: "256MiB" },
    "value-bytes": { type: "string", default: "1024" },
    "in-flight": { type: "string", default: "16" },
    /** Internal: run as the service child. */
    serve: { type: "boolean", default: false },
  },
});
const NAMESPACE = "rss";

/** One memory sample of the service process. */
interface Sample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  l1Bytes: number;
  l1Entries: number;
  /** V8 heap spaces that hold more than 1 MiB: bytes used / bytes committed. */
  spaces: Record<string, { used: number; committed: number }>;
}

type Request = { sample: "baseline" | "loaded" | "after-gc" } | { stop: true };

async function serve(): Promise<void> {
  const service = await startService(
    parseConfig({
      server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 },
      l1: { maxBytes: parseBytes(values["max-bytes"]) },
      log: { level: "silent" },
    }),
  );
  const sample = (): Sample => {
    const usage = process.memoryUsage();
    const l1 = service.manager.layerCounters("l1", NAMESPACE);
    const spaces: Sample["spaces"] = {};
    for (const space of getHeapSpaceStatistics()) {
      if (space.space_size > 1 << 20) {
        spaces[space.space_name] = { used: space.space_used_size, committed: space.space_size };
      }
    }
    return {
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      l1Bytes: l1?.bytes ?? 0,
      l1Entries: l1?.entries ?? 0,
      spaces,
    };
  };
  process.on("message", async (request: Request) => {
    if ("stop" in request) {
      await service.close();
      process.exit(0);
    }
    if (request.sample === "after-gc") {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error("the child runs with --expose-gc");
      for (let i = 0; i < 3; i++) gc();
      // Let freed backing stores be released (they go through a task after the GC).
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.send?.({ phase: request.sample, ...sample() });
  });
  process.send?.({ port: service.grpcPort });
}

async function drive(): Promise<void> {
  const sets = Number(values.sets);
  const valueBytes = Number(values["value-bytes"]);
  const maxBytes = parseBytes(values["max-bytes"]);
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), "--serve"], {
    execArgv: ["--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const replies: unknown[] = [];
  const waiters: ((reply: unknown) => void)[] = [];
  child.on("message", (reply) => {
    const waiter = waiters.shift();
    if (waiter) waiter(reply);
    else replies.push(reply);
  });
  const next = <T>() =>
    new Promise<T>((resolve) =>
      replies.length ? resolve(replies.shift() as T) : waiters.push(resolve as (r: unknown) => void),
    );
  const ask = (request: Request) => {
    child.send(request);
    return next<Sample & { phase: string }>();
  };
  const { port } = await next<{ port: number }>();
  const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "rss", ...line }));

  const baseline = await ask({ sample: "after-gc" });
  print({ ...baseline, phase: "baseline" });
  const client = createClient(CacheService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
  // Every value differs (its index in the first bytes), as request buffers would.
  const template = new Uint8Array(valueBytes).fill(0x61);
  const timing = await measure(
    (i) => {
      const value = template.slice();
      new DataView(value.buffer).setUint32(0, i);
      return client.set({ namespace: NAMESPACE, key: `key:${i}`, value });
    },
    sets,
    Number(values["in-flight"]),
  );
  const loaded = await ask({ sample: "loaded" });
  print({ ...loaded });
  const collected = await ask({ sample: "after-gc" });
  print({ ...collected });
  child.send({ stop: true } satisfies Request);

  const entries = collected.l1Entries;
  const perEntry = (bytes: number) => Math.round(bytes / Math.max(entries, 1));
  const MiB = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
  const growth = (field: "rss" | "heapTotal" | "heapUsed" | "arrayBuffers" | "external") =>
    collected[field] - baseline[field];
  print({
    summary: {
      sets,
      valueBytes,
      maxBytesMiB: MiB(maxBytes),
      setsPerSec: timing.opsPerSec,
      l1Entries: entries,
      l1BytesMiB: MiB(collected.l1Bytes),
      rssMiB: { baseline: MiB(baseline.rss), loaded: MiB(loaded.rss), afterGc: MiB(collected.rss) },
      rssOverMaxBytes: {
        loaded: Number((loaded.rss / maxBytes).toFixed(2)),
        afterGc: Number((collected.rss / maxBytes).toFixed(2)),
      },
      rssGrowthOverL1Bytes: Number((growth("rss") / Math.max(collected.l1Bytes, 1)).toFixed(2)),
      // Where the growth since startup sits, after a full GC (MiB): live V8 objects, V8 pages
      // committed but empty (new space, fragmented old space), ArrayBuffer backing stores, and
      // the rest of the RSS (malloc: HTTP/2 and gRPC buffers, allocator slack).
      growthMiB: {
        rss: MiB(growth("rss")),
        v8Live: MiB(growth("heapUsed")),
        v8CommittedUnused: MiB(growth("heapTotal") - growth("heapUsed")),
        arrayBuffers: MiB(growth("arrayBuffers")),
        otherExternal: MiB(growth("external") - growth("arrayBuffers")),
        outsideV8: MiB(growth("rss") - growth("heapTotal") - growth("external")),
      },
      // What an entry costs beyond its value bytes, after a full GC.
      bytesPerEntry: {
        l1Counts: perEntry(collected.l1Bytes) - valueBytes,
        rss: perEntry(growth("rss")) - valueBytes,
        v8Live: perEntry(growth("heapUsed")),
        arrayBuffers: perEntry(growth("arrayBuffers")) - valueBytes,
      },
    },
  });
}

if (values.serve) await serve();
else await drive();
