import type { CacheManager } from "./cache-manager.js";

/** Options of the priority refresher. */
export interface RefresherOptions {
  /** How often to look for hot keys close to going stale (default 1 s). */
  intervalMs?: number;
}

/**
 * Keeps the hottest keys of each namespace with `priorityRefresh` on (for the namespace, or for
 * the keys of a rule that switches it on) from going stale: every
 * interval it takes the namespace's top keys by the L1 sketch, picks those whose freshness
 * ends within the next two intervals, and reloads them under the namespace's budget (at most
 * `maxPerSecond` keys per second, `maxConcurrent` loader calls at once; keys of one call go
 * to the loader's `loadMany` together).
 */
export class PriorityRefresher {
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Unused refresh allowance per namespace, so a budget below one key per tick still refreshes. */
  private readonly allowance = new Map<string, number>();

  constructor(
    private readonly manager: CacheManager,
    options: RefresherOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow round is not stacked on
      this.running = true;
      this.tick()
        .catch(() => {})
        .finally(() => {
          this.running = false;
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round; resolves to how many keys were refreshed. */
  async tick(): Promise<number> {
    const now = this.manager.clock.now();
    let refreshed = 0;
    for (const namespace of this.manager.namespaceNames()) {
      const settings = this.manager.policies.get(namespace);
      const { priorityRefresh } = settings;
      // Key rules may switch it on (or off) for their keys; the budget stays the namespace's.
      const byRule = settings.rules.length > 0;
      const someRuleOn = byRule && settings.rules.some((rule) => rule.overrides.priorityRefresh?.enabled === true);
      if (!priorityRefresh.enabled && !someRuleOn) {
        this.allowance.delete(namespace);
        continue;
      }
      const allowance = Math.min(
        priorityRefresh.maxPerSecond,
        (this.allowance.get(namespace) ?? 0) + (priorityRefresh.maxPerSecond * this.intervalMs) / 1000,
      );
      const due: string[] = [];
      for (const { key } of this.manager.hotKeys(priorityRefresh.topKeys, namespace)) {
        if (due.length >= Math.floor(allowance)) break;
        if (byRule && !this.manager.policies.forKey(namespace, key).priorityRefresh.enabled) continue;
        const entry = this.manager.peekL1(namespace, key);
        if (entry && now >= entry.freshUntil - 2 * this.intervalMs) due.push(key);
      }
      this.allowance.set(namespace, allowance - due.length);
      if (due.length === 0) continue;
      const calls = Math.min(priorityRefresh.maxConcurrent, due.length);
      const chunk = Math.ceil(due.length / calls);
      const batches = Array.from({ length: calls }, (_, i) => due.slice(i * chunk, (i + 1) * chunk));
      const counts = await Promise.all(batches.map((keys) => this.manager.refresh(namespace, keys)));
      refreshed += counts.reduce((a, b) => a + b, 0);
    }
    return refreshed;
  }
}
