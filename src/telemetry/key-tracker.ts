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
  /** Refreshes started early (XFetch) and in the background. */
  earlyRefreshes: number;
  backgroundRefreshes: number;
  /** When the last refresh started (epoch ms, 0: never). */
  lastRefreshAt: number;
}

/**
 * Per-key counters for at most `capacity` keys, least recently used forgotten first, so
 * memory stays bounded however many keys clients touch. A Map keeps insertion order, which
 * is the recency order here: a touched key is moved to the end.
 *
 *   const keys = new KeyTracker(10_000); keys.touch("products", "42").l1Hits++;
 */
export class KeyTracker {
  private readonly records = new Map<string, KeyRecord>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
  }

  /** Keys tracked now (at most `capacity`). */
  get size(): number {
    return this.records.size;
  }

  /** The record of a key, created (and the least recent one dropped) when new; marks it recent. */
  touch(namespace: string, key: string): KeyRecord {
    const id = `${namespace}\u0000${key}`;
    let record = this.records.get(id);
    if (record) {
      this.records.delete(id);
    } else {
      if (this.records.size >= this.capacity) {
        const oldest = this.records.keys().next().value;
        if (oldest !== undefined) this.records.delete(oldest);
      }
      record = {
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
        earlyRefreshes: 0,
        backgroundRefreshes: 0,
        lastRefreshAt: 0,
      };
    }
    this.records.set(id, record);
    return record;
  }

  /** The record of a key without marking it recent. */
  get(namespace: string, key: string): KeyRecord | undefined {
    return this.records.get(`${namespace}\u0000${key}`);
  }

  /** Records of one namespace (or all), most recently used first. */
  list(namespace?: string): KeyRecord[] {
    const out: KeyRecord[] = [];
    for (const record of this.records.values()) {
      if (namespace === undefined || record.namespace === namespace) out.push(record);
    }
    return out.reverse();
  }
}
