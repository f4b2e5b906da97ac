import type { EngineCore } from "./core.js";
import type { Entry } from "./entry.js";
import type { Namespaces } from "./namespaces.js";
import type { NamespaceSettings } from "./policy.js";
import type { L1Reason } from "./promotion.js";
import type { ReadPath } from "./read-path.js";
import type { InFlightInfo, KeyInspection, KeyLayerInspection } from "./types.js";

/** Looks at what the engine holds without counting a hit or touching recency: keys per layer, loads running. */
export class Inspection {
  constructor(
    private readonly core: EngineCore,
    private readonly namespaces: Namespaces,
    private readonly reads: ReadPath,
  ) {}

  /** What each layer holds for a key. */
  async key(namespace: string, key: string): Promise<KeyInspection> {
    const { l1, l2, clock } = this.core;
    const now = clock.now();
    const ns = this.namespaces.find(namespace);
    const describe = (layer: "l1" | "l2", entry: Entry | undefined): KeyLayerInspection => {
      const live =
        entry && (ns ? this.reads.usable(ns, key, entry, {}, now) : now < entry.staleUntil ? entry : undefined);
      return {
        layer,
        present: live !== undefined,
        stale: live !== undefined && now >= live.expiresAt,
        ageMs: live ? Math.floor(now - live.createdAt) : 0,
        ttlRemainingMs: live ? Math.max(0, Math.floor(live.expiresAt - now)) : 0,
        version: live?.version ?? 0n,
        sizeBytes: live?.value.byteLength ?? 0,
      };
    };
    const layers: KeyLayerInspection[] = [];
    const inL1 = l1?.peek(namespace, key);
    if (l1) layers.push(describe("l1", inL1));
    if (l2) layers.push(describe("l2", await l2.peek(namespace, key)));
    const rule = this.core.policies.ruleFor(namespace, key);
    const settings = rule?.settings ?? this.core.policies.get(namespace);
    return {
      namespace,
      key,
      layers,
      frequency: l1?.frequency(namespace, key) ?? 0,
      lastLoadMs: ns?.stats.loadLatency.last ?? 0,
      l1Reason: l1 ? this.l1Reason(namespace, key, inL1, layers[0]?.present ?? false, settings, now) : undefined,
      rule: rule?.rule.name ?? "",
    };
  }

  /** Why a key is or is not in L1: present; switched off; else the last thing L1 saw happen to it. */
  private l1Reason(
    namespace: string,
    key: string,
    held: Entry | undefined,
    present: boolean,
    settings: NamespaceSettings,
    now: number,
  ): L1Reason {
    if (present) return "present";
    if (!settings.l1.enabled) return "disabled";
    // Held but not usable: past its time, or hidden by a tag/prefix invalidation stamp.
    if (held) return now >= held.staleUntil ? "expired" : "removed";
    const last = this.core.l1History.of(namespace, key);
    // Present once, gone now without a recorded removal: its time ran out (L1 drops expired entries lazily).
    return last === "present" ? "expired" : last;
  }

  /** Loads running now, of one namespace or all. */
  inFlight(namespace?: string): InFlightInfo[] {
    const out: InFlightInfo[] = [];
    for (const ns of this.namespaces.values()) {
      if (namespace && ns.name !== namespace) continue;
      for (const [key, flight] of ns.flights.entries()) {
        out.push({ namespace: ns.name, key, startedAt: flight.startedAt, waiters: flight.waiters });
      }
    }
    return out;
  }

  /** Number of loads running now (bounded by concurrent distinct misses). */
  inFlightCount(): number {
    let count = 0;
    for (const ns of this.namespaces.values()) count += ns.flights.size;
    return count;
  }
}
