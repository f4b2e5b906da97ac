import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import type { Scheduler } from "../../engine/clock.js";
import type { Coordination, Lease, LeasePoll } from "../../engine/layer.js";
import type { EntryCodec } from "./entry-codec.js";
import type { GuardedClient } from "./guarded-client.js";
import type { RedisKeys } from "./keys.js";
import type { LeaseReleases } from "./lease-releases.js";
import { LuaScript } from "./lua-script.js";
import type { WriteBatcher } from "./write-batch.js";

// Leases hold the holder's token, with a '!' appended once another instance asked for the
// lease while it was held (it waits for the value to appear in L2).

// Take leases, or mark those held as wanted. KEYS: lease keys; ARGV: a token per key, then the
// time to live. Answers 1 per lease taken, 0 per lease held by another.
const ACQUIRE = new LuaScript(
  "any",
  `
local answers = {}
local ttl = ARGV[#ARGV]
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i], 'PX', ttl, 'NX') then
    answers[i] = 1
  else
    local held = redis.call('GET', KEYS[i])
    if held and string.sub(held, -1) ~= '!' then redis.call('APPEND', KEYS[i], '!') end
    answers[i] = 0
  end
end
return answers`,
);

// Release a lease only if we still hold it (a late holder must not free someone else's); when
// another instance waits for it, say so on the channel ARGV[2] (see lease-releases.ts).
const RELEASE = new LuaScript(
  1,
  `
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if string.sub(held, -1) == '!' then redis.pcall('PUBLISH', ARGV[2], KEYS[1]) end
return 1`,
);

// Whether our lease is wanted: 1 if so (it stays held); else 0, and the lease is released.
const WANTED = new LuaScript(
  1,
  `
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
if string.sub(held, -1) == '!' then return 1 end
redis.call('DEL', KEYS[1])
return 0`,
);

// Extend our lease (the holder is alive and still loading).
const RENEW = new LuaScript(
  1,
  `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
);

/**
 * Fleet leases on Redis (the engine's {@link Coordination}): one instance of the fleet loads a
 * key while the others wait for its value to appear in L2. A lease lives three command bounds
 * and its holder renews it every bound while it loads (up to `holdMs`), so the lease of a
 * holder that died, or one taken by a command that reached a stalled Redis after its caller
 * had given up, is gone within three bounds rather than after the whole load timeout.
 */
export class RedisLeases implements Coordination {
  constructor(
    private readonly guard: GuardedClient,
    private readonly keys: RedisKeys,
    private readonly codec: EntryCodec,
    private readonly scheduler: Scheduler,
    readonly releases: LeaseReleases,
  ) {}

  /** Calls `listener` when a lease of one of the keys is released while wanted (a hint, see lease-releases.ts). */
  watchReleases(namespace: string, keys: readonly string[], listener: () => void): () => void {
    return this.releases.watch(
      keys.map((key) => this.keys.lease(namespace, key)),
      listener,
    );
  }

  /** Takes the leases of keys in one round trip (one script call; on a cluster one per key, auto-pipelined per node). */
  async acquireLeases(
    namespace: string,
    keys: readonly string[],
    holdMs: number,
  ): Promise<(Lease | "held")[] | "unavailable"> {
    const guard = this.guard;
    if (guard.refusing) return "unavailable";
    const ttlMs = Math.max(1, Math.ceil(Math.min(holdMs, 3 * guard.commandTimeoutMs)));
    const leaseKeys = keys.map((key) => this.keys.lease(namespace, key));
    const tokens = keys.map(() => randomUUID());
    let won: unknown[];
    try {
      const client = guard.client;
      won = await guard.call(async () =>
        client instanceof Cluster
          ? Promise.all(
              leaseKeys.map(async (leaseKey, i) => {
                const [answer] = (await ACQUIRE.runKeys(client, [leaseKey], [tokens[i] as string, ttlMs])) as number[];
                return answer;
              }),
            )
          : ((await ACQUIRE.runKeys(client, leaseKeys, [...tokens, ttlMs])) as number[]),
      );
    } catch {
      return "unavailable"; // the breaker counted it; the engine loads without a lease
    }
    return won.map((reply, i) =>
      reply === 1 ? this.heldLease(leaseKeys[i] as string, tokens[i] as string, ttlMs, holdMs) : "held",
    );
  }

  /** The entries of keys and whether their leases are held, in one round trip. */
  poll(namespace: string, keys: readonly string[]): Promise<LeasePoll> {
    const dataKeys = keys.map((key) => this.keys.data(namespace, key));
    const leaseKeys = keys.map((key) => this.keys.lease(namespace, key));
    const client = this.guard.client;
    // One MGET on a single node; on a cluster (one MGET cannot span slots) auto-pipelined GETs.
    const fetch =
      client instanceof Cluster
        ? () => Promise.all([...dataKeys, ...leaseKeys].map((key) => client.getBuffer(key)))
        : () => client.mgetBuffer(...dataKeys, ...leaseKeys);
    return this.guard.call(fetch).then((replies) => ({
      entries: keys.map((_, i) => {
        // A tombstone is no value to wait for: the key was deleted after its load began.
        return this.codec.live(namespace, keys[i] as string, replies[i]);
      }),
      held: keys.map((_, i) => replies[keys.length + i] != null),
    }));
  }

  /**
   * Releases `lease` in the write batch under way, after the writes made before it in this
   * turn (the value loaded under it): one round trip for both. False when it cannot: not one of
   * these leases, released already, or a cluster (the lease is then released on its own).
   */
  releaseAlong(lease: Lease, writes: WriteBatcher): boolean {
    return lease instanceof RedisLease && lease.owner === this && lease.releaseAlong(writes);
  }

  /** A lease this instance won: renewed every command bound until released or `holdMs` passed. */
  private heldLease(leaseKey: string, token: string, ttlMs: number, holdMs: number): Lease {
    return new RedisLease(this, this.guard, this.scheduler, this.releases.channel, leaseKey, token, ttlMs, holdMs);
  }
}

/** A lease won on Redis: renewed every command bound until released or `holdMs` passed. */
class RedisLease implements Lease {
  private released = false;
  private cancelRenewal = () => {};
  private renewalsLeft: number;
  /** Its release in a write batch (see {@link releaseAlong}), once asked for. */
  private releasedAlong: Promise<number> | undefined;

  constructor(
    readonly owner: RedisLeases,
    private readonly guard: GuardedClient,
    private readonly scheduler: Scheduler,
    private readonly channel: string,
    private readonly leaseKey: string,
    private readonly token: string,
    private readonly ttlMs: number,
    holdMs: number,
  ) {
    this.renewalsLeft = Math.ceil((holdMs - ttlMs) / guard.commandTimeoutMs);
    if (this.renewalsLeft > 0) this.cancelRenewal = scheduler.schedule(guard.commandTimeoutMs, this.renew);
  }

  private readonly renew = () => {
    if (this.released || this.renewalsLeft-- <= 0) return;
    const { guard, leaseKey, token, ttlMs } = this;
    // A failed renewal is counted by the breaker; the next one (or the expiry) follows.
    guard.call(() => RENEW.run(guard.client, leaseKey, token, ttlMs)).catch(() => {});
    this.cancelRenewal = this.scheduler.schedule(guard.commandTimeoutMs, this.renew);
  };

  private done(): void {
    this.released = true;
    this.cancelRenewal();
  }

  async wanted(): Promise<boolean> {
    if (this.released) return false;
    const { guard, leaseKey, token } = this;
    try {
      if ((await guard.call(() => WANTED.run(guard.client, leaseKey, token))) === 1) return true;
      this.done(); // released by the script
    } catch {
      // Unreachable: nobody can be told of the value through it anyway.
    }
    return false;
  }

  releaseAlong(writes: WriteBatcher): boolean {
    if (this.released) return false;
    const along = writes.release(this.leaseKey, this.token, this.channel);
    if (!along) return false;
    this.done();
    along.catch(() => {}); // seen by release(), which falls back to a call of its own
    this.releasedAlong = along;
    return true;
  }

  async release(): Promise<void> {
    if (this.releasedAlong) {
      // Released with the write; if that call failed, once more on its own.
      const failed = await this.releasedAlong.then(
        () => false,
        () => true,
      );
      this.releasedAlong = undefined;
      if (!failed) return;
    } else if (this.released) return;
    this.done();
    const { guard, leaseKey, token, channel } = this;
    try {
      await guard.call(() => RELEASE.run(guard.client, leaseKey, token, channel));
    } catch {
      // The lease expires on its own, within three command bounds.
    }
  }
}
