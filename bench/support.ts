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

/**
 * Like {@link measure}, for several sides at once: each runs `chunk` calls in turn (the order
 * rotating every round) until each made `total`, so a change in the machine's load falls on all
 * of them alike. Throughput is a side's calls over the time its own chunks took.
 */
export async function measureInterleaved(
  sides: Record<string, (i: number) => Promise<unknown>>,
  total: number,
  workers: number,
  chunk: number,
): Promise<Map<string, { opsPerSec: number; p50: number; p99: number }>> {
  const names = Object.keys(sides);
  const latencies = new Map(names.map((name) => [name, new Float64Array(total)]));
  const elapsed = new Map(names.map((name) => [name, 0]));
  for (let round = 0, done = 0; done < total; round++, done += chunk) {
    const size = Math.min(chunk, total - done);
    for (let s = 0; s < names.length; s++) {
      const name = names[(round + s) % names.length] as string;
      const op = sides[name] as (i: number) => Promise<unknown>;
      const into = latencies.get(name) as Float64Array;
      let next = done;
      const end = done + size;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: Math.min(workers, size) }, async () => {
          for (let i = next++; i < end; i = next++) {
            const t0 = performance.now();
            await op(i);
            into[i] = performance.now() - t0;
          }
        }),
      );
      elapsed.set(name, (elapsed.get(name) ?? 0) + performance.now() - started);
    }
  }
  const out = new Map<string, { opsPerSec: number; p50: number; p99: number }>();
  for (const name of names) {
    const sorted = (latencies.get(name) as Float64Array).sort();
    out.set(name, {
      opsPerSec: Math.round(total / ((elapsed.get(name) ?? 1) / 1000)),
      p50: Number((sorted[Math.floor(total * 0.5)] ?? 0).toFixed(3)),
      p99: Number((sorted[Math.floor(total * 0.99)] ?? 0).toFixed(3)),
    });
  }
  return out;
}
