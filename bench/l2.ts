/**
 * What L2 costs. Two comparisons, each in one run:
 *  1. In process: the engine's L2-hit path (L1 bypassed; also through the library's Cache) against
 *     a direct ioredis GET of the same value at the same concurrency: ioredis as it comes (the
 *     peer an outsider would pick) and auto-pipelined (as the layer's client). The sides take
 *     turns in chunks of `--chunk` calls, so the machine's load falls on all of them alike. A
 *     GET over a bare socket (no client library) is the floor under every Node client.
 *     Targets: throughput ≥ 0.9× at 1 in flight, ≥ 0.75× at any; p50 ≤ 1.3×.
 *  2. Over the API: Get with L1 bypassed against Get answered by L1, same grpc-js client and
 *     concurrency: the cost of L2 per call (`--in-process` skips it).
 * Prints one JSON line per measurement and one per ratio.
 *
 *   npm run bench:l2 -- --ops 20000 --concurrency 32
 *   npm run bench:l2 -- --in-process --concurrency 1 --ops 8000 --runs 5
 */
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { parseConfig } from "../src/config/config.js";
import { CacheManager } from "../src/engine/cache-manager.js";
import { CacheService } from "../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer } from "../src/gen/mlcache/v1/common_pb.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { encodeEntry } from "../src/layers/redis/envelope.js";
import { RedisLayer } from "../src/layers/redis/redis-layer.js";
import { Cache } from "../src/library.js";
import { startService } from "../src/server.js";
import { createGrpcJsClient } from "../test/support/service.js";
import { measure, measureInterleaved, medianOf, redisForBench } from "./support.js";

const { values } = parseArgs({
  options: {
    ops: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "32" },
    runs: { type: "string", default: "5" },
    "value-bytes": { type: "string", default: "512" },
    /** Calls a side makes before the next side's turn (in-process case). */
    chunk: { type: "string", default: "250" },
    /** Skip the comparison over the API (case 2). */
    "in-process": { type: "boolean", default: false },
  },
});
const ops = Number(values.ops);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);
const chunk = Number(values.chunk);
const measured0 = { opsPerSec: 0, p50: 0, p99: 0 };
const value = new Uint8Array(Number(values["value-bytes"])).fill(7);
const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "l2", ...line }));

/**
 * Not a client library, a floor: GET over a bare socket, replies matched to requests in order
 * (no reconnects, no TLS, no error replies, bulk strings only). What any Node Redis client's
 * round trip can at best come down to on this machine.
 */
class BareGet {
  private readonly waiting: ((value: Buffer | null) => void)[] = [];
  private pending: Buffer = Buffer.alloc(0);
  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.read(chunk));
  }

  static async connect(url: string): Promise<BareGet> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port || 6379), hostname);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new BareGet(socket);
  }

  get(key: string): Promise<Buffer | null> {
    this.socket.write(`*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const header = this.pending.indexOf("\r\n");
      if (header < 0) return;
      const size = Number(this.pending.subarray(1, header).toString());
      const end = size < 0 ? header + 2 : header + 2 + size + 2;
      if (this.pending.length < end) return;
      const value = size < 0 ? null : this.pending.subarray(header + 2, header + 2 + size);
      this.pending = this.pending.subarray(end);
      this.waiting.shift()?.(value);
    }
  }
}

const redis = await redisForBench();
try {
  // 1. In process.
  const prefix = `bench-${Date.now()}:`;
  const layer = new RedisLayer({ url: redis.url, keyPrefix: prefix });
  await layer.waitUntilReady();
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 * 1024 * 1024, maxEntries: 100_000 }),
    l2: layer,
  });
  const keys = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
  for (const key of keys) await manager.set("bench", key, value);
  const direct = new Redis(redis.url, { enableAutoPipelining: true });
  // The peer reads the same envelope bytes from a key of its own.
  const sample = encodeEntry({
    value,
    createdAt: Date.now(),
    freshUntil: Date.now() + 3_600_000,
    expiresAt: Date.now() + 3_600_000,
    staleUntil: Date.now() + 7_200_000,
    version: 1n,
    tags: [],
    flags: 0,
    loadMs: 0,
  });
  for (const key of keys) await direct.set(`${prefix}direct:${key}`, sample, "PX", 3_600_000);

  // The outsider's peer: ioredis as it comes (no auto-pipelining), one GET per read.
  const plain = new Redis(redis.url);
  const bare = await BareGet.connect(redis.url);
  const library = Cache.builder().l2(layer).build();

  const key = (i: number) => keys[i % keys.length] as string;
  const ours = "mlcache L2 hit (engine, L1 bypassed)";
  const viaLibrary = "mlcache L2 hit (library Cache, L1 bypassed)";
  const peer = "ioredis GET";
  const pipelinedPeer = "ioredis GET (auto-pipelined)";
  const floor = "bare socket GET (no client library)";
  const sides: Record<string, (i: number) => Promise<unknown>> = {
    [ours]: (i) => manager.get("bench", key(i), { bypassL1: true }),
    [viaLibrary]: (i) => library.get("bench", key(i), { bypassL1: true }),
    // The Redis layer alone, without the engine: splits the cost of the read path.
    "mlcache RedisLayer.get": (i) => layer.get("bench", key(i)),
    [peer]: (i) => plain.getBuffer(`${prefix}direct:${key(i)}`),
    [pipelinedPeer]: (i) => direct.getBuffer(`${prefix}direct:${key(i)}`),
    [floor]: (i) => bare.get(`${prefix}direct:${key(i)}`),
    // Not a peer, but it splits the cost: the Redis work of a lone engine read (the value and the
    // namespace's stamp version in one MGET) without the engine around it. Reads started together
    // share one MGET, so at higher concurrency the engine asks Redis for less than this.
    "ioredis MGET value+stamp version": (i) =>
      plain.mgetBuffer(`${prefix}direct:${key(i)}`, `${prefix}{bench}:stamps:v`),
  };
  // Several runs, each interleaving every side in chunks of `chunk` calls; a ratio is taken
  // within a run, then the median and range over the runs reported.
  const runResults: Map<string, Awaited<ReturnType<typeof measure>>>[] = [];
  for (let run = 0; run < runs; run++) runResults.push(await measureInterleaved(sides, ops, concurrency, chunk));
  for (const name of Object.keys(sides)) {
    print({
      case: "in-process",
      impl: name,
      concurrency,
      ...medianOf(runResults.map((r) => r.get(name) ?? measured0)),
    });
  }
  const spread = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => Number((sorted[Math.floor(q * (sorted.length - 1))] ?? 0).toFixed(3));
    return { median: at(0.5), min: at(0), max: at(1) };
  };
  for (const [a, b] of [
    [ours, peer],
    [viaLibrary, peer],
    [ours, pipelinedPeer],
    ["mlcache RedisLayer.get", peer],
    ["ioredis MGET value+stamp version", peer],
    [ours, floor],
    [peer, floor],
  ] as const) {
    const ratio = (field: "opsPerSec" | "p50") =>
      spread(runResults.map((r) => (r.get(a)?.[field] ?? 0) / (r.get(b)?.[field] ?? 1)));
    print({
      case: "in-process",
      ratio: `${a} / ${b}`,
      concurrency,
      throughput: ratio("opsPerSec"),
      p50: ratio("p50"),
      targets: "throughput >= 0.9 (1 in flight), >= 0.75 (any); p50 <= 1.3",
    });
  }
  plain.disconnect();
  bare.close();
  direct.disconnect();
  await layer.close();

  if (!values["in-process"]) {
    // 2. Over the API.
    const service = await startService(
      parseConfig({
        server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 },
        log: { level: "silent" },
        redis: { url: redis.url, keyPrefix: `${prefix}api:` },
      }),
    );
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    for (const key of keys) await client.set({ namespace: "bench", key, value });
    const apiOps = Math.min(ops, 10_000);
    const l1Runs: Awaited<ReturnType<typeof measure>>[] = [];
    const l2Runs: Awaited<ReturnType<typeof measure>>[] = [];
    for (let run = 0; run < runs; run++) {
      l1Runs.push(
        await measure((i) => client.get({ namespace: "bench", key: keys[i % keys.length] }), apiOps, concurrency),
      );
      l2Runs.push(
        await measure(
          (i) =>
            client.get({
              namespace: "bench",
              key: keys[i % keys.length],
              options: { bypassLayers: [CacheLayer.L1] },
            }),
          apiOps,
          concurrency,
        ),
      );
    }
    const viaL1 = medianOf(l1Runs);
    const viaL2 = medianOf(l2Runs);
    print({ case: "api", impl: "Get answered by L1", concurrency, ...viaL1 });
    print({ case: "api", impl: "Get with L1 bypassed (L2)", concurrency, ...viaL2 });
    print({
      case: "api",
      ratio: "L2/L1",
      throughput: Number((viaL2.opsPerSec / viaL1.opsPerSec).toFixed(3)),
      p50: Number((viaL2.p50 / viaL1.p50).toFixed(3)),
      l2CostPerCallMs: Number((viaL2.p50 - viaL1.p50).toFixed(3)),
    });
    client.close();
    await service.close();
  }
} finally {
  await redis.stop();
}
