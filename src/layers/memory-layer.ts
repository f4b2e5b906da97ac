import type { Clock } from "../engine/clock.js";
import { systemClock } from "../engine/clock.js";
import { type Entry, EntryFlags, replaces, withExpiry } from "../engine/entry.js";
import {
  countersOf,
  countLookup,
  emptyCounters,
  type KeyFrequency,
  type L1Layer,
  type LayerCounters,
  type RemovalCause,
} from "../engine/layer.js";
import { ENTRY_OVERHEAD_BYTES, WTinyLfuCache } from "./memory/index.js";

/** Options of the L1 memory layer. */
export interface MemoryLayerOptions {
  maxBytes: number;
  maxEntries: number;
  /** TinyLFU admission (default true). */
  admission?: boolean;
  clock?: Clock;
}

const SEPARATOR = "\u0000";

/**
 * Bytes an entry holds besides its value bytes, key and table slot: the Entry object, its
 * version (a BigInt), the value's Uint8Array and ArrayBuffer objects and the backing store's
 * bookkeeping. The cache's own per-entry overhead was measured with one value shared by all
 * entries, so without this L1 held ~430 B per entry more than it counted (3× the overhead it
 * claimed; `test/unit/layers/memory-layer-bytes.test.ts` measures it on every run).
 */
export const ENTRY_OBJECT_BYTES = 440;

/** Bytes of an entry besides the key: value, tags, the objects around them. The cache adds key and overhead. */
function valueWeight(entry: Entry): number {
  let weight = ENTRY_OBJECT_BYTES + entry.value.byteLength;
  for (const tag of entry.tags) weight += tag.length * 2 + 16;
  return weight;
}

/**
 * L1: one byte- and entry-bounded W-TinyLFU cache shared by every namespace, kept by
 * `namespace + U+0000 + key`. Entries live until their `staleUntil`, so fail-safe can still
 * serve them; the manager decides what is fresh. Counters are kept per namespace.
 *
 *   const l1 = new MemoryLayer({ maxBytes: 256 << 20, maxEntries: 1_000_000 });
 */
export class MemoryLayer implements L1Layer {
  readonly name = "l1";
  private readonly cache: WTinyLfuCache<Entry>;
  private readonly perNamespace = new Map<string, LayerCounters>();
  private readonly total = emptyCounters();
  /** The entry being stored, so that losing the admission duel is told apart from eviction. */
  private inserting: Entry | undefined;
  private removalListener: ((namespace: string, key: string, cause: RemovalCause | "rejected") => void) | undefined;
  /**
   * The last key composed, and its parts: a write looks its key up two or three times in a row
   * (the version check, the frequency, the store), and a fresh string is hashed on each lookup.
   */
  private lastNamespace = "";
  private lastKey = "";
  private lastComposite = SEPARATOR;

  constructor(options: MemoryLayerOptions) {
    this.cache = new WTinyLfuCache<Entry>({
      maxBytes: options.maxBytes,
      maxEntries: options.maxEntries,
      // Any value the namespace policy allows must fit, even in a small L1.
      maxEntryBytes: Math.max(1, Math.floor(options.maxBytes / 4)),
      admission: options.admission ?? true,
      // A namespace with L1 admission off marks its entries: they skip the duel.
      alwaysAdmits: (entry) => (entry.flags & EntryFlags.ADMIT) !== 0,
      clock: options.clock ?? systemClock,
      onEvict: (key, entry, cause) => this.removed(key, entry, cause),
    });
  }

  get(namespace: string, key: string): Entry | undefined {
    const entry = this.cache.get(this.composite(namespace, key));
    countLookup(this.counters(namespace), this.total, entry !== undefined);
    return entry;
  }

  peek(namespace: string, key: string): Entry | undefined {
    return this.cache.peek(this.composite(namespace, key));
  }

  getMany(namespace: string, keys: readonly string[]): (Entry | undefined)[] {
    return keys.map((key) => this.get(namespace, key));
  }

  set(namespace: string, key: string, entry: Entry): boolean {
    const composite = this.composite(namespace, key);
    const current = this.cache.peek(composite);
    if (current && !replaces(entry, current)) return false;
    this.inserting = entry;
    let stored: boolean;
    try {
      stored = this.cache.set(composite, entry, { weight: valueWeight(entry), expiresAt: entry.staleUntil });
    } finally {
      this.inserting = undefined;
    }
    const counters = this.counters(namespace);
    if (stored) {
      const bytes = this.bytesOf(composite, entry);
      counters.puts++;
      counters.entries++;
      counters.bytes += bytes;
      this.total.puts++;
      this.total.entries++;
      this.total.bytes += bytes;
    }
    return stored;
  }

  delete(namespace: string, key: string): boolean {
    return this.cache.delete(this.composite(namespace, key));
  }

  clear(namespace?: string): void {
    if (namespace === undefined) {
      this.cache.clear();
      return;
    }
    const prefix = namespace + SEPARATOR;
    const doomed = [...this.cache.keys()].filter((k) => k.startsWith(prefix));
    for (const key of doomed) this.cache.delete(key);
  }

  adjustTtl(namespace: string, key: string, expiresAt: number): boolean {
    const entry = this.peek(namespace, key);
    if (!entry) return false;
    return this.set(namespace, key, withExpiry(entry, expiresAt));
  }

  frequency(namespace: string, key: string): number {
    return this.cache.frequency(this.composite(namespace, key));
  }

  wouldAdmit(namespace: string, key: string): boolean {
    return this.cache.wouldAdmit(this.composite(namespace, key));
  }

  onRemoval(listener: (namespace: string, key: string, cause: RemovalCause | "rejected") => void): void {
    this.removalListener = listener;
  }

  recordAccess(namespace: string, key: string): void {
    this.cache.recordAccess(this.composite(namespace, key));
  }

  topKeys(n: number, namespace?: string): KeyFrequency[] {
    const prefix = namespace === undefined ? undefined : namespace + SEPARATOR;
    const ranked = this.cache.topKeys(n, prefix ? (key) => key.startsWith(prefix) : undefined);
    return ranked.map(({ key, frequency }) => {
      const split = key.indexOf(SEPARATOR);
      return { namespace: key.slice(0, split), key: key.slice(split + 1), frequency };
    });
  }

  /** The key L1 holds `key` of `namespace` by. */
  private composite(namespace: string, key: string): string {
    if (key === this.lastKey && namespace === this.lastNamespace) return this.lastComposite;
    const composite = namespace + SEPARATOR + key;
    this.lastNamespace = namespace;
    this.lastKey = key;
    this.lastComposite = composite;
    return composite;
  }

  counters(namespace?: string): LayerCounters {
    if (namespace === undefined) {
      const stats = this.cache.stats();
      return { ...this.total, evictions: { ...stats.evictions }, admissionRejections: stats.admissionRejections };
    }
    return countersOf(this.perNamespace, namespace);
  }

  /** Removes expired entries now (they are also dropped lazily during writes). */
  cleanUp(): void {
    this.cache.cleanUp();
  }

  private bytesOf(composite: string, entry: Entry): number {
    return valueWeight(entry) + composite.length * 2 + ENTRY_OVERHEAD_BYTES;
  }

  private removed(composite: string, entry: Entry, cause: RemovalCause): void {
    const split = composite.indexOf(SEPARATOR);
    const namespace = composite.slice(0, split);
    const counters = this.counters(namespace);
    const rejected = entry === this.inserting && cause === "size";
    this.removalListener?.(namespace, composite.slice(split + 1), rejected ? "rejected" : cause);
    if (rejected) {
      // Lost the admission duel on the way in: it was never counted as stored.
      counters.admissionRejections++;
      return;
    }
    const bytes = this.bytesOf(composite, entry);
    counters.entries--;
    counters.bytes -= bytes;
    counters.evictions[cause]++;
    this.total.entries--;
    this.total.bytes -= bytes;
  }
}
