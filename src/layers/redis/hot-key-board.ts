import { CacheError, Status } from "../../errors.js";
import { connect, type RedisConnection } from "./connection.js";

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

/** Options of {@link FleetHotKeys}. */
export interface FleetHotKeysOptions extends RedisConnection {
  /** Prepended to the keys (default "mlc:"), like the Redis layer's. */
  keyPrefix?: string;
  /** This instance's identity: its set is named after it. */
  instanceId: string;
  /** A published set lives this long unless published again (an instance that stops drops out). */
  ttlMs: number;
  /** At most this many keys published per instance (default 1000). */
  maxPublished?: number;
}

type Client = ReturnType<typeof connect>;

/**
 * Hot keys shared through Redis, so `Inspect{fleet_wide}` can answer for every instance.
 * Each instance replaces one hash of its top keys (field "namespace\0key", value frequency)
 * with an expiry; a registry hash names the instances. Both carry the `{hot-keys}` hash tag,
 * so on a Redis Cluster they sit in one slot and a publish is one MULTI. Memory is bounded:
 * `maxPublished` fields per live instance, and dead instances' sets expire.
 *
 *   const fleet = new FleetHotKeys({ url, instanceId: "a", ttlMs: 30_000 });
 *   await fleet.publish(top); await fleet.read(10, "products");
 */
export class FleetHotKeys {
  private readonly client: Client;
  private readonly prefix: string;
  private readonly registryKey: string;
  private readonly ownKey: string;
  private readonly maxPublished: number;

  constructor(private readonly options: FleetHotKeysOptions) {
    this.client = connect(options);
    // A failed connection is reported by the calls that need it; keep ioredis from logging.
    this.client.on("error", () => {});
    this.prefix = `${options.keyPrefix ?? "mlc:"}{hot-keys}:`;
    this.registryKey = `${this.prefix}instances`;
    this.ownKey = this.instanceKey(options.instanceId);
    this.maxPublished = options.maxPublished ?? 1000;
  }

  /** Replaces this instance's published set with `keys` (hottest first; the excess is cut). */
  async publish(keys: readonly PublishedHotKey[]): Promise<void> {
    this.requireReady();
    const fields: Record<string, string> = {};
    for (const k of keys.slice(0, this.maxPublished)) fields[`${k.namespace}\u0000${k.key}`] = String(k.frequency);
    const ttl = this.options.ttlMs;
    const tx = this.client.multi().del(this.ownKey);
    if (Object.keys(fields).length > 0) tx.hset(this.ownKey, fields);
    await tx
      .pexpire(this.ownKey, ttl)
      .hset(this.registryKey, this.options.instanceId, String(Date.now()))
      .pexpire(this.registryKey, ttl)
      .exec();
  }

  /** The fleet's `n` hottest keys (of one namespace, or all), frequencies summed across instances. */
  async read(n: number, namespace?: string): Promise<FleetHotKey[]> {
    this.requireReady();
    const instances = Object.keys((await this.client.hgetall(this.registryKey)) as Record<string, string>);
    if (instances.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of instances) pipeline.hgetall(this.instanceKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const merged = new Map<string, FleetHotKey>();
    const gone: string[] = [];
    replies.forEach(([error, reply], i) => {
      const fields = (error ? {} : reply) as Record<string, string>;
      const names = Object.keys(fields);
      // An instance whose set expired has stopped publishing: forget it.
      if (!error && names.length === 0) gone.push(instances[i] as string);
      for (const field of names) {
        const split = field.indexOf("\u0000");
        const ns = field.slice(0, split);
        if (namespace !== undefined && ns !== namespace) continue;
        const frequency = Number(fields[field]);
        const found = merged.get(field);
        if (found) {
          found.frequency += frequency;
          found.instances++;
        } else {
          merged.set(field, { namespace: ns, key: field.slice(split + 1), frequency, instances: 1 });
        }
      }
    });
    if (gone.length > 0) await this.client.hdel(this.registryKey, ...gone).catch(() => {});
    return [...merged.values()]
      .sort((a, b) => b.frequency - a.frequency || (a.key < b.key ? -1 : 1))
      .slice(0, Math.max(0, n));
  }

  /** Removes this instance's set (clean shutdown) and closes the connection. */
  async close(): Promise<void> {
    if (this.client.status === "ready") {
      await this.client
        .multi()
        .del(this.ownKey)
        .hdel(this.registryKey, this.options.instanceId)
        .exec()
        .catch(() => {});
    }
    this.client.disconnect();
  }

  private instanceKey(id: string): string {
    return `${this.prefix}instance:${id}`;
  }

  private requireReady(): void {
    if (this.client.status !== "ready") {
      throw new CacheError(Status.UNAVAILABLE, `fleet hot keys: Redis is not connected (${this.client.status})`);
    }
  }
}
