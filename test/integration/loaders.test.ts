// Loaders against real origins on loopback: a grpc-js LoaderService and a node:http server,
// with injected latency, failures, hangs and flapping. No Redis or Kafka needed.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Lookup } from "../../src/engine/cache-manager.js";
import { CacheManager } from "../../src/engine/cache-manager.js";
import { ManualClock } from "../../src/engine/clock.js";
import type { Loader } from "../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../src/engine/policy.js";
import { PolicyStore } from "../../src/engine/policy-store.js";
import { CacheError, Status } from "../../src/errors.js";
import { OriginPolicySchema } from "../../src/gen/mlcache/v1/policy_pb.js";
import { MemoryLayer } from "../../src/layers/memory-layer.js";
import { BatchingLoader } from "../../src/loaders/batching.js";
import type { BreakerState } from "../../src/loaders/breaker.js";
import { GrpcOrigin } from "../../src/loaders/grpc-origin.js";
import { HttpOrigin } from "../../src/loaders/http-origin.js";
import { createOrigin, type Origin } from "../../src/loaders/origin.js";
import { ResilientLoader } from "../../src/loaders/resilient-loader.js";
import {
  eventually,
  startGrpcOrigin,
  startHttpOrigin,
  type TestGrpcOrigin,
  type TestHttpOrigin,
} from "../support/origins.js";

const text = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);
const bytes = (s: string) => new TextEncoder().encode(s);
const ctx = () => ({ signal: new AbortController().signal });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error a promise rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    return error as CacheError;
  }
  throw new Error("expected the call to fail");
}

type PolicyInit = MessageInitShape<typeof OriginPolicySchema>;

let grpcOrigin: TestGrpcOrigin;
let httpOrigin: TestHttpOrigin;
const toClose: { close(): void }[] = [];

beforeAll(async () => {
  grpcOrigin = await startGrpcOrigin();
  httpOrigin = await startHttpOrigin();
});
afterEach(() => {
  for (const item of toClose.splice(0)) item.close();
  grpcOrigin.state.reset();
  httpOrigin.state.reset();
  grpcOrigin.state.data.clear();
  httpOrigin.state.data.clear();
});
afterAll(async () => {
  await grpcOrigin.close();
  await httpOrigin.close();
});

function grpcPolicy(init: PolicyInit = {}): PolicyInit {
  return { kind: { case: "grpc", value: { target: grpcOrigin.target, metadata: { "x-team": "cache" } } }, ...init };
}
function httpPolicy(init: PolicyInit = {}, bulk = false): PolicyInit {
  return {
    kind: {
      case: "http",
      value: { urlTemplate: httpOrigin.urlTemplate, ...(bulk ? { bulkUrl: httpOrigin.bulkUrl } : {}) },
    },
    ...init,
  };
}
function origin(namespace: string, init: PolicyInit, options: Parameters<typeof createOrigin>[2] = {}): Origin {
  const built = createOrigin(namespace, create(OriginPolicySchema, init), options);
  toClose.push(built);
  return built;
}
function manager(loader: Loader, change: (s: NamespaceSettings) => void = () => {}, clock?: ManualClock): CacheManager {
  const settings = defaultSettings();
  settings.l1.jitter = 0;
  change(settings);
  return new CacheManager({
    l1: new MemoryLayer({ maxBytes: 16 * 1024 * 1024, maxEntries: 100_000, ...(clock ? { clock } : {}) }),
    policies: new PolicyStore(settings),
    loaderFor: () => loader,
    ...(clock ? { clock, scheduler: clock } : {}),
  });
}

describe("gRPC LoaderService origin", () => {
  it("loads, maps NOT_FOUND to not found, sends metadata", async () => {
    const grpc = new GrpcOrigin({ target: grpcOrigin.target, metadata: { authorization: "Bearer t0ken" } });
    toClose.push(grpc);
    const found = await grpc.load("products", "42", ctx());
    expect(text(found.value)).toBe("value-of-42");
    expect(found).toMatchObject({ found: true, tags: ["t"] });
    expect(await grpc.load("products", "absent-1", ctx())).toEqual({ found: false });
    expect(grpcOrigin.lastMetadata().authorization).toBe("Bearer t0ken");
    const broken = await failure(grpc.load("products", "broken-1", ctx()));
    expect(broken.code).toBe(Status.INTERNAL);
  });

  it("BulkLoad: per-key KeyError becomes that key's Error", async () => {
    const grpc = new GrpcOrigin({ target: grpcOrigin.target });
    toClose.push(grpc);
    const out = await grpc.loadMany("products", ["a", "absent-1", "broken-1"], ctx());
    expect(text((out.get("a") as { value: Uint8Array }).value)).toBe("value-of-a");
    expect(out.get("absent-1")).toEqual({ found: false });
    const error = out.get("broken-1") as CacheError;
    expect(error).toBeInstanceOf(CacheError);
    expect(error.code).toBe(Status.INTERNAL);
    expect(error.message).toMatch(/cannot load broken-1/);
    expect(grpcOrigin.state.calls.bulkLoads).toBe(1);
  });

  it("Store writes through and reports per-key errors", async () => {
    const built = origin("products", grpcPolicy());
    const item = { value: bytes("new"), version: 7n, tags: [], deleted: false };
    const errors = await built.writer?.store("products", [
      { key: "a", ...item },
      { key: "broken-ro", ...item },
    ]);
    expect(grpcOrigin.state.data.get("products/a")).toBe("new");
    expect([...(errors?.keys() ?? [])]).toEqual(["broken-ro"]);
    expect((errors!.get("broken-ro") as CacheError).code).toBe(Status.FAILED_PRECONDITION);
  });

  it("cancels the call at the origin when the signal aborts", async () => {
    const grpc = new GrpcOrigin({ target: grpcOrigin.target });
    toClose.push(grpc);
    grpcOrigin.state.faults.hang = true;
    const controller = new AbortController();
    const load = grpc.load("products", "a", { signal: controller.signal });
    await eventually(() => grpcOrigin.state.hangingCount === 1, 5_000, "the origin to receive the call");
    controller.abort(new CacheError(Status.CANCELLED, "caller left"));
    await expect(load).rejects.toThrow("caller left");
    await eventually(() => grpcOrigin.state.hangingCount === 0, 5_000, "the origin to see the cancellation");
  });
});

describe("HTTP origin", () => {
  it("maps statuses: 2xx value, 404 not found, 5xx retryable, other 4xx not", async () => {
    const http = new HttpOrigin({ urlTemplate: httpOrigin.urlTemplate, bulkUrl: httpOrigin.bulkUrl });
    expect(text((await http.load("ns", "a b/c", ctx())).value)).toBe("value-of-a b/c");
    expect(await http.load("ns", "absent-1", ctx())).toEqual({ found: false });
    httpOrigin.state.faults.failNext = 1;
    const unavailable = await failure(http.load("ns", "a", ctx()));
    expect(unavailable.code).toBe(Status.UNAVAILABLE);
    expect(unavailable.details.httpStatus).toBe("503");
    httpOrigin.state.faults.failStatus = 429;
    httpOrigin.state.faults.failNext = 1;
    expect((await failure(http.load("ns", "a", ctx()))).code).toBe(Status.RESOURCE_EXHAUSTED);
    httpOrigin.state.faults.failStatus = 400;
    httpOrigin.state.faults.failNext = 1;
    expect((await failure(http.load("ns", "a", ctx()))).code).toBe(Status.INVALID_ARGUMENT);
  });

  it("bulk endpoint: values, absent keys, per-key errors", async () => {
    const http = new HttpOrigin({ urlTemplate: httpOrigin.urlTemplate, bulkUrl: httpOrigin.bulkUrl });
    expect(http.loadMany).toBeDefined();
    const out = await http.loadMany!("ns", ["a", "absent-1", "broken-1"], ctx());
    expect(text((out.get("a") as { value: Uint8Array }).value)).toBe("value-of-a");
    expect(out.get("absent-1")).toEqual({ found: false });
    expect((out.get("broken-1") as CacheError).code).toBe(Status.UNAVAILABLE);
    expect(httpOrigin.state.calls.bulkLoads).toBe(1);
  });

  it("writes with PUT and deletes with DELETE", async () => {
    const http = new HttpOrigin({ urlTemplate: httpOrigin.urlTemplate });
    await http.store("ns", [
      { key: "a", value: bytes("A"), version: 1n, tags: ["x"], deleted: false },
      { key: "b", value: bytes("B"), version: 1n, tags: [], deleted: false },
    ]);
    expect(httpOrigin.state.data.get("ns/a")).toBe("A");
    await http.store("ns", [{ key: "a", value: new Uint8Array(), version: 2n, tags: [], deleted: true }]);
    expect(httpOrigin.state.data.has("ns/a")).toBe(false);
    expect(httpOrigin.state.data.get("ns/b")).toBe("B");
  });

  it("a network failure is UNAVAILABLE", async () => {
    const closed = await startHttpOrigin();
    await closed.close();
    const http = new HttpOrigin({ urlTemplate: closed.urlTemplate });
    const error = await failure(http.load("ns", "a", ctx()));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(error.message).toMatch(/cannot reach origin/);
  });
});

describe("retry against a real origin", () => {
  it("a flapping origin (every other call fails) succeeds after retries", async () => {
    httpOrigin.state.faults.flapping = true;
    const built = origin("flap", httpPolicy({ retry: { maxAttempts: 3, initialBackoff: durationFromMs(1) } }));
    for (let i = 0; i < 5; i++) {
      const result = await built.loader.load("flap", `k${i}`, ctx());
      expect(text(result.value)).toBe(`value-of-k${i}`);
    }
    // Each load: one failed call, one good one.
    expect(httpOrigin.state.calls.total).toBe(10);
    expect(httpOrigin.state.calls.failed).toBe(5);
    expect(built.counters()).toMatchObject({ calls: 5, attempts: 10, retries: 5, failures: 0 });
  });

  it("a non-retryable failure (HTTP 400) is not retried", async () => {
    httpOrigin.state.faults.down = true;
    httpOrigin.state.faults.failStatus = 400;
    const built = origin("bad", httpPolicy({ retry: { maxAttempts: 5, initialBackoff: durationFromMs(1) } }));
    const error = await failure(built.loader.load("bad", "k", ctx()));
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(httpOrigin.state.calls.total).toBe(1);
    expect(built.breakerState()).toBe("closed");
  });

  it("gRPC NOT_FOUND is an answer, not retried and not a failure", async () => {
    const built = origin("nf", grpcPolicy({ retry: { maxAttempts: 5 }, batch: { enabled: false } }));
    expect(await built.loader.load("nf", "absent-9", ctx())).toEqual({ found: false });
    expect(grpcOrigin.state.calls.total).toBe(1);
    expect(built.counters().failures).toBe(0);
  });
});

describe("origin down behind a CacheManager", () => {
  it("serves stale within maxStale, opens the breaker, stays within the rate limit, probes half-open, closes on recovery", async () => {
    const perSecond = 5;
    const burst = 3;
    const built = origin(
      "products",
      grpcPolicy({
        breaker: {
          errorThresholdPercent: 50,
          volumeThreshold: 3,
          resetTimeout: durationFromMs(300),
          rollingWindow: durationFromMs(10_000),
        },
        retry: { maxAttempts: 2, initialBackoff: durationFromMs(5), maxBackoff: durationFromMs(10) },
        rateLimit: { perSecond, burst },
      }),
    );
    const states: BreakerState[] = [];
    built.onBreakerStateChange((state) => states.push(state));
    const cache = manager(built.loader, (s) => {
      s.l1.ttlMs = 100;
      s.l1.freshForMs = 100;
      s.failSafe = { enabled: true, maxStaleMs: 60_000, throttleMs: 0 };
    });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const warm = await Promise.all(keys.map((key) => cache.get("products", key)));
    expect(warm.every((l) => l.found && l.source === "loader" && !l.stale)).toBe(true);
    await sleep(150); // every entry is now past its TTL, within maxStale

    grpcOrigin.state.faults.down = true;
    const callsBefore = grpcOrigin.state.calls.total;
    const outageStarted = Date.now();
    const answers: Lookup[] = [];
    let sawOpen = false;
    for (let round = 0; round < 40; round++) {
      answers.push(...(await Promise.all(keys.map((key) => cache.get("products", key)))));
      if (built.breakerState() === "open") sawOpen = true;
      await sleep(10);
    }
    const outageSeconds = (Date.now() - outageStarted) / 1000;
    const outageCalls = grpcOrigin.state.calls.total - callsBefore;

    // Every read was answered from the stale copy, flagged stale.
    expect(answers).toHaveLength(400);
    for (const answer of answers) {
      expect(answer.found).toBe(true);
      expect(answer.stale).toBe(true);
      expect(text(answer.value)).toBe(`value-of-${answer.key}`);
    }
    expect(sawOpen).toBe(true);
    expect(states[0]).toBe("open");
    // The origin saw no more calls than the token bucket allows over the outage.
    expect(outageCalls).toBeGreaterThan(0);
    expect(outageCalls).toBeLessThanOrEqual(burst + Math.ceil(perSecond * outageSeconds));
    const counters = built.counters();
    expect(counters.rejectedByBreaker).toBeGreaterThan(0);
    console.log(
      JSON.stringify({
        test: "origin-down",
        reads: answers.length,
        outageMs: Math.round(outageSeconds * 1000),
        originCalls: outageCalls,
        allowedByRateLimit: burst + Math.ceil(perSecond * outageSeconds),
        breakerStates: states,
        counters,
      }),
    );

    // A key never cached gets UNAVAILABLE with the breaker state while the breaker is open.
    await eventually(() => built.breakerState() === "open", 5_000, "the breaker to be open");
    const unavailable = await failure(cache.get("products", "never-cached"));
    expect(unavailable.code).toBe(Status.UNAVAILABLE);
    expect(unavailable.details.breakerState).toBe("open");
    expect(unavailable.message).toMatch(/origin for namespace products is unavailable: circuit breaker open/);

    // Recovery: after the reset timeout the breaker lets one trial through; it succeeds and closes.
    grpcOrigin.state.faults.down = false;
    grpcOrigin.state.data.set("products/k0", "fresh-k0");
    await eventually(() => built.breakerState() === "half-open", 5_000, "the breaker to go half-open");
    const probe = await cache.get("products", "k0");
    expect(built.breakerState()).toBe("closed");
    expect(probe).toMatchObject({ found: true, stale: false, source: "loader" });
    expect(text(probe.value)).toBe("fresh-k0");
    expect(states).toContain("half-open");
    expect(states.at(-1)).toBe("closed");
  });

  it("past maxStale there is nothing to serve: the caller gets the origin's error", async () => {
    const built = origin("short", httpPolicy({ retry: { maxAttempts: 1 } }));
    // The cache's time is a manual clock: how long the origin takes does not move the windows.
    const clock = new ManualClock(Date.now());
    const cache = manager(
      built.loader,
      (s) => {
        s.l1.ttlMs = 50;
        s.l1.freshForMs = 50;
        s.failSafe = { enabled: true, maxStaleMs: 50, throttleMs: 0 };
      },
      clock,
    );
    await cache.get("short", "a");
    httpOrigin.state.faults.down = true;
    clock.advance(60);
    expect(await cache.get("short", "a")).toMatchObject({ found: true, stale: true });
    clock.advance(60);
    const error = await failure(cache.get("short", "a"));
    expect(error.code).toBe(Status.UNAVAILABLE);
  });
});

describe("bulk batching", () => {
  it("1,000 concurrent misses across 100 keys become a few BulkLoad calls", async () => {
    grpcOrigin.state.faults.latencyMs = 5;
    const built = origin("bulk", grpcPolicy({ batch: { window: durationFromMs(2), maxBatchSize: 100 } }));
    const cache = manager(built.loader);
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.get("bulk", `item-${i % 100}`)));
    expect(answers.every((a) => a.found && text(a.value) === `value-of-${a.key}`)).toBe(true);
    const { bulkLoads, bulkKeys, loads } = grpcOrigin.state.calls;
    console.log(JSON.stringify({ test: "bulk-batching", requests: 1000, distinctKeys: 100, bulkLoads, bulkKeys }));
    expect(loads).toBe(0);
    expect(bulkKeys).toBe(100);
    expect(bulkLoads).toBeGreaterThanOrEqual(1);
    expect(bulkLoads).toBeLessThanOrEqual(20);
  });

  it("a BatchingLoader over a ResilientLoader over gRPC, without the engine", async () => {
    const resilient = new ResilientLoader(new GrpcOrigin({ target: grpcOrigin.target }), {
      name: "origin for namespace raw",
      maxConcurrency: 8,
    });
    toClose.push(resilient);
    const batching = new BatchingLoader(resilient, { windowMs: 2, maxBatchSize: 50 });
    // Two full batches go out at once; every later load joins the batch carrying its key.
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => batching.load("raw", `item-${i % 100}`, ctx())),
    );
    expect(results.every((r) => r.found)).toBe(true);
    expect(grpcOrigin.state.calls.bulkKeys).toBe(100);
    expect(grpcOrigin.state.calls.bulkLoads).toBe(2);
    expect(batching.counters()).toEqual({ loads: 1000, batches: 2, keysBatched: 100, duplicates: 900 });
  });

  it("per-key failures in a batch are per key; the others still load", async () => {
    const built = origin("mixed", grpcPolicy());
    const cache = manager(built.loader, (s) => {
      s.failSafe.enabled = false;
    });
    const [good, bad] = await Promise.allSettled([cache.get("mixed", "good"), cache.get("mixed", "broken-2")]);
    expect(good).toMatchObject({ status: "fulfilled", value: { found: true } });
    expect(bad.status === "rejected" && (bad.reason as CacheError).code).toBe(Status.INTERNAL);
    expect(grpcOrigin.state.calls.bulkLoads).toBe(1);
  });
});

describe("dead letters", () => {
  it("a key failing N times is listed with its count and last error; publish is called once", async () => {
    const publish = vi.fn();
    const built = origin(
      "dl",
      grpcPolicy({ deadLetter: { maxFailures: 3, window: durationFromMs(60_000) }, retry: { maxAttempts: 1 } }),
      { publishDeadLetter: publish },
    );
    for (let i = 0; i < 4; i++) {
      await expect(built.loader.load("dl", "broken-7", ctx())).rejects.toThrow(/cannot load broken-7/);
    }
    await built.loader.load("dl", "fine", ctx());
    const records = built.deadLetters.list("dl");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ namespace: "dl", key: "broken-7", failures: 4, lastErrorCode: Status.INTERNAL });
    expect(records[0]?.lastError).toMatch(/cannot load broken-7/);
    await eventually(() => publish.mock.calls.length > 0, 2_000, "the publish hook");
    await sleep(20);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(publish.mock.calls[0]?.[0]).toMatchObject({ key: "broken-7", failures: 3 });
  });
});

describe("errors callers can act on", () => {
  it("DEADLINE_EXCEEDED when the origin hangs past the engine's hard timeout; the origin sees the cancel", async () => {
    grpcOrigin.state.faults.hang = true;
    const built = origin("hang", grpcPolicy({ retry: { maxAttempts: 1 }, batch: { enabled: false } }));
    const cache = manager(built.loader, (s) => {
      s.loadTimeouts = { softMs: 0, hardMs: 200 };
    });
    const error = await failure(cache.get("hang", "a"));
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    await eventually(() => grpcOrigin.state.hangingCount === 0, 5_000, "the hanging call to be cancelled");
  });

  it("DEADLINE_EXCEEDED from the per-attempt timeout (policy hard_timeout / attempts), after retries", async () => {
    httpOrigin.state.faults.hang = true;
    const built = origin(
      "slow",
      httpPolicy({ hardTimeout: durationFromMs(300), retry: { maxAttempts: 2, initialBackoff: durationFromMs(1) } }),
    );
    const error = await failure(built.loader.load("slow", "a", ctx()));
    expect(error.code).toBe(Status.DEADLINE_EXCEEDED);
    expect(error.message).toMatch(/per-attempt timeout of 150 ms/);
    expect(httpOrigin.state.calls.total).toBe(2);
  });

  it("RESOURCE_EXHAUSTED when rate-limited and nothing stale is cached", async () => {
    const built = origin("limited", httpPolicy({ rateLimit: { perSecond: 0.5, burst: 1 } }));
    const cache = manager(built.loader);
    expect(await cache.get("limited", "a")).toMatchObject({ found: true });
    const error = await failure(cache.get("limited", "b"));
    expect(error.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(error.message).toMatch(/rate-limited to 0.5 calls\/s/);
    expect(httpOrigin.state.calls.total).toBe(1);
  });

  it("the refresh throttle fails fast and the engine serves stale", async () => {
    const built = origin("hot", httpPolicy({ refreshThrottle: durationFromMs(60_000) }));
    const cache = manager(built.loader, (s) => {
      s.l1.ttlMs = 30;
      s.l1.freshForMs = 30;
      s.failSafe = { enabled: true, maxStaleMs: 60_000, throttleMs: 0 };
    });
    await cache.get("hot", "k");
    httpOrigin.state.data.set("hot/k", "changed");
    await sleep(40);
    const again = await cache.get("hot", "k");
    expect(again).toMatchObject({ found: true, stale: true });
    expect(text(again.value)).toBe("value-of-k");
    expect(httpOrigin.state.calls.total).toBe(1);
    expect(built.counters().throttled).toBe(1);
  });

  it("a gRPC origin that cannot be reached is UNAVAILABLE", async () => {
    const built = origin("gone", {
      kind: { case: "grpc", value: { target: "127.0.0.1:1" } },
      retry: { maxAttempts: 2, initialBackoff: durationFromMs(1) },
      batch: { enabled: false },
    });
    const error = await failure(built.loader.load("gone", "a", ctx()));
    expect(error.code).toBe(Status.UNAVAILABLE);
    expect(built.counters()).toMatchObject({ attempts: 2, failures: 1 });
    expect(Code.Unavailable as number).toBe(Status.UNAVAILABLE);
  });
});
