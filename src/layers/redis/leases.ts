import { randomUUID } from "node:crypto";
import { Cluster } from "ioredis";
import type { Scheduler } from "../../engine/clock.js";
import type { Coordination, Lease, LeasePoll } from "../../engine/layer.js";
import type { EntryCodec } from "./entry-codec.js";
import type { GuardedClient } from "./guarded-client.js";
import type { RedisKeys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

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

// Release a lease only if we still hold it (a late holder must not free someone else's).
const RELEASE = new LuaScript(
  1,
  `
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
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
  ) {}

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

  /** A lease this instance won: renewed every command bound until released or `holdMs` passed. */
  private heldLease(leaseKey: string, token: string, ttlMs: number, holdMs: number): Lease {
    const guard = this.guard;
    const boundMs = guard.commandTimeoutMs;
    let released = false;
    let cancelRenewal = () => {};
    let renewalsLeft = Math.ceil((holdMs - ttlMs) / boundMs);
    const renew = () => {
      if (released || renewalsLeft-- <= 0) return;
      // A failed renewal is counted by the breaker; the next one (or the expiry) follows.
      guard.call(() => RENEW.run(guard.client, leaseKey, token, ttlMs)).catch(() => {});
      cancelRenewal = this.scheduler.schedule(boundMs, renew);
    };
    if (renewalsLeft > 0) cancelRenewal = this.scheduler.schedule(boundMs, renew);
    const done = () => {
      released = true;
      cancelRenewal();
    };
    return {
      wanted: async () => {
        if (released) return false;
        try {
          if ((await guard.call(() => WANTED.run(guard.client, leaseKey, token))) === 1) return true;
          done(); // released by the script
        } catch {
          // Unreachable: nobody can be told of the value through it anyway.
        }
        return false;
      },
      release: async () => {
        if (released) return;
        done();
        try {
          await guard.call(() => RELEASE.run(guard.client, leaseKey, token));
        } catch {
          // The lease expires on its own, within three command bounds.
        }
      },
    };
  }
}
