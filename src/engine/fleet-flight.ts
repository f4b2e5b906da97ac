import type { Clock, Scheduler } from "./clock.js";
import type { Entry } from "./entry.js";
import type { Coordination, Lease } from "./layer.js";
import type { Lookup } from "./types.js";

/** A key this instance is about to load (the manager's miss, with whatever it carries). */
export interface FleetMiss {
  readonly key: string;
}

/** What {@link loadOncePerFleet} needs from the manager. */
export interface FleetFlightHost<M extends FleetMiss> {
  /**
   * Loads keys at the origin (one `loadMany` where the loader has it) and stores them; with the
   * lease each was won under, or none when loading without coordination. Per key its lookup.
   */
  load(misses: readonly M[], leases: ReadonlyMap<string, Lease> | undefined): Map<string, Promise<Lookup>>;
  /** The answer a peer's entry gives a waiting miss, or undefined while it is not the value waited for. */
  fromPeer(miss: M, entry: Entry | undefined): Lookup | undefined;
  /** Keys about to be loaded without the lease: coordination unreachable, or the wait gave up. */
  uncoordinated(count: number): void;
  /** A wait for peers ended: keys waited for, its length (ms), keys a peer answered. */
  waited?(keys: number, ms: number, answeredByPeers: number): void;
}

/** How one fleet load goes. */
export interface FleetFlightOptions {
  namespace: string;
  /** The longest a holder may keep a lease, and a waiter wait for it (the load's hard timeout). */
  holdMs: number;
  /** Look in the shared layer first (a refresh: a peer may have reloaded the keys already). */
  checkFirst: boolean;
  clock: Clock;
  scheduler: Scheduler;
}

/** First wait between polls of the shared layer; doubled up to {@link MAX_POLL_MS}. */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * Fleet-wide single flight for keys this instance missed: of the instances missing a key at the
 * same time, the one that takes the key's lease loads it; the others wait for the value to
 * appear in the shared layer instead of calling the origin too. Many keys cost one round trip to
 * take their leases, one `loadMany` for the keys won, and one round trip per poll for the keys
 * held elsewhere. A waiter marks the lease wanted, so the holder stores the value in the shared
 * layer even where admission would keep a cold key out. When a lease is released without a
 * value the waiters try to take it again; when coordination cannot be reached, or the holder
 * takes longer than `holdMs`, each instance loads for itself (counted as uncoordinated). Every
 * step that asks the shared layer is bounded by its command bound; the waits between polls go
 * through the injected scheduler.
 *
 * Returns a promise per key, created now (so the caller can share it as the key's flight).
 */
export function loadOncePerFleet<M extends FleetMiss>(
  coordination: Coordination,
  misses: readonly M[],
  options: FleetFlightOptions,
  host: FleetFlightHost<M>,
): Map<string, Promise<Lookup>> {
  const answers = new Map<string, Promise<Lookup>>();
  const resolvers = new Map<string, (lookup: Lookup | Promise<Lookup>) => void>();
  for (const miss of misses) {
    answers.set(miss.key, new Promise<Lookup>((resolve) => resolvers.set(miss.key, resolve)));
  }
  const answer = (key: string, lookup: Lookup | Promise<Lookup>) => {
    resolvers.get(key)?.(lookup);
    resolvers.delete(key);
  };
  const flight = new FleetFlight(coordination, options, host, answer);
  flight.run(misses).catch((error: unknown) => {
    for (const key of [...resolvers.keys()]) answer(key, Promise.reject(error));
  });
  return answers;
}

class FleetFlight<M extends FleetMiss> {
  private readonly giveUpAt: number;

  constructor(
    private readonly coordination: Coordination,
    private readonly options: FleetFlightOptions,
    private readonly host: FleetFlightHost<M>,
    private readonly answer: (key: string, lookup: Lookup | Promise<Lookup>) => void,
  ) {
    this.giveUpAt = options.clock.now() + options.holdMs;
  }

  async run(misses: readonly M[]): Promise<void> {
    let pending = misses;
    if (this.options.checkFirst) {
      const polled = await this.poll(pending);
      if (!polled) return this.loadUncoordinated(pending);
      pending = pending.filter((miss, i) => !this.answerFromPeer(miss, polled.entries[i]));
    }
    while (pending.length > 0) {
      const leases =
        this.options.clock.now() < this.giveUpAt
          ? await this.coordination
              .acquireLeases(
                this.options.namespace,
                pending.map((m) => m.key),
                this.options.holdMs,
              )
              // A layer that rejects instead of answering "unavailable" means the same.
              .catch(() => "unavailable" as const)
          : "unavailable";
      if (leases === "unavailable") return this.loadUncoordinated(pending);
      const won = new Map<string, Lease>();
      const held: M[] = [];
      pending.forEach((miss, i) => {
        const lease = leases[i];
        if (lease === undefined || lease === "held") held.push(miss);
        else won.set(miss.key, lease);
      });
      if (won.size > 0)
        this.loadHolding(
          pending.filter((miss) => won.has(miss.key)),
          won,
        );
      if (held.length === 0) return;
      pending = await this.waitForPeers(held);
    }
  }

  /** Loads keys whose leases this instance won, and releases each once its value is stored. */
  private loadHolding(misses: readonly M[], leases: ReadonlyMap<string, Lease>): void {
    const loads = this.host.load(misses, leases);
    for (const miss of misses) {
      const lease = leases.get(miss.key) as Lease;
      const load = loads.get(miss.key) ?? Promise.reject(new Error(`no load for ${miss.key}`));
      this.answer(
        miss.key,
        load.then(
          (lookup) => lease.release().then(() => lookup),
          (error: unknown) =>
            lease.release().then(() => {
              throw error;
            }),
        ),
      );
    }
  }

  private loadUncoordinated(misses: readonly M[]): void {
    if (misses.length === 0) return;
    this.host.uncoordinated(misses.length);
    const loads = this.host.load(misses, undefined);
    for (const miss of misses) {
      this.answer(miss.key, loads.get(miss.key) ?? Promise.reject(new Error(`no load for ${miss.key}`)));
    }
  }

  /**
   * Polls the shared layer (5 ms doubling to 100 ms, one round trip for all keys) until each key
   * has its value, its lease is gone, or the wait gives up; a holder's word that it released one
   * of the leases (see {@link Coordination.watchReleases}) brings the next poll forward to now.
   * Keys answered by a peer are answered here; keys given up on are loaded here without the
   * lease; returns the keys whose leases were released without a value (the caller tries to
   * take them).
   */
  private async waitForPeers(waiting: readonly M[]): Promise<M[]> {
    const released: M[] = [];
    const { clock, scheduler, namespace } = this.options;
    const started = clock.now();
    let answered = 0;
    let left = waiting;
    // Word that came while a poll was under way counts for the next wait.
    let heard = false;
    let wake: (() => void) | undefined;
    const unwatch =
      this.coordination.watchReleases?.(
        namespace,
        waiting.map((m) => m.key),
        () => {
          heard = true;
          wake?.();
        },
      ) ?? (() => {});
    try {
      for (let delay = FIRST_POLL_MS; left.length > 0; delay = Math.min(delay * 2, MAX_POLL_MS)) {
        const remaining = this.giveUpAt - clock.now();
        if (remaining <= 0) break;
        if (!heard) {
          await new Promise<void>((resolve) => {
            const cancel = scheduler.schedule(Math.min(delay, remaining), () => {
              wake = undefined;
              resolve();
            });
            wake = () => {
              wake = undefined;
              cancel();
              resolve();
            };
          });
        }
        heard = false;
        const polled = await this.poll(left);
        if (!polled) break;
        const next: M[] = [];
        left.forEach((miss, i) => {
          if (this.answerFromPeer(miss, polled.entries[i])) {
            answered++;
            return;
          }
          if (polled.held[i]) next.push(miss);
          else released.push(miss);
        });
        left = next;
      }
    } finally {
      unwatch();
    }
    this.host.waited?.(waiting.length, clock.now() - started, answered);
    this.loadUncoordinated(left);
    return released;
  }

  private answerFromPeer(miss: M, entry: Entry | undefined): boolean {
    const lookup = this.host.fromPeer(miss, entry);
    if (lookup) this.answer(miss.key, lookup);
    return lookup !== undefined;
  }

  /** One poll; undefined when the shared layer did not answer within its bound. */
  private async poll(misses: readonly M[]) {
    try {
      return await this.coordination.poll(
        this.options.namespace,
        misses.map((m) => m.key),
      );
    } catch {
      return undefined;
    }
  }
}
