import type { KeyFrequency } from "../engine/layer.js";
import { TopK } from "./top-k.js";

/**
 * This instance's hot keys: one bounded top-K of accesses per namespace, counts decayed at the
 * end of each window.
 *
 *   const ranks = new HotKeyRanks(256); ranks.add("products", "42"); ranks.hottest(10);
 */
export class HotKeyRanks {
  private readonly tops = new Map<string, TopK>();

  /** @param capacity keys held per namespace */
  constructor(private readonly capacity: number) {}

  /** Counts one access of a key. */
  add(namespace: string, key: string): void {
    let top = this.tops.get(namespace);
    if (!top) {
      top = new TopK(this.capacity);
      this.tops.set(namespace, top);
    }
    top.add(key);
  }

  /** The `n` hottest keys (of one namespace, or all), frequency = decayed accesses. */
  hottest(n: number, namespace?: string): KeyFrequency[] {
    const of = (ns: string, top: TopK) =>
      top.top(n).map((k) => ({ namespace: ns, key: k.key, frequency: Math.round(k.count) }));
    if (namespace !== undefined) {
      const top = this.tops.get(namespace);
      return top ? of(namespace, top) : [];
    }
    const all = [...this.tops].flatMap(([ns, top]) => of(ns, top));
    return all.sort((a, b) => b.frequency - a.frequency).slice(0, n);
  }

  /** A key's decayed accesses, rounded; 0 when it is not among the hot ones. */
  frequency(namespace: string, key: string): number {
    return Math.round(this.tops.get(namespace)?.estimate(key) ?? 0);
  }

  /** Namespaces that have had an access. */
  namespaces(): string[] {
    return [...this.tops.keys()];
  }

  /** The top-K of a namespace, for the anomaly watch and the end of a window. */
  of(namespace: string): TopK | undefined {
    return this.tops.get(namespace);
  }
}
