/** What telemetry knows about one key (raw counters since it was last taken into the tracker). */
export interface KeyRecord {
  readonly namespace: string;
  readonly key: string;
  /** L1 / L2 lookups that found a usable entry, and that found none. */
  l1Hits: number;
  l1Misses: number;
  l2Hits: number;
  l2Misses: number;
  /** Loader calls that ended, and how many of them failed. */
  loads: number;
  loadFailures: number;
  /** Duration of the last loader call (ms; 0 for a key of a bulk call). */
  lastLoadMs: number;
  /** When the last loader call ended (epoch ms, 0: never). */
  lastLoadAt: number;
  /** Loader calls with a duration of their own (single-key loads), their total and longest duration (ms). */
  timedLoads: number;
  loadMsTotal: number;
  loadMsMax: number;
  /** Refreshes started early (XFetch) and in the background. */
  earlyRefreshes: number;
  backgroundRefreshes: number;
  /** When the last refresh started (epoch ms, 0: never). */
  lastRefreshAt: number;
}

type Generation = Map<string, Map<string, KeyRecord>>;

/**
 * Per-key counters for at most `capacity` keys, recently used ones kept, so memory stays
 * bounded however many keys clients touch. Recency is approximated with two generations
 * (as in quick-lru): a touch finds the key in the current generation with one lookup; a key
 * found only in the previous generation moves up; when the current generation holds
 * capacity / 2 keys it becomes the previous one and the old previous one is dropped. So the
 * keys dropped are ones not touched for at least capacity / 2 touches of other keys, and the
 * read path never reorders a list. Maps are nested by namespace so no key string is built.
 *
 *   const keys = new KeyTracker(10_000); keys.touch("products", "42").l1Hits++;
 */
export class KeyTracker {
  private current: Generation = new Map();
  private previous: Generation = new Map();
  private currentSize = 0;
  private previousSize = 0;
  private readonly generationSize: number;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError("capacity must be an integer of at least 2");
    this.generationSize = Math.floor(capacity / 2);
  }

  /** Keys tracked now (at most `capacity`). */
  get size(): number {
    return this.currentSize + this.previousSize;
  }

  /** The record of a key, created when new; marks it recently used. */
  touch(namespace: string, key: string): KeyRecord {
    const found = this.current.get(namespace)?.get(key);
    if (found) return found;
    const older = this.previous.get(namespace);
    const record = older?.get(key) ?? newRecord(namespace, key);
    if (older?.delete(key)) this.previousSize--;
    if (this.currentSize >= this.generationSize) {
      this.previous = this.current;
      this.previousSize = this.currentSize;
      this.current = new Map();
      this.currentSize = 0;
    }
    let keys = this.current.get(namespace);
    if (!keys) {
      keys = new Map();
      this.current.set(namespace, keys);
    }
    keys.set(key, record);
    this.currentSize++;
    return record;
  }

  /** The record of a key without marking it recent. */
  get(namespace: string, key: string): KeyRecord | undefined {
    return this.current.get(namespace)?.get(key) ?? this.previous.get(namespace)?.get(key);
  }

  /** Records of one namespace (or all), the current generation first. */
  list(namespace?: string): KeyRecord[] {
    const out: KeyRecord[] = [];
    for (const generation of [this.current, this.previous]) {
      for (const [ns, keys] of generation) {
        if (namespace === undefined || ns === namespace) out.push(...keys.values());
      }
    }
    return out;
  }
}

function newRecord(namespace: string, key: string): KeyRecord {
  return {
    namespace,
    key,
    l1Hits: 0,
    l1Misses: 0,
    l2Hits: 0,
    l2Misses: 0,
    loads: 0,
    loadFailures: 0,
    lastLoadMs: 0,
    lastLoadAt: 0,
    timedLoads: 0,
    loadMsTotal: 0,
    loadMsMax: 0,
    earlyRefreshes: 0,
    backgroundRefreshes: 0,
    lastRefreshAt: 0,
  };
}
