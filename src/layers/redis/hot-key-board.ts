import { CacheError, Status } from "../../errors.js";
import { connect, type RedisClient, type RedisConnection } from "./connection.js";

// The storage half of fleet-wide hot keys; telemetry/fleet-hot-keys.ts owns the concept and
// declares the HotKeyBoard interface this class fits. It is not imported here (layers/ never
// import telemetry/): the shape below matches it structurally, checked where src/server.ts
// hands this class to the telemetry.

/** A key as an instance publishes it: its estimated (decayed) access count there. */
export interface HotKeyRecord {
  namespace: string;
  key: string;
  frequency: number;
}

/** Options of a {@link RedisHotKeyBoard}. */
export interface RedisHotKeyBoardOptions extends RedisConnection {
  /** Prepended to the keys (default "mlc:"), like the Redis layer's. */
  keyPrefix?: string | undefined;
  /** This instance's identity: its set is named after it. */
  instanceId: string;
  /** A published set lives this long unless published again (an instance that stops drops out). */
  ttlMs: number;
  /** At most this many keys published per instance (default 1000). */
  maxPublished?: number;
}

/**
 * Hot-key sets of a fleet's instances, in Redis (on its own connection). Each instance
 * replaces one hash of its top keys (field "namespace\0key", value frequency) with an expiry;
 * a registry hash names the instances. Both carry the `{hot-keys}` hash tag, so on a Redis
 * Cluster they sit in one slot and a publish is one MULTI. Memory is bounded: `maxPublished`
 * fields per live instance, and dead instances' sets expire.
 *
 *   const board = new RedisHotKeyBoard({ url, instanceId: "a", ttlMs: 30_000 });
 *   await board.publish(top); const sets = await board.sets();
 */
export class RedisHotKeyBoard {
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly registryKey: string;
  private readonly ownKey: string;
  private readonly maxPublished: number;

  constructor(private readonly options: RedisHotKeyBoardOptions) {
    this.client = connect(options);
    // A failed connection is reported by the calls that need it; keep ioredis from logging.
    this.client.on("error", () => {});
    this.prefix = `${options.keyPrefix ?? "mlc:"}{hot-keys}:`;
    this.registryKey = `${this.prefix}instances`;
    this.ownKey = this.instanceKey(options.instanceId);
    this.maxPublished = options.maxPublished ?? 1000;
  }

  /** Replaces this instance's published set with `keys` (hottest first; the excess is cut). */
  async publish(keys: readonly HotKeyRecord[]): Promise<void> {
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

  /** The set of every instance in the registry whose set has not expired. */
  async sets(): Promise<HotKeyRecord[][]> {
    this.requireReady();
    const instances = Object.keys((await this.client.hgetall(this.registryKey)) as Record<string, string>);
    if (instances.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of instances) pipeline.hgetall(this.instanceKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const sets: HotKeyRecord[][] = [];
    const gone: string[] = [];
    replies.forEach(([error, reply], i) => {
      const fields = (error ? {} : reply) as Record<string, string>;
      const names = Object.keys(fields);
      // An instance whose set expired has stopped publishing: forget it.
      if (!error && names.length === 0) gone.push(instances[i] as string);
      sets.push(
        names.map((field) => {
          const split = field.indexOf("\u0000");
          return { namespace: field.slice(0, split), key: field.slice(split + 1), frequency: Number(fields[field]) };
        }),
      );
    });
    if (gone.length > 0) await this.client.hdel(this.registryKey, ...gone).catch(() => {});
    return sets;
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
