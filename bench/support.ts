/** Shared bits of the benchmarks that need real services or timing. */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface ServicesModule {
  up(which: string[]): Promise<{ env: Record<string, string>; started: string[] }>;
  down(which: string[]): Promise<void>;
}

/**
 * A service to benchmark against: the address in `variable` if the environment has it, else
 * the piece started by the project's scripts (and stopped by the returned `stop`).
 */
async function serviceForBench(
  piece: "redis" | "kafka",
  variable: string,
): Promise<{ address: string; stop: () => Promise<void> }> {
  const given = process.env[variable];
  if (given) return { address: given, stop: async () => {} };
  const services = (await import(pathToFileURL(join(process.cwd(), "scripts", "services.mjs")).href)) as ServicesModule;
  const { env, started } = await services.up([piece]);
  const address = env[variable];
  if (!address) throw new Error(`scripts/services.mjs did not report ${variable}`);
  return { address, stop: () => (started.length ? services.down(started) : Promise.resolve()) };
}

/** The Kafka brokers to benchmark against ($MLCACHE_KAFKA_BROKERS, or started here). */
export async function kafkaForBench(): Promise<{ brokers: string; stop: () => Promise<void> }> {
  const { address, stop } = await serviceForBench("kafka", "MLCACHE_KAFKA_BROKERS");
  return { brokers: address, stop };
}

/** The Redis URL to benchmark against ($MLCACHE_REDIS_URL, or started here). */
export async function redisForBench(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { address, stop } = await serviceForBench("redis", "MLCACHE_REDIS_URL");
  return { url: address, stop };
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
