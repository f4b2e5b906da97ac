import type { EngineCore } from "./core.js";
import { type Entry, EntryFlags } from "./entry.js";
import type { Lease } from "./layer.js";
import type { LoadResult } from "./loader.js";
import type { NamespaceState } from "./namespaces.js";
import type { NamespaceSettings } from "./policy.js";
import { HitWindows, promotionRefusal } from "./promotion.js";
import { layerTimeline, promotedEntry, ttlFor } from "./timeline.js";

/** A value's entry in each layer; no `l2` when L2 is not to be written. */
export interface StoreEntries {
  l1: Entry;
  l2: Entry | undefined;
}

/** How a store went: written, refused by L2 (it keeps something newer), or L2 unreachable. */
export type StoreOutcome = "stored" | "refused" | "l2-unreachable";

/**
 * Where a value goes: the entries it gets in each layer (admission decides whether L2 gets
 * one), the writes themselves, L2 before L1, and the promotion of L2 hits into L1.
 */
export class Placement {
  /** L2 hits per key for the AFTER_HITS promotion rule (bounded). */
  readonly hits = new HitWindows();

  constructor(private readonly core: EngineCore) {}

  /**
   * The entries a value gets in each layer (see timeline.ts). `l2` is undefined when L2 is not
   * to be written: L2 off, or admission keeping a one-hit wonder out (unless `skipL2Admission`).
   * `loaded`: the value comes from a load begun at `createdAt` (versioned then by that time
   * unless the loader gave a version: flag LOAD_TIMED).
   */
  entriesFor(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    result: LoadResult,
    createdAt: number,
    loadMs: number,
    freshForMs: number | undefined,
    version: bigint,
    skipL2Admission = false,
    loaded = false,
  ): StoreEntries {
    const { l1, l2, random } = this.core;
    const originVersion = result.version !== undefined && result.version > 0n;
    const base = {
      value: result.found && result.value ? result.value : new Uint8Array(0),
      createdAt,
      version: originVersion ? (result.version as bigint) : version,
      tags: result.tags ?? [],
      flags: (result.found ? 0 : EntryFlags.NEGATIVE) | (loaded && !originVersion ? EntryFlags.LOAD_TIMED : 0),
      loadMs,
    };
    const popularity = settings.adaptiveTtl.enabled && l1 ? l1.frequency(ns.name, key) : undefined;
    // A TTL the caller or the origin named is kept exactly; only policy TTLs get jitter.
    const exact = result.found && result.ttlMs !== undefined;
    const l1Timeline = layerTimeline(
      base,
      settings,
      settings.l1,
      ttlFor(settings, settings.l1, result, popularity),
      freshForMs,
      exact,
      random,
    );
    // With L1 admission off for the namespace, its entries skip TinyLFU's duel in L1.
    const l1Entry = settings.l1.admission ? l1Timeline : { ...l1Timeline, flags: l1Timeline.flags | EntryFlags.ADMIT };
    // L2 admission: one-hit wonders (keys L1's sketch has seen less than twice) stay out of Redis.
    const admitted = skipL2Admission || !settings.l2.admission || (l1?.frequency(ns.name, key) ?? 2) >= 2;
    const l2Entry =
      l2 && settings.l2.enabled && admitted
        ? layerTimeline(
            base,
            settings,
            settings.l2,
            ttlFor(settings, settings.l2, result, popularity),
            freshForMs,
            exact,
            random,
          )
        : undefined;
    return { l1: l1Entry, l2: l2Entry };
  }

  /**
   * Writes a value's entries, L2 then L1. When L2 keeps what it has (a newer version, or a
   * deletion newer than the value) L1 is left alone too: this instance never holds a copy older
   * than the shared one. An unreachable L2 does not stop the L1 write (the instance serves on).
   * `lease`: the fleet lease a loaded value was won under, for L2 to release with the write.
   */
  store(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    entries: StoreEntries,
    lease?: Lease,
  ): StoreOutcome | Promise<StoreOutcome> {
    const { l2 } = this.core;
    if (!l2 || !entries.l2) return this.storeL1(ns, settings, key, entries.l1, "stored"); // no promise for L1 alone
    let written: Promise<boolean>;
    try {
      written = l2.set(ns.name, key, entries.l2, lease);
    } catch {
      return this.storeL1(ns, settings, key, entries.l1, "l2-unreachable");
    }
    return written.then(
      (stored) => {
        if (!stored) return "refused";
        ns.stats.l2Puts++;
        return this.storeL1(ns, settings, key, entries.l1, "stored");
      },
      () => this.storeL1(ns, settings, key, entries.l1, "l2-unreachable"),
    );
  }

  /** The L1 half of {@link store}, after L2 took the value (or could not be reached). */
  private storeL1(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    entry: Entry,
    outcome: StoreOutcome,
  ): StoreOutcome {
    const { l1 } = this.core;
    if (l1 && settings.l1.enabled) {
      if (l1.set(ns.name, key, entry)) {
        ns.stats.l1Puts++;
        this.core.l1History.note(ns.name, key, "present");
      } else this.core.l1History.note(ns.name, key, "rejected-by-admission");
    }
    return outcome;
  }

  /**
   * Copies an L2 hit into L1 per the key's promotion rule (see {@link promotionRefusal} and
   * {@link promotedEntry}); what happened is recorded for Inspect.
   */
  promote(ns: NamespaceState, settings: NamespaceSettings, key: string, l2Entry: Entry): void {
    const { l1, l1History } = this.core;
    if (!l1) return;
    const now = this.core.clock.now();
    const refusal = promotionRefusal(l1, this.hits, settings, ns.name, key, now);
    if (refusal) {
      ns.stats.promotionsRefused++;
      l1History.note(ns.name, key, refusal);
      return;
    }
    const entry = promotedEntry(l2Entry, settings, now, this.core.random);
    if (l1.set(ns.name, key, entry)) {
      ns.stats.l1Puts++;
      l1History.note(ns.name, key, "present");
    } else l1History.note(ns.name, key, "rejected-by-admission");
  }
}
