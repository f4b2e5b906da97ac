// Fleet-wide hot keys: each instance publishes its top keys to a shared board, and Inspect
// {fleet_wide} merges what every live instance published. Telemetry owns the concept (what is
// published, how sets merge); the board is storage only. The production board is Redis
// (layers/redis/hot-key-board.ts). That file does not import this one: layers/ never import
// telemetry/, so it declares a class of the same shape, and TypeScript checks the fit
// structurally where the two meet (src/server.ts passes it as a HotKeyBoardFactory).

/** A key one instance reports as hot, with its estimated (decayed) access count there. */
export interface PublishedHotKey {
  namespace: string;
  key: string;
  frequency: number;
}

/** A hot key of the whole fleet: frequencies summed over the instances that reported it. */
export interface FleetHotKey extends PublishedHotKey {
  /** Instances that reported the key. */
  instances: number;
}

/**
 * Where the instances of a fleet share their hot keys: each replaces its own set, which
 * expires unless published again; reading gives every live instance's set.
 */
export interface HotKeyBoard {
  /** Replaces this instance's published set with `keys` (hottest first; the excess is cut). */
  publish(keys: readonly PublishedHotKey[]): Promise<void>;
  /** The set of every instance that published within the expiry. */
  sets(): Promise<PublishedHotKey[][]>;
  /** Withdraws this instance's set (clean shutdown) and releases the storage. */
  close(): Promise<void>;
}

/** What a board is made for: this instance, how long a set lives, how many keys it holds. */
export interface HotKeyBoardSettings {
  instanceId: string;
  ttlMs: number;
  maxPublished: number;
}

/** Makes the board telemetry publishes to (it knows the settings; the caller knows the storage). */
export type HotKeyBoardFactory = (settings: HotKeyBoardSettings) => HotKeyBoard;

/** The fleet's `n` hottest keys (of one namespace, or all), frequencies summed across instances. */
export function mergeHotKeys(sets: readonly PublishedHotKey[][], n: number, namespace?: string): FleetHotKey[] {
  const merged = new Map<string, FleetHotKey>();
  for (const set of sets) {
    for (const { namespace: ns, key, frequency } of set) {
      if (namespace !== undefined && ns !== namespace) continue;
      const id = `${ns}\u0000${key}`;
      const found = merged.get(id);
      if (found) {
        found.frequency += frequency;
        found.instances++;
      } else {
        merged.set(id, { namespace: ns, key, frequency, instances: 1 });
      }
    }
  }
  return [...merged.values()]
    .sort((a, b) => b.frequency - a.frequency || (a.key < b.key ? -1 : 1))
    .slice(0, Math.max(0, n));
}

/**
 * A board in this process's memory, shared by the instances given the same `sets` map (tests,
 * a fleet of in-process instances). Sets do not expire.
 *
 *   const shared = new Map();
 *   const factory: HotKeyBoardFactory = (s) => new MemoryHotKeyBoard(shared, s);
 */
export class MemoryHotKeyBoard implements HotKeyBoard {
  constructor(
    private readonly shared: Map<string, PublishedHotKey[]>,
    private readonly settings: HotKeyBoardSettings,
  ) {}

  async publish(keys: readonly PublishedHotKey[]): Promise<void> {
    this.shared.set(this.settings.instanceId, keys.slice(0, this.settings.maxPublished));
  }

  async sets(): Promise<PublishedHotKey[][]> {
    return [...this.shared.values()];
  }

  async close(): Promise<void> {
    this.shared.delete(this.settings.instanceId);
  }
}
