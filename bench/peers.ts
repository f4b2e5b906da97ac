/**
 * MultilayerCache as a library against its TypeScript peers, BentoCache and cache-manager
 * (Keyv stores), on the same workloads in one run. Every round runs every case for every
 * library, the order of the libraries rotated each round; the medians over rounds are
 * compared as ratios (ours / peer: above 1 we are faster, or for time, slower), and so is
 * each round's own ratio (`pairedMedian`: the median of ours / peer within a round).
 *
 * Each library in its own idiom, with the same data: 10,000 keys of 512-byte values, a
 * Zipf(0.99) stream of keys, a TTL of one hour.
 *  - ours: `Cache` from the builder (L1 only, or L1 + `RedisLayer`), values as bytes; for L2
 *    alone a `CacheManager` with no L1.
 *  - BentoCache: `bentostore()` with `memoryDriver` (lru-cache, values serialized) and/or
 *    `redisDriver` (ioredis), values as strings.
 *  - cache-manager: `createCache` over Keyv stores: Keyv's default Map for L1, `@keyv/redis`
 *    (node-redis) for Redis, values as strings (Keyv serializes them with their expiry).
 *
 * Cases: L1 get and getOrSet hits, L1 set (one caller, awaited in turn); L1 + Redis getOrSet
 * hits; L2-only get hits at 1 and 32 in flight; L1 + Redis set at 32 in flight; 1,000 callers
 * of getOrSet on one missing key (factory 50 ms), counting factory calls, in one instance and
 * spread over two instances of the tiered stack on the same Redis (a fleet of two processes).
 * Each result also carries the process's CPU time per call (`cpuUsPerOp`: user + system, all
 * threads, so background work of the run counts too), and a stampede the time the cache added
 * to the factory's (`addedMs`).
 *
 * Prints one JSON line per result and per ratio on stdout, a table on stderr, and writes
 * every line to `--out` (bench/results/peers.jsonl) for `npm run bench:plots`.
 *
 *   npm run bench:peers -- --rounds 5
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import KeyvRedis from "@keyv/redis";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisDriver } from "bentocache/drivers/redis";
import { createCache } from "cache-manager";
import { Redis } from "ioredis";
import { Keyv } from "keyv";
import { RedisLayer } from "../src/exports/redis.js";
import { Cache, CacheManager, defaultSettings, PolicyBuilder, PolicyStore } from "../src/index.js";
import { measure, redisForBench } from "./support.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    keys: { type: "string", default: "10000" },
    "l1-ops": { type: "string", default: "200000" },
    "l2-ops": { type: "string", default: "10000" },
    "value-bytes": { type: "string", default: "512" },
    callers: { type: "string", default: "1000" },
    "factory-ms": { type: "string", default: "50" },
    out: { type: "string", default: "bench/results/peers.jsonl" },
    /** Only the cases whose names contain this text (all by default). */
    only: { type: "string", default: "" },
  },
});
const rounds = Number(args.rounds);
const keyCount = Number(args.keys);
const l1Ops = Number(args["l1-ops"]);
const l2Ops = Number(args["l2-ops"]);
const valueBytes = Number(args["value-bytes"]);
const callers = Number(args.callers);
const factoryMsWanted = Number(args["factory-ms"]);
const TTL_MS = 3_600_000;

const keys = Array.from({ length: keyCount }, (_, i) => `key:${i}`);
const zipf = zipfSampler(keyCount, 0.99, mulberry32(42));
const stream = Int32Array.from({ length: Math.max(l1Ops, l2Ops) }, () => zipf());
const keyAt = (i: number) => keys[stream[i % stream.length]!]!;
const bytes = new Uint8Array(valueBytes).fill(0x61);
const text = "a".repeat(valueBytes);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The operations every library offers, each on the stack it is measured on. */
interface Stack {
  get(key: string): Promise<unknown>;
  /** Whether `key` is cached: checked once for every key before the rounds. */
  has(key: string): Promise<boolean>;
  getOrSet(key: string, factory: () => Promise<void>): Promise<unknown>;
  set(key: string): Promise<unknown>;
}

/** One library: an L1-only, a tiered (L1 + Redis) and an L2-only stack. */
interface Library {
  name: "mlcache" | "bentocache" | "cache-manager";
  l1: Stack;
  tiered: Stack;
  l2: Stack;
  /** Two instances of the tiered stack (each its own L1 and connection) sharing one Redis. */
  fleet: [Stack, Stack];
  close(): Promise<void>;
}

/** Factory calls seen by the hit cases: more than zero means a case was not all hits. */
let misses = 0;
const countMiss = async () => {
  misses++;
};

async function ours(redisUrl: string, prefix: string): Promise<Library> {
  const namespace = "bench";
  const policy = (builder: PolicyBuilder) => builder.ttl(TTL_MS).jitter(0);
  const stackOf = (cache: { get: Cache["get"]; set: Cache["set"]; getOrSet: Cache["getOrSet"] }): Stack => ({
    get: (key) => cache.get(namespace, key),
    has: async (key) => (await cache.get(namespace, key)).found,
    getOrSet: (key, factory) =>
      cache.getOrSet(namespace, key, async () => {
        await factory();
        return bytes;
      }),
    set: (key) => cache.set(namespace, key, bytes),
  });
  const tieredLayer = new RedisLayer({ url: redisUrl, keyPrefix: `${prefix}mlc:tiered:` });
  const l2Layer = new RedisLayer({ url: redisUrl, keyPrefix: `${prefix}mlc:l2:` });
  const fleetLayers = [0, 1].map(() => new RedisLayer({ url: redisUrl, keyPrefix: `${prefix}mlc:fleet:` }));
  // Before it is connected the layer queues writes and answers reads as misses.
  await Promise.all([tieredLayer, l2Layer, ...fleetLayers].map((layer) => layer.waitUntilReady()));
  const fleet = fleetLayers.map((layer) =>
    Cache.builder().l1({ maxEntries: 100_000, maxBytes: "64MiB" }).l2(layer).defaultPolicy(policy).build(),
  );
  const l1 = Cache.builder().l1({ maxEntries: 100_000, maxBytes: "64MiB" }).defaultPolicy(policy).build();
  const tiered = Cache.builder()
    .l1({ maxEntries: 100_000, maxBytes: "64MiB" })
    .l2(tieredLayer)
    .defaultPolicy(policy)
    .build();
  // L1 disabled: the manager has no L1 layer at all.
  const l2Only = new Cache(
    new CacheManager({ l2: l2Layer, policies: new PolicyStore(policy(new PolicyBuilder(defaultSettings())).settings) }),
  );
  return {
    name: "mlcache",
    l1: stackOf(l1),
    tiered: stackOf(tiered),
    l2: stackOf(l2Only),
    fleet: [stackOf(fleet[0]!), stackOf(fleet[1]!)],
    async close() {
      for (const cache of [l1, tiered, l2Only, ...fleet]) cache.close();
      await Promise.all([tieredLayer, l2Layer, ...fleetLayers].map((layer) => layer.close()));
    },
  };
}

function bento(redisUrl: string, prefix: string): Library {
  const connections = [new Redis(redisUrl), new Redis(redisUrl), new Redis(redisUrl), new Redis(redisUrl)];
  const memory = () => memoryDriver({ maxItems: 100_000, maxSize: 64 * 1024 * 1024 });
  // Two instances of a tiered store on one Redis, as two processes of a fleet would have.
  const fleet = [2, 3].map(
    (i) =>
      new BentoCache({
        default: "tiered",
        ttl: TTL_MS,
        stores: {
          tiered: bentostore({ prefix: `${prefix}bento:fleet` })
            .useL1Layer(memory())
            .useL2Layer(redisDriver({ connection: connections[i]! })),
        },
      }),
  );
  const cache = new BentoCache({
    default: "l1",
    ttl: TTL_MS,
    stores: {
      l1: bentostore().useL1Layer(memory()),
      tiered: bentostore({ prefix: `${prefix}bento:tiered` })
        .useL1Layer(memory())
        .useL2Layer(redisDriver({ connection: connections[0]! })),
      l2: bentostore({ prefix: `${prefix}bento:l2` }).useL2Layer(redisDriver({ connection: connections[1]! })),
    },
  });
  const stackOf = (store: "l1" | "tiered" | "l2", instance = cache): Stack => {
    const bentoStore = instance.use(store);
    return {
      get: (key) => bentoStore.get({ key }),
      has: async (key) => (await bentoStore.get({ key })) !== undefined,
      getOrSet: (key, factory) =>
        bentoStore.getOrSet({
          key,
          factory: async () => {
            await factory();
            return text;
          },
        }),
      set: (key) => bentoStore.set({ key, value: text }),
    };
  };
  return {
    name: "bentocache",
    l1: stackOf("l1"),
    tiered: stackOf("tiered"),
    l2: stackOf("l2"),
    fleet: [
      stackOf("tiered", fleet[0] as unknown as typeof cache),
      stackOf("tiered", fleet[1] as unknown as typeof cache),
    ],
    async close() {
      await Promise.all([cache, ...fleet].map((instance) => instance.disconnectAll()));
      for (const connection of connections) connection.disconnect();
    },
  };
}

function cacheManager(redisUrl: string, prefix: string): Library {
  // Keyv's default store, a Map (unbounded; all keys fit in every L1 here anyway). lru-cache 11
  // is no Keyv store any more: it throws on Keyv's numeric TTL argument, and Keyv swallows that.
  const memory = () => new Keyv();
  const redis = (namespace: string) => new Keyv({ store: new KeyvRedis(redisUrl), namespace });
  const l1 = createCache({ stores: [memory()], ttl: TTL_MS });
  const tiered = createCache({ stores: [memory(), redis(`${prefix}cm:tiered`)], ttl: TTL_MS });
  const l2 = createCache({ stores: [redis(`${prefix}cm:l2`)], ttl: TTL_MS });
  const fleet = [0, 1].map(() => createCache({ stores: [memory(), redis(`${prefix}cm:fleet`)], ttl: TTL_MS }));
  const stackOf = (cache: typeof l1): Stack => ({
    get: (key) => cache.get(key),
    has: async (key) => (await cache.get(key)) !== undefined,
    getOrSet: (key, factory) =>
      cache.wrap(key, async () => {
        await factory();
        return text;
      }),
    set: (key) => cache.set(key, text),
  });
  return {
    name: "cache-manager",
    l1: stackOf(l1),
    tiered: stackOf(tiered),
    l2: stackOf(l2),
    fleet: [stackOf(fleet[0]!), stackOf(fleet[1]!)],
    async close() {
      await Promise.all([l1, tiered, l2, ...fleet].map((cache) => cache.disconnect()));
    },
  };
}

/** Throughput of `ops` calls awaited one after another (no per-call timer: L1 calls are short). */
async function sequential(op: (i: number) => Promise<unknown>, ops: number): Promise<{ opsPerSec: number }> {
  const started = performance.now();
  for (let i = 0; i < ops; i++) await op(i);
  return { opsPerSec: Math.round(ops / ((performance.now() - started) / 1000)) };
}

/** `sequential` for cases meant to be all hits, with the factory calls they made (`misses`). */
async function hits(op: (i: number) => Promise<unknown>, ops: number): Promise<{ opsPerSec: number; misses: number }> {
  misses = 0;
  const { opsPerSec } = await sequential(op, ops);
  return { opsPerSec, misses };
}

/**
 * `callers` concurrent getOrSet calls of one missing key, spread over `stacks` (instances):
 * factory calls, the time until all answered, and of it the time the cache added to the
 * factory's own (from the first call to the first factory call, and from that factory call's
 * end to the last answer).
 */
async function stampede(
  stacks: readonly Stack[],
  key: string,
): Promise<{ factoryCalls: number; ms: number; addedMs: number }> {
  let factoryCalls = 0;
  let factoryMs = 0;
  const factory = async () => {
    const call = ++factoryCalls;
    const started = performance.now();
    await sleep(factoryMsWanted);
    if (call === 1) factoryMs = performance.now() - started;
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, (_, i) => (stacks[i % stacks.length] as Stack).getOrSet(key, factory)),
  );
  const ms = performance.now() - started;
  return { factoryCalls, ms: round1(ms), addedMs: round1(ms - factoryMs) };
}

type Result = Record<string, number>;
interface Case {
  name: string;
  /** Calls per run (for the stampede: callers). */
  ops: number;
  /** What the case measures, for the table. */
  run(library: Library, round: number): Promise<Result>;
}
const cases: Case[] = [
  { name: "L1 get hit (Zipf)", ops: l1Ops, run: (lib) => sequential((i) => lib.l1.get(keyAt(i)), l1Ops) },
  {
    name: "L1 getOrSet hit (Zipf)",
    ops: l1Ops,
    run: (lib) => hits((i) => lib.l1.getOrSet(keyAt(i), countMiss), l1Ops),
  },
  {
    name: "L1+Redis getOrSet hit (Zipf)",
    ops: l1Ops,
    run: (lib) => hits((i) => lib.tiered.getOrSet(keyAt(i), countMiss), l1Ops),
  },
  { name: "L1 set (Zipf)", ops: l1Ops, run: (lib) => sequential((i) => lib.l1.set(keyAt(i)), l1Ops) },
  {
    name: "L2-only get hit, 1 in flight",
    ops: l2Ops,
    run: (lib) => measure((i) => lib.l2.get(keyAt(i)), l2Ops, 1),
  },
  {
    name: "L2-only get hit, 32 in flight",
    ops: l2Ops * 2,
    run: (lib) => measure((i) => lib.l2.get(keyAt(i)), l2Ops * 2, 32),
  },
  {
    name: "L1+Redis set, 32 in flight",
    ops: l2Ops,
    run: (lib) => measure((i) => lib.tiered.set(keyAt(i)), l2Ops, 32),
  },
  {
    name: `stampede: ${callers} getOrSet of one key (L1+Redis)`,
    ops: callers,
    run: (lib, round) => stampede([lib.tiered], `stampede:${round}`),
  },
  {
    name: `fleet stampede: 2 instances × ${callers / 2} getOrSet of one key`,
    ops: callers,
    run: (lib, round) => stampede(lib.fleet, `fleet-stampede:${round}`),
  },
];

const chosen = cases.filter((c) => c.name.includes(args.only));
if (chosen.length === 0) throw new Error(`no case matches --only ${args.only}`);
const redis = await redisForBench();
const prefix = `bench-peers-${Date.now()}:`;
const libraries = [await ours(redis.url, prefix), bento(redis.url, prefix), cacheManager(redis.url, prefix)];
const lines: Record<string, unknown>[] = [];
const emit = (line: Record<string, unknown>) => {
  const full = { bench: "peers", ...line };
  lines.push(full);
  console.log(JSON.stringify(full));
};
try {
  // Every stack holds every key before the first round; a first pass warms the JIT.
  for (const library of libraries) {
    for (const key of keys) await Promise.all([library.l1.set(key), library.tiered.set(key), library.l2.set(key)]);
    for (const stack of ["l1", "tiered", "l2"] as const) {
      for (const key of keys) {
        if (!(await library[stack].has(key))) throw new Error(`${library.name} ${stack}: ${key} was not cached`);
      }
    }
    await sequential((i) => library.l1.get(keyAt(i)), 20_000);
    await sequential((i) => library.tiered.getOrSet(keyAt(i), countMiss), 20_000);
    await measure((i) => library.l2.get(keyAt(i)), 2_000, 8);
    for (let i = 0; i < 3; i++) await stampede([library.tiered, ...library.fleet], `warm-stampede:${i}`);
  }

  const results = new Map<string, Result[]>(); // "case|library" → one result per round
  for (let round = 0; round < rounds; round++) {
    for (const benchCase of chosen) {
      const order = libraries.map((_, i) => libraries[(i + round) % libraries.length]!);
      for (const library of order) {
        const cpu = process.cpuUsage();
        const result = await benchCase.run(library, round);
        const { user, system } = process.cpuUsage(cpu);
        // The CPU the process spent per call (the library, its client and the loop driving it).
        result.cpuUsPerOp = round3((user + system) / benchCase.ops);
        const id = `${benchCase.name}|${library.name}`;
        results.set(id, [...(results.get(id) ?? []), result]);
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds} done (load average ${loadavg()[0]?.toFixed(2)})\n`);
  }

  emit({
    meta: true,
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: Number(loadavg()[0]?.toFixed(2)),
    rounds,
    keys: keyCount,
    valueBytes,
    zipf: 0.99,
  });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const table: string[][] = [];
  for (const benchCase of chosen) {
    const medians = new Map<string, Result>();
    for (const library of libraries) {
      const runs = results.get(`${benchCase.name}|${library.name}`)!;
      const fields = Object.keys(runs[0]!);
      const medianResult = Object.fromEntries(fields.map((f) => [f, median(runs.map((r) => r[f]!))]));
      medians.set(library.name, medianResult);
      emit({ case: benchCase.name, impl: library.name, ...medianResult, runs: runs.map((r) => r.opsPerSec ?? r.ms) });
    }
    const mine = medians.get("mlcache")!;
    const row = [benchCase.name, ...libraries.map((l) => describe(medians.get(l.name)!))];
    for (const peer of libraries.slice(1)) {
      const theirs = medians.get(peer.name)!;
      const ratio: Record<string, number | string> =
        mine.opsPerSec !== undefined
          ? { throughput: round3(mine.opsPerSec / theirs.opsPerSec!) }
          : {
              time: round3(mine.ms! / theirs.ms!),
              addedTime: round3(mine.addedMs! / theirs.addedMs!),
              factoryCalls: `${mine.factoryCalls} vs ${theirs.factoryCalls}`,
            };
      if (mine.p50 !== undefined) Object.assign(ratio, { p50: round3(mine.p50 / theirs.p50!) });
      // CPU per call (below 1 ours spends less): what a busy process would feel.
      Object.assign(ratio, { cpu: round3(mine.cpuUsPerOp! / theirs.cpuUsPerOp!) });
      // The same ratio taken within each round (both sides ran minutes apart at most, under the
      // same load), then the median: steadier than the ratio of medians on a busy machine.
      const field = mine.opsPerSec !== undefined ? "opsPerSec" : "ms";
      const ourRuns = results.get(`${benchCase.name}|mlcache`)!;
      const theirRuns = results.get(`${benchCase.name}|${peer.name}`)!;
      const paired = round3(median(ourRuns.map((r, i) => r[field]! / theirRuns[i]![field]!)));
      emit({ case: benchCase.name, ratio: `mlcache/${peer.name}`, ...ratio, pairedMedian: paired });
      const added = "addedTime" in ratio ? `, added ${ratio.addedTime}×` : "";
      row.push(`${Object.values(ratio)[0]}× (paired ${paired}×)${added}, cpu ${ratio.cpu}×`);
    }
    table.push(row);
  }
  printTable(["case", ...libraries.map((l) => l.name), ...libraries.slice(1).map((l) => `ours/${l.name}`)], table);
  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
    process.stderr.write(`wrote ${args.out}\n`);
  }
} finally {
  for (const library of libraries) await library.close();
  await redis.stop();
}

function round1(x: number): number {
  return Number(x.toFixed(1));
}

function round3(x: number): number {
  return Number(x.toFixed(3));
}

function describe(result: Result): string {
  if (result.opsPerSec === undefined) {
    return `${result.ms} ms (+${result.addedMs}), ${result.factoryCalls} calls`;
  }
  const rate =
    result.opsPerSec >= 1e6
      ? `${(result.opsPerSec / 1e6).toFixed(2)} M/s`
      : `${Math.round(result.opsPerSec / 1e3)} k/s`;
  const missed = result.misses ? `, ${result.misses} misses` : "";
  return result.p50 === undefined ? `${rate}${missed}` : `${rate}, p50 ${result.p50} ms`;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  process.stderr.write(`${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`);
}
