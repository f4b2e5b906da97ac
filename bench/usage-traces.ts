// Synthetic access traces whose usage pattern per key is known: the ground truth for the usage
// classifier's tests and for bench/advice.ts.
import type { UsagePattern } from "../src/telemetry/usage/classify.js";
import { mulberry32 } from "./workloads.js";

/** One read of a trace. */
export interface Arrival {
  /** Milliseconds from the start of the trace. */
  at: number;
  key: string;
}

/** A trace and the pattern each of its keys was generated with. */
export interface LabelledTrace {
  arrivals: Arrival[];
  truth: Map<string, UsagePattern>;
  durationMs: number;
}

/** What to generate. */
export interface UsageTraceOptions {
  /** Seeds the keys' parameters (periods, rates, burst spacing), and the arrivals unless `noiseSeed` is given. */
  seed: number;
  /** Seeds the arrivals alone: the same keys behaving alike, read at other moments (train on one, test on another). */
  noiseSeed?: number;
  durationMs: number;
  /** Keys of each pattern. */
  keysPerPattern: number;
  /** Spread of a regular key's reads around its period, as a share of it (uniform ±). */
  jitter: number;
  /** Steady-hot read rate range (reads/s); the lower end must be above the classifier's hot rate. */
  hotRate?: [number, number];
}

/** The key families, one per pattern, as a service's keys would be named. */
export const FAMILIES: Record<Exclude<UsagePattern, "unknown" | "irregular">, string> = {
  regular: "feed",
  bursty: "session",
  "steady-hot": "config",
  "one-hit": "item",
  declining: "promo",
};

/**
 * A mixed trace: regular keys (period 20–120 s, ± jitter), bursty keys (bursts of 20–50 s with
 * a read every 1–3 s on average, every 4–10 min ± 25 %), steady-hot keys (Poisson, 2–6 reads/s),
 * one-hit keys (read once) and declining keys (Poisson at 0.3–1 reads/s decaying with a time
 * constant of 1.5–4 min). Seeded: one seed, one trace.
 */
export function usageTrace(options: UsageTraceOptions): LabelledTrace {
  const param = mulberry32(options.seed);
  const random = options.noiseSeed === undefined ? param : mulberry32(options.noiseSeed);
  /** A key's parameter (from `seed`). */
  const pick = (low: number, high: number) => low + (high - low) * param();
  /** A draw of the arrivals (from `noiseSeed`). */
  const between = (low: number, high: number) => low + (high - low) * random();
  const exponential = (mean: number) => -mean * Math.log(1 - random());
  const arrivals: Arrival[] = [];
  const truth = new Map<string, UsagePattern>();
  const end = options.durationMs;
  const [hotLow, hotHigh] = options.hotRate ?? [2, 6];
  for (let i = 0; i < options.keysPerPattern; i++) {
    const regular = `${FAMILIES.regular}:${i}`;
    truth.set(regular, "regular");
    const period = pick(20_000, 120_000);
    for (let t = between(0, period); t < end; t += period) {
      const at = t + (random() * 2 - 1) * options.jitter * period;
      if (at >= 0 && at < end) arrivals.push({ at, key: regular });
    }

    const bursty = `${FAMILIES.bursty}:${i}`;
    truth.set(bursty, "bursty");
    const every = pick(240_000, 600_000);
    const readGap = pick(1_000, 3_000);
    for (let start = between(0, every); start < end; start += every * between(0.75, 1.25)) {
      const length = between(20_000, 50_000);
      for (let t = start; t < Math.min(end, start + length); t += exponential(readGap))
        arrivals.push({ at: t, key: bursty });
    }

    const hot = `${FAMILIES["steady-hot"]}:${i}`;
    truth.set(hot, "steady-hot");
    const rate = pick(hotLow, hotHigh);
    for (let t = exponential(1000 / rate); t < end; t += exponential(1000 / rate)) arrivals.push({ at: t, key: hot });

    const once = `${FAMILIES["one-hit"]}:${i}`;
    truth.set(once, "one-hit");
    arrivals.push({ at: between(0, end), key: once });

    const declining = `${FAMILIES.declining}:${i}`;
    truth.set(declining, "declining");
    const initial = pick(0.3, 1);
    const tau = pick(90_000, 240_000);
    const born = pick(0, end / 2);
    for (let t = born; t < end; ) {
      const ratePerMs = (initial / 1000) * Math.exp(-(t - born) / tau);
      if (ratePerMs < 1 / 3_600_000) break;
      t += exponential(1 / ratePerMs);
      if (t < end) arrivals.push({ at: t, key: declining });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  return { arrivals, truth, durationMs: end };
}
