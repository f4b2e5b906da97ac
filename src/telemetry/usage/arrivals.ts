import { RecentKeys } from "../recent-keys.js";

/** The recent arrival times of one sampled key. */
export interface ArrivalRing {
  /** Arrival times (epoch ms), a ring: `next` is where the next one goes. */
  readonly times: Float64Array;
  next: number;
  /** Arrivals since the key was sampled (the ring holds the last `times.length` of them). */
  arrivals: number;
}

/** Bounds and sampling of the arrival telemetry. */
export interface ArrivalSamplerSettings {
  /** Keys tracked at most (all namespaces); the ones without an arrival for longest are dropped first. */
  maxKeys: number;
  /** Arrival times kept per key. */
  ringSize: number;
  /** A key is sampled when its hash is 0 modulo this (1: every key), or when it is hot. */
  sampleOneIn: number;
}

/**
 * Arrival times of a bounded set of keys: every key whose hash falls in the sample (so a
 * sampled key's arrivals are all seen, from its first, one-hit keys included) and every key
 * `hot` says is hot (the top-K's). Memory is at most `maxKeys` rings of `ringSize` doubles; the
 * keys dropped first are those without an arrival for longest ({@link RecentKeys}). An arrival
 * of a tracked key costs two Map lookups and a store; of an untracked one, a hash of the key
 * (and the hot test).
 *
 *   const sampler = new ArrivalSampler({ maxKeys: 4096, ringSize: 32, sampleOneIn: 8 });
 *   sampler.observe("products", "42", clock.now());
 */
export class ArrivalSampler {
  private readonly rings: RecentKeys<ArrivalRing>;

  /** @param hot whether a key outside the hash sample is to be sampled all the same */
  constructor(
    readonly settings: ArrivalSamplerSettings,
    hot: (namespace: string, key: string) => boolean = () => false,
  ) {
    const { maxKeys, ringSize, sampleOneIn } = settings;
    if (!Number.isInteger(maxKeys) || maxKeys < 2)
      throw new RangeError("usage.maxKeys must be an integer of at least 2");
    if (!Number.isInteger(ringSize) || ringSize < 4)
      throw new RangeError("usage.ringSize must be an integer of at least 4");
    if (!Number.isInteger(sampleOneIn) || sampleOneIn < 1) {
      throw new RangeError("usage.sampleOneIn must be a positive integer");
    }
    this.rings = new RecentKeys(maxKeys, (namespace, key) =>
      sampled(key, sampleOneIn) || hot(namespace, key)
        ? { times: new Float64Array(ringSize), next: 0, arrivals: 0 }
        : undefined,
    );
  }

  /** Keys tracked now (at most `maxKeys`). */
  get size(): number {
    return this.rings.size;
  }

  /** Records an arrival of a key at `now` when the key is sampled or hot. */
  observe(namespace: string, key: string, now: number): void {
    const ring = this.rings.touch(namespace, key);
    if (!ring) return;
    ring.times[ring.next] = now;
    ring.next = (ring.next + 1) % ring.times.length;
    ring.arrivals++;
  }

  /** A key's arrival times, oldest first, and its arrival count; undefined when not tracked. */
  arrivalsOf(namespace: string, key: string): { times: number[]; arrivals: number } | undefined {
    const ring = this.rings.get(namespace, key);
    return ring ? ordered(ring) : undefined;
  }

  /** Every tracked key of a namespace with its arrivals, oldest first. */
  *keysOf(namespace: string): Generator<{ key: string; times: number[]; arrivals: number }> {
    for (const [, key, ring] of this.rings.entries(namespace)) yield { key, ...ordered(ring) };
  }
}

function ordered(ring: ArrivalRing): { times: number[]; arrivals: number } {
  const size = ring.times.length;
  const held = Math.min(ring.arrivals, size);
  const times: number[] = [];
  for (let i = held; i > 0; i--) times.push(ring.times[(ring.next - i + size) % size] as number);
  return { times, arrivals: ring.arrivals };
}

/** Whether a key falls in the 1-in-`oneIn` hash sample (FNV-1a: the same keys on every instance). */
export function sampled(key: string, oneIn: number): boolean {
  if (oneIn === 1) return true;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % oneIn === 0;
}
