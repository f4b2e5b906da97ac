/**
 * What a stalled Redis costs callers. Runs the same gRPC traffic against a service twice, each
 * time on a fresh redis-server of its own: once with Redis healthy, once with Redis paused
 * (SIGSTOP) for `--stall` seconds in the middle. Traffic: `--workers` loops over the API, each
 * call with a `--deadline` (like the callers that reported the defect): half Gets (mostly L1
 * hits), three tenths Gets that bypass L1 (L2, lease, loader), a fifth Sets without a deadline.
 * Prints one JSON line per run (throughput per second, latency per kind of call, errors by code)
 * and one comparing the runs. The Degradation bound: no call should wait much more than the
 * Redis command timeout per Redis step.
 *
 *   npm run bench:redis-stall -- --seconds 16 --stall-at 3 --stall 10 --workers 32
 */
import { parseArgs } from "node:util";
import { ConnectError } from "@connectrpc/connect";
import { parseConfig } from "../src/config/config.js";
import { CacheService } from "../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer } from "../src/gen/mlcache/v1/common_pb.js";
import { startService } from "../src/server.js";
import { RedisProcess } from "../test/support/redis-process.js";
import { createGrpcJsClient, testConfig } from "../test/support/service.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "16" },
    "stall-at": { type: "string", default: "3" },
    stall: { type: "string", default: "10" },
    workers: { type: "string", default: "32" },
    keys: { type: "string", default: "2000" },
    deadline: { type: "string", default: "30" },
    "command-timeout": { type: "string", default: "1s" },
  },
});
const seconds = Number(values.seconds);
const stallAt = Number(values["stall-at"]);
const stallFor = Number(values.stall);
const workers = Number(values.workers);
const keyCount = Number(values.keys);
const deadlineMs = Number(values.deadline) * 1000;
const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "redis-stall", ...line }));

type Kind = "get" | "getBypassL1" | "set";
interface Call {
  kind: Kind;
  /** Seconds since the run started, when the call started. */
  at: number;
  ms: number;
  code: string;
}

const kindOf = (i: number): Kind => (i % 10 < 5 ? "get" : i % 10 < 8 ? "getBypassL1" : "set");

/** A key drawn with a skew towards the first keys (hot keys collapse onto shared loads). */
const keyOf = (random: number) => `k${Math.floor(keyCount * random ** 3)}`;

async function run(name: "healthy" | "stall") {
  const redis = await RedisProcess.start();
  const origin = {
    loads: 0,
    async load(_namespace: string, key: string) {
      this.loads++;
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { found: true, value: new TextEncoder().encode(`origin:${key}`.padEnd(256, ".")) };
    },
  };
  const config = parseConfig(
    testConfig({ redis: { url: redis.url, keyPrefix: "stall:", commandTimeout: values["command-timeout"] } }),
  );
  const service = await startService(config, { loaderFor: () => origin });
  const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
  const value = new TextEncoder().encode("set".padEnd(256, "."));
  const calls: Call[] = [];
  try {
    // Warm: every key loaded once, so L1 and L2 hold them.
    for (let i = 0; i < keyCount; i += 100) {
      await client.bulkGet({ namespace: "p", keys: Array.from({ length: 100 }, (_, j) => `k${i + j}`) });
    }
    const started = performance.now();
    const endAt = started + seconds * 1000;
    let stallTimer: NodeJS.Timeout | undefined;
    let resumeTimer: NodeJS.Timeout | undefined;
    if (name === "stall") {
      stallTimer = setTimeout(() => redis.pause(), stallAt * 1000);
      resumeTimer = setTimeout(() => redis.resume(), (stallAt + stallFor) * 1000);
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (performance.now() < endAt) {
          const i = next++;
          const kind = kindOf(i);
          const key = keyOf(Math.random());
          const t0 = performance.now();
          let code = "OK";
          try {
            if (kind === "set") await client.set({ namespace: "p", key, value });
            else {
              await client.get(
                { namespace: "p", key, options: kind === "getBypassL1" ? { bypassLayers: [CacheLayer.L1] } : {} },
                { timeoutMs: deadlineMs },
              );
            }
          } catch (error) {
            code = error instanceof ConnectError ? String(error.code) : "error";
          }
          const t1 = performance.now();
          calls.push({ kind, at: (t0 - started) / 1000, ms: t1 - t0, code });
        }
      }),
    );
    clearTimeout(stallTimer);
    clearTimeout(resumeTimer);
    redis.resume();
    return summarise(name, calls, origin.loads);
  } finally {
    client.close();
    await service.close();
    await redis.kill();
  }
}

function quantile(sorted: number[], q: number): number {
  return Number((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0).toFixed(1));
}

function summarise(name: string, calls: Call[], loads: number) {
  const perSecond = Array.from({ length: seconds }, () => 0);
  for (const call of calls) {
    const second = Math.floor(call.at + call.ms / 1000);
    if (second < seconds) perSecond[second] = (perSecond[second] ?? 0) + 1;
  }
  // The calls that started while Redis was (or would have been) paused, and a second after.
  const window = calls.filter((c) => c.at >= stallAt && c.at < stallAt + stallFor + 1);
  const latency: Record<string, unknown> = {};
  for (const kind of ["get", "getBypassL1", "set"] as const) {
    const ms = window
      .filter((c) => c.kind === kind)
      .map((c) => c.ms)
      .sort((a, b) => a - b);
    latency[kind] = { calls: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: quantile(ms, 1) };
  }
  const errors: Record<string, number> = {};
  for (const call of window) if (call.code !== "OK") errors[call.code] = (errors[call.code] ?? 0) + 1;
  const stallSeconds = perSecond.slice(stallAt, stallAt + stallFor);
  const line = {
    run: name,
    opsPerSec: Math.round(calls.length / seconds),
    perSecond,
    stallWindow: {
      minOpsPerSec: Math.min(...stallSeconds),
      meanOpsPerSec: Math.round(stallSeconds.reduce((a, b) => a + b, 0) / stallSeconds.length),
      latencyMs: latency,
      errors,
      callsOver2s: window.filter((c) => c.ms > 2000).length,
    },
    originLoads: loads,
  };
  print(line);
  return line;
}

const healthy = await run("healthy");
const stalled = await run("stall");
print({
  compare: "stall vs healthy",
  meanThroughputDuringStall: Number((stalled.stallWindow.meanOpsPerSec / healthy.stallWindow.meanOpsPerSec).toFixed(2)),
  minThroughputDuringStall: Number((stalled.stallWindow.minOpsPerSec / healthy.stallWindow.minOpsPerSec).toFixed(2)),
});
