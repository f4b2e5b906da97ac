import { RecentKeys } from "./recent-keys.js";

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

/**
 * Per-key counters for at most `capacity` keys, recently used ones kept (see {@link RecentKeys}:
 * the keys dropped are ones not touched for at least capacity / 2 touches of other keys).
 *
 *   const keys = new KeyTracker(10_000); keys.touch("products", "42").l1Hits++;
 */
export class KeyTracker {
  private readonly keys: RecentKeys<KeyRecord>;

  constructor(readonly capacity: number) {
    this.keys = new RecentKeys(capacity, newRecord);
  }

  /** Keys tracked now (at most `capacity`). */
  get size(): number {
    return this.keys.size;
  }

  /** The record of a key, created when new; marks it recently used. */
  touch(namespace: string, key: string): KeyRecord {
    return this.keys.touch(namespace, key) as KeyRecord;
  }

  /** The record of a key without marking it recent. */
  get(namespace: string, key: string): KeyRecord | undefined {
    return this.keys.get(namespace, key);
  }

  /** Records of one namespace (or all), the current generation first. */
  list(namespace?: string): KeyRecord[] {
    const out: KeyRecord[] = [];
    for (const [, , record] of this.keys.entries(namespace)) out.push(record);
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
