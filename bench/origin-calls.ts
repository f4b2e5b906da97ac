/**
 * Origin calls per 10,000 client requests under a Zipf workload with a flapping origin (up and
 * down in alternating periods). Same engine (CacheManager + L1, short TTLs so misses happen,
 * fail-safe serving stale) in front of two loaders:
 * - `mlcache resilient`: createOrigin's stack (breaker, retry, rate limit, refresh throttle);
 * - `baseline`: the bare origin, no breaker, throttle or rate limit.
 * Prints one JSON line per loader and a ratio line.
 *
 *   npm run bench:origin -- --requests 10000 --keys 1000 --s 0.9 --period 250
 */
import { parseArgs } from "node:util";
import { create, toJson } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { CacheManager } from "../src/engine/cache-manager.js";
import type { Loader, LoadResult } from "../src/engine/loader.js";
import { defaultSettings } from "../src/engine/policy.js";
import { PolicyStore } from "../src/engine/policy-store.js";
import { CacheError, Status } from "../src/errors.js";
import { OriginPolicySchema } from "../src/gen/mlcache/v1/policy_pb.js";
import { MemoryLayer } from "../src/layers/memory-layer.js";
import { createOrigin } from "../src/loaders/origin.js";
import { mulberry32, zipfSampler } from "./workloads.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    keys: { type: "string", default: "1000" },
    s: { type: "string", default: "0.9" },
    /** Length of each up or down period of the origin, in ms. */
    period: { type: "string", default: "250" },
    /** Requests sent every tick (10 ms). */
    "per-tick": { type: "string", default: "50" },
    seed: { type: "string", default: "42" },
  },
});
const requests = Number(values.requests);
const keyCount = Number(values.keys);
const skew = Number(values.s);
const periodMs = Number(values.period);
const perTick = Number(values["per-tick"]);
const tickMs = 10;
const originLatencyMs = 2;

/** An in-process origin that is down in every other period and counts the calls it gets. */
function flappingOrigin(startedAt: () => number): { loader: Loader; calls: () => number } {
  let calls = 0;
  const loader: Loader = {
    load: async (_ns, key): Promise<LoadResult> => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, originLatencyMs));
      const down = Math.floor((Date.now() - startedAt()) / periodMs) % 2 === 1;
      if (down) throw new CacheError(Status.UNAVAILABLE, "origin down (flapping)");
      return { found: true, value: new TextEncoder().encode(`value-of-${key}`) };
    },
  };
  return { loader, calls: () => calls };
}

interface Outcome {
  originCalls: number;
  errorsToClients: number;
  staleServed: number;
  fresh: number;
}

async function run(wrap: (origin: Loader) => { loader: Loader; close(): void }): Promise<Outcome> {
  let started = 0;
  const origin = flappingOrigin(() => started);
  const wrapped = wrap(origin.loader);
  const settings = defaultSettings();
  settings.l1.ttlMs = 100;
  settings.l1.freshForMs = 100;
  settings.l1.jitter = 0.2;
  // Fail-safe serves stale for a long time but does not hold failed keys back itself, so the
  // loaders' own guards are what differs between the runs.
  settings.failSafe = { enabled: true, maxStaleMs: 60_000, throttleMs: 0 };
  settings.loadTimeouts = { softMs: 0, hardMs: 2_000 };
  const cache = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 64 * 1024 * 1024, maxEntries: 100_000 }),
    policies: new PolicyStore(settings),
    loaderFor: () => wrapped.loader,
  });
  const next = zipfSampler(keyCount, skew, mulberry32(Number(values.seed)));
  const outcome: Outcome = { originCalls: 0, errorsToClients: 0, staleServed: 0, fresh: 0 };
  const pending: Promise<void>[] = [];
  started = Date.now();
  for (let sent = 0; sent < requests; ) {
    for (let i = 0; i < perTick && sent < requests; i++, sent++) {
      const key = `key-${next()}`;
      pending.push(
        cache.get("bench", key).then(
          (lookup) => {
            if (lookup.stale) outcome.staleServed++;
            else outcome.fresh++;
          },
          () => {
            outcome.errorsToClients++;
          },
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(pending);
  outcome.originCalls = origin.calls();
  wrapped.close();
  return outcome;
}

const policy = create(OriginPolicySchema, {
  breaker: {
    errorThresholdPercent: 50,
    volumeThreshold: 10,
    resetTimeout: durationFromMs(50),
    rollingWindow: durationFromMs(100),
  },
  retry: { maxAttempts: 2, initialBackoff: durationFromMs(5), maxBackoff: durationFromMs(20) },
  rateLimit: { perSecond: 2000, burst: 200 },
  refreshThrottle: durationFromMs(50),
  maxConcurrency: 64,
});

const resilient = await run((loader) => {
  const origin = createOrigin("bench", policy, { functions: loader });
  return { loader: origin.loader, close: () => origin.close() };
});
const baseline = await run((loader) => ({ loader, close: () => {} }));

const config = {
  keys: keyCount,
  s: skew,
  periodMs,
  perTick,
  tickMs,
  l1TtlMs: 100,
  originLatencyMs,
  loaderPolicy: toJson(OriginPolicySchema, policy),
};
console.log(JSON.stringify({ bench: "origin-calls", impl: "mlcache resilient", requests, ...resilient, config }));
console.log(
  JSON.stringify({
    bench: "origin-calls",
    impl: "baseline (no breaker/throttle/rate limit)",
    requests,
    ...baseline,
    config,
  }),
);
console.log(
  JSON.stringify({
    bench: "origin-calls",
    summary: `origin calls per ${requests} requests with a flapping origin: ${resilient.originCalls} with breaker/throttle/rate limit vs ${baseline.originCalls} without`,
    ratio: Number((baseline.originCalls / Math.max(1, resilient.originCalls)).toFixed(2)),
    errorsToClients: { resilient: resilient.errorsToClients, baseline: baseline.errorsToClients },
  }),
);
