/** Shared bits of the benchmarks that need real services or timing. */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface ServicesModule {
  up(which: string[]): Promise<{ env: Record<string, string>; started: string[] }>;
  down(which: string[]): Promise<void>;
}

/**
 * The Kafka brokers to benchmark against: $MLCACHE_KAFKA_BROKERS, or a broker started by the
 * project's scripts (and stopped by the returned `stop`).
 */
export async function kafkaForBench(): Promise<{ brokers: string; stop: () => Promise<void> }> {
  const given = process.env.MLCACHE_KAFKA_BROKERS;
  if (given) return { brokers: given, stop: async () => {} };
  const services = (await import(pathToFileURL(join(process.cwd(), "scripts", "services.mjs")).href)) as ServicesModule;
  const { env, started } = await services.up(["kafka"]);
  const brokers = env.MLCACHE_KAFKA_BROKERS;
  if (!brokers) throw new Error("scripts/services.mjs did not report MLCACHE_KAFKA_BROKERS");
  return { brokers, stop: () => (started.length ? services.down(started) : Promise.resolve()) };
}

/**
 * The Redis URL to benchmark against: $MLCACHE_REDIS_URL, or a redis-server started by the
 * project's scripts (and stopped by the returned `stop`).
 */
export async function redisForBench(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = process.env.MLCACHE_REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  const services = (await import(pathToFileURL(join(process.cwd(), "scripts", "services.mjs")).href)) as ServicesModule;
  const { env, started } = await services.up(["redis"]);
  const url = env.MLCACHE_REDIS_URL;
  if (!url) throw new Error("scripts/services.mjs did not report MLCACHE_REDIS_URL");
  return { url, stop: () => (started.length ? services.down(started) : Promise.resolve()) };
}

/** Latency percentiles (ms) and throughput of `workers` loops calling `op` until `total` calls. */
export async function measure(
  op: (i: number) => Promise<unknown>,
  total: number,
  workers: number,
): Promise<{ opsPerSec: number; p50: number; p99: number }> {
  const latencies = new Float64Array(total);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await op(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  return {
    opsPerSec: Math.round(total / seconds),
    p50: Number((latencies[Math.floor(total * 0.5)] ?? 0).toFixed(3)),
    p99: Number((latencies[Math.floor(total * 0.99)] ?? 0).toFixed(3)),
  };
}

/** The median of each numeric field over several runs. */
export function medianOf<T extends Record<string, number>>(runs: T[]): T {
  const out: Record<string, number> = {};
  for (const field of Object.keys(runs[0] ?? {})) {
    const values = runs.map((r) => r[field] as number).sort((a, b) => a - b);
    out[field] = values[Math.floor(values.length / 2)] as number;
  }
  return out as T;
}
