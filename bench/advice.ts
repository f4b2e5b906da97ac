/**
 * Does the usage advice pay? A labelled synthetic trace (regular, bursty, steady-hot, one-hit and
 * declining keys; bench/usage-traces.ts) is analysed by the usage telemetry, which proposes key
 * rules; then a second trace of the same keys (other arrival times: train on one, test on the
 * other) is replayed through the library engine on a manual clock with a counting loader, once
 * with the namespace policy alone (unadvised) and once with the proposed rules applied. Key
 * rules are not in the engine yet, so a rule is applied as its own namespace whose policy is the
 * base policy with the rule's overrides, and each key reads through the namespace of the first
 * rule matching it (what a rule list does). `admit: false` is applied as the rule's short TTL.
 *
 * A read is a hit when it was answered without waiting for the loader (fresh, or served while a
 * refresh runs behind it); loads are all loader calls, refreshes included.
 *
 * Second part: the cost of the arrival sampler on the Get path (in-process L1 hits through the
 * telemetry stats sink), sampler off vs on, alternating rounds, and its memory per tracked key.
 *
 *   npm run bench:advice [-- --seed 1 --keys 20 --minutes 60 --ttl 30s --max-ttl 0 --rounds 7]
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { parseDuration } from "../src/config/units.js";
import { CacheManager } from "../src/engine/cache-manager.js";
import { ManualClock } from "../src/engine/clock.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { Cache } from "../src/library.js";
import { createTelemetry } from "../src/telemetry/telemetry.js";
import { type ProposedRule, UsageAnalyzer, usageDefaults } from "../src/telemetry/usage/analyzer.js";
import { classify, type UsagePattern } from "../src/telemetry/usage/classify.js";
import { medianOf } from "./support.js";
import { type LabelledTrace, usageTrace } from "./usage-traces.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const { values: args } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    keys: { type: "string", default: "20" },
    minutes: { type: "string", default: "60" },
    ttl: { type: "string", default: "30s" },
    "load-ms": { type: "string", default: "50" },
    rounds: { type: "string", default: "7" },
    "max-ttl": { type: "string", default: "0" },
  },
});
const seed = Number(args.seed);
const ttlMs = parseDuration(args.ttl);
const loadMs = Number(args["load-ms"]);
const maxTtlMs = args["max-ttl"] === "0" ? 0 : parseDuration(args["max-ttl"]);
const START = 1_800_000_000_000;
const NS = "bench";
const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function trace(noiseSeed: number): LabelledTrace {
  return usageTrace({
    seed,
    noiseSeed,
    durationMs: Number(args.minutes) * 60_000,
    keysPerPattern: Number(args.keys),
    jitter: 0.15,
  });
}

/** Learns on one trace: the sampler sees every read (as the stats sink feeds it), then Advise. */
function learn(train: LabelledTrace): ProposedRule[] {
  const usage = new UsageAnalyzer({ ...usageDefaults, sampleOneIn: 1, maxTtlMs: maxTtlMs });
  for (const a of train.arrivals) usage.observe(NS, a.key, START + a.at);
  const now = START + train.durationMs;
  const right = new Map<UsagePattern, [number, number]>();
  for (const { key, times, arrivals } of usage.sampler.keysOf(NS)) {
    const truth = train.truth.get(key) as UsagePattern;
    const { pattern } = classify(times, arrivals, now, usage.config);
    const [ok, all] = right.get(truth) ?? [0, 0];
    right.set(truth, [ok + (pattern === truth ? 1 : 0), all + 1]);
  }
  out({
    bench: "advice",
    phase: "classify",
    accuracy: Object.fromEntries([...right].map(([p, [ok, all]]) => [p, Number((ok / all).toFixed(3))])),
  });
  const advice = usage.advise(NS, now, { ttlMs, freshForMs: ttlMs, earlyRefresh: false, loadMs });
  out({
    bench: "advice",
    phase: "advise",
    families: advice.families.map((f) => ({ family: f.family, pattern: f.pattern, keys: f.keys })),
    rules: advice.rules.map((r) => ({
      name: r.name,
      match: `${r.match.kind}:${r.match.value}`,
      ttlMs: r.ttlMs,
      freshForMs: r.freshForMs,
      earlyRefresh: r.earlyRefresh,
      admit: r.admission,
    })),
  });
  return advice.rules;
}

function matcher(rule: ProposedRule): (key: string) => boolean {
  const { kind, value } = rule.match;
  if (kind === "exact") return (key) => key === value;
  if (kind === "prefix") return (key) => key.startsWith(value);
  // `*` within one `:` segment, as key-rule globs.
  const pattern = new RegExp(
    `^${value
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^:]*")}$`,
  );
  return (key) => pattern.test(key);
}

interface Tally {
  reads: number;
  hits: number;
  loads: number;
}

/** Replays a trace with the rules applied (none: the namespace policy alone). */
async function replay(test: LabelledTrace, rules: readonly ProposedRule[]) {
  const clock = new ManualClock(START);
  let loads = 0;
  const loadsOf = new Map<string, number>();
  const builder = Cache.builder()
    .withClock(clock)
    .l1({ maxBytes: "1GiB", maxEntries: 1_000_000 })
    .defaultPolicy((p) => p.ttl(ttlMs).jitter(0).failSafe(0));
  const namespaces = [NS, ...rules.map((_, i) => `rule${i}`)];
  rules.forEach((rule, i) => {
    builder.namespace(`rule${i}`, (p) => {
      p.ttl(Math.max(1, rule.ttlMs)).freshFor(rule.freshForMs);
      return rule.earlyRefresh ? p.earlyRefresh() : p;
    });
  });
  for (const namespace of namespaces) {
    builder.loader(namespace, async (key) => {
      loads++;
      loadsOf.set(key, (loadsOf.get(key) ?? 0) + 1);
      return "v";
    });
  }
  const cache = builder.build();
  const matchers = rules.map(matcher);
  const route = new Map<string, string>();
  const tally = new Map<UsagePattern, Tally>();
  for (const a of test.arrivals) {
    clock.set(START + a.at);
    let namespace = route.get(a.key);
    if (!namespace) {
      const index = matchers.findIndex((m) => m(a.key));
      namespace = index < 0 ? NS : `rule${index}`;
      route.set(a.key, namespace);
    }
    const lookup = await cache.get(namespace, a.key);
    // Lets a refresh started behind the read finish before the next read (loads take no synthetic time).
    await new Promise(setImmediate);
    const truth = test.truth.get(a.key) as UsagePattern;
    const t = tally.get(truth) ?? { reads: 0, hits: 0, loads: 0 };
    t.reads++;
    if (lookup.source !== "loader") t.hits++;
    tally.set(truth, t);
  }
  for (const [key, count] of loadsOf) {
    const t = tally.get(test.truth.get(key) as UsagePattern);
    if (t) t.loads += count;
  }
  cache.close();
  const reads = test.arrivals.length;
  const hits = [...tally.values()].reduce((sum, t) => sum + t.hits, 0);
  return {
    reads,
    hits,
    hitRatio: Number((hits / reads).toFixed(4)),
    loads,
    perPattern: Object.fromEntries(
      [...tally].map(([p, t]) => [p, { ...t, hitRatio: Number((t.hits / t.reads).toFixed(3)) }]),
    ),
  };
}

/** ns per in-process L1-hit Get through the telemetry sink, with the arrival sampler off and on. */
async function samplerCost(): Promise<void> {
  const keys = 10_000;
  const calls = 400_000;
  const value = new TextEncoder().encode("x".repeat(100));
  const make = (usage: Partial<typeof usageDefaults>) => {
    const telemetry = createTelemetry({
      instanceId: "bench",
      logger: pino({ level: "silent" }),
      config: { usage },
    });
    const manager = new CacheManager({
      l1: new MemoryLayer({ maxBytes: 256 * 1024 * 1024, maxEntries: 100_000 }),
      statsSink: telemetry.statsSink,
    });
    return { manager, sink: telemetry.statsSink };
  };
  const sides = {
    off: make({ enabled: false }),
    default: make({}),
    all: make({ sampleOneIn: 1, maxKeys: keys }),
  };
  const next = zipfSampler(keys, 0.9, mulberry32(seed));
  const sequence = Array.from({ length: calls }, () => `k${next()}`);
  for (const { manager } of Object.values(sides)) {
    for (let i = 0; i < keys; i++) await manager.set(NS, `k${i}`, value);
    for (const key of sequence) await manager.get(NS, key); // warm-up
  }
  const names = Object.keys(sides) as (keyof typeof sides)[];
  const gets: Record<string, number>[] = [];
  const accesses: Record<string, number>[] = [];
  const observes: Record<string, number>[] = [];
  const usage = new UsageAnalyzer(usageDefaults);
  for (let round = 0; round < Number(args.rounds); round++) {
    const get: Record<string, number> = {};
    const access: Record<string, number> = {};
    for (const name of round % 2 ? [...names].reverse() : names) {
      const { manager, sink } = sides[name];
      let began = process.hrtime.bigint();
      for (const key of sequence) await manager.get(NS, key);
      get[name] = Number(process.hrtime.bigint() - began) / calls;
      // The stats sink alone (what the Get path calls per lookup), synchronous.
      began = process.hrtime.bigint();
      for (const key of sequence) sink.access(NS, key, "l1", true);
      access[name] = Number(process.hrtime.bigint() - began) / calls;
    }
    gets.push(get);
    accesses.push(access);
    // The sampler alone (default settings): ns per observe() of the same Zipf keys.
    const began = process.hrtime.bigint();
    for (let i = 0; i < sequence.length; i++) usage.observe(NS, sequence[i] as string, i);
    observes.push({ observe: Number(process.hrtime.bigint() - began) / calls });
  }
  const rounded = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]));
  const get = medianOf(gets);
  const access = medianOf(accesses);
  out({
    bench: "advice",
    phase: "sampler-cost",
    nsPerObserve: Math.round(medianOf(observes).observe ?? 0),
    nsPerSinkAccess: rounded(access),
    nsPerGet: rounded(get),
    getDefaultOverOff: Number(((get.default ?? 0) / (get.off ?? 1)).toFixed(3)),
    getAllOverOff: Number(((get.all ?? 0) / (get.off ?? 1)).toFixed(3)),
  });
}

/** Heap bytes per tracked key of a full sampler (default ring), with --expose-gc. */
function samplerMemory(): { bytesPerKey: number; maxKeys: number; ringSize: number } | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const { maxKeys, ringSize } = usageDefaults;
  // Rings are typed arrays: their bytes are counted in arrayBuffers, not in the heap.
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc();
  const before = used();
  const usage = new UsageAnalyzer({ ...usageDefaults, sampleOneIn: 1 });
  for (let i = 0; i < maxKeys; i++) for (let t = 0; t < ringSize; t++) usage.observe(NS, `key:${i}`, t);
  gc();
  const bytes = used() - before;
  return { bytesPerKey: Math.round(bytes / usage.sampler.size), maxKeys, ringSize };
}

async function main(): Promise<void> {
  // First, while the heap holds nothing else of ours.
  out({ bench: "advice", phase: "sampler-memory", ...samplerMemory() });
  const rules = learn(trace(seed * 1000 + 1));
  const test = trace(seed * 1000 + 2);
  const unadvised = await replay(test, []);
  const advised = await replay(test, rules);
  out({ bench: "advice", phase: "replay", variant: "unadvised", ttlMs, ...unadvised });
  out({ bench: "advice", phase: "replay", variant: "advised", rules: rules.length, ...advised });
  out({
    bench: "advice",
    phase: "summary",
    hitRatio: { unadvised: unadvised.hitRatio, advised: advised.hitRatio },
    loads: { unadvised: unadvised.loads, advised: advised.loads },
    better: advised.hitRatio > unadvised.hitRatio && advised.loads <= unadvised.loads,
  });
  await samplerCost();
}

await main();
