import type { Encryption } from "../../crypto/key-ring.js";
import { type Clock, type Scheduler, systemClock, systemScheduler } from "../../engine/clock.js";
import { type Entry, EntryFlags, withExpiry } from "../../engine/entry.js";
import type { ServiceHealth } from "../../engine/health.js";
import {
  countersOf,
  countLookup,
  emptyCounters,
  type Layer,
  type LayerCounters,
  type Lease,
  type QueuedWriteTarget,
  type StampSet,
  type Tombstone,
} from "../../engine/layer.js";
import { TokenBucket } from "../../engine/token-bucket.js";
import { CacheError, Status } from "../../errors.js";
import { connect, type RedisClient, type RedisConnection } from "./connection.js";
import { EntryCodec } from "./entry-codec.js";
import { isEnvelopeHeader } from "./envelope.js";
import { GuardedClient, type RedisLayerLogger } from "./guarded-client.js";
import { RedisKeys } from "./keys.js";
import { LeaseReleases } from "./lease-releases.js";
import { RedisLeases } from "./leases.js";
import { ReadBatcher, type ReadReply } from "./read-batch.js";
import { type ResealStep, resealStep } from "./reseal.js";
import { StampSync } from "./stamp-sync.js";
import { tombstoneEnvelope } from "./versioned-writes.js";
import { WriteBatcher } from "./write-batch.js";

export type { RedisConnection, RedisTls } from "./connection.js";
export type { RedisLayerLogger } from "./guarded-client.js";
export type { ResealStep } from "./reseal.js";

/** Options of the Redis layer. */
export interface RedisLayerOptions extends RedisConnection {
  /** Prepended to every key (default "mlc:"). */
  keyPrefix?: string;
  clock?: Clock;
  /** Runs the command-bound timer and lease renewals (default: Node's timers). */
  scheduler?: Scheduler;
  /**
   * The command bound: a call Redis has not answered within it fails (the caller goes on
   * without Redis) and the connection is dropped and made again (default 1000 ms).
   */
  commandTimeoutMs?: number;
  /** Writes and invalidations kept while Redis is down, latest per key (default 10,000). */
  maxQueued?: number;
  /** Breaker: open after this share of failed commands (default 50%) … */
  breakerErrorPercent?: number;
  /** … and stay open this long before a trial command (default 1000 ms). */
  breakerResetMs?: number;
  /**
   * A coarse limit on this instance's L2 reads (per second, bursts of one second's worth):
   * reads past it are answered as misses at once (counted in `readsRateLimited`), so one
   * instance cannot flood Redis with reads. Writes, deletes and leases are not limited.
   */
  maxReadsPerSecond?: number | undefined;
  /**
   * Values of namespaces with a key are sealed (AES-256-GCM, envelope format 2) and opened with
   * the ring; without it, sealed values read as misses (counted as unreadable).
   */
  encryption?: Encryption | undefined;
  /** Told of breaker state changes and of queued writes Redis refused for good (default: none). */
  logger?: RedisLayerLogger | undefined;
}

/**
 * L2 on Redis (single node, Cluster or Sentinel). Entries are binary envelopes written with a
 * version check in Lua; invalidation stamps are shared through a per-namespace hash that every
 * read checks for changes (through a version number read in the same round trip, once for all
 * the reads started in one turn of the event loop). A breaker guards every call: while Redis
 * is down reads miss at once, and writes and invalidations are queued (latest per key,
 * bounded) and replayed when it is back.
 *
 * The rooms it is made of: connection.ts builds the client, guarded-client.ts puts the
 * breaker, command bound and write queue around it, keys.ts names the keys, read-batch.ts
 * batches the reads, stamp-sync.ts shares the stamps, leases.ts coordinates loads across the
 * fleet and reseal.ts re-encrypts. This class composes them into a {@link Layer}.
 */
export class RedisLayer implements Layer<true> {
  readonly name = "l2";
  readonly coordination: RedisLeases;
  /** Reads answered as misses because this instance was past `maxReadsPerSecond`. */
  readsRateLimited = 0;
  private readonly guard: GuardedClient;
  private readonly keys: RedisKeys;
  private readonly codec: EntryCodec;
  private readonly stamps: StampSync;
  private readonly reads: ReadBatcher;
  private readonly writes: WriteBatcher;
  private readonly releases: LeaseReleases;
  private readonly clock: Clock;
  private readonly perNamespace = new Map<string, LayerCounters>();
  private readonly total = emptyCounters();
  private readonly readBudget: TokenBucket | undefined;
  private readonly encryption: Encryption | undefined;

  constructor(options: RedisLayerOptions) {
    this.encryption = options.encryption;
    this.keys = new RedisKeys(options.keyPrefix ?? "mlc:");
    this.clock = options.clock ?? systemClock;
    const scheduler: Scheduler = options.scheduler ?? systemScheduler;
    this.readBudget = options.maxReadsPerSecond
      ? new TokenBucket({ perSecond: options.maxReadsPerSecond, clock: this.clock })
      : undefined;
    this.codec = new EntryCodec(this.encryption, (namespace) => {
      this.counters(namespace).unreadable++;
      this.total.unreadable++;
    });
    this.guard = new GuardedClient(
      {
        connection: options,
        clock: this.clock,
        scheduler,
        commandTimeoutMs: options.commandTimeoutMs ?? 1000,
        maxQueued: options.maxQueued ?? 10_000,
        breakerErrorPercent: options.breakerErrorPercent ?? 50,
        breakerResetMs: options.breakerResetMs ?? 1000,
        logger: options.logger,
      },
      {
        stamp: (op) => this.stamps.write(op.namespace, op.fields, op.at, op.retainMs),
        // A queued deletion leaves its tombstone when replayed (kept its whole time from now): a
        // load that began before it must still not store its value afterwards.
        delete: (op) => this.deleteCommand(op.namespace, op.key, op.tombstone),
        set: (op, ttlMs) => this.versionedSet(op.namespace, op.key, op.entry, ttlMs),
      },
    );
    this.stamps = new StampSync(this.guard, this.keys, this.clock);
    this.reads = new ReadBatcher(this.guard, this.keys, this.stamps);
    this.writes = new WriteBatcher(this.guard.client);
    this.releases = new LeaseReleases(this.keys.leaseReleases(), () => connect(options));
    this.coordination = new RedisLeases(this.guard, this.keys, this.codec, scheduler, this.releases);
  }

  /** The ioredis client, which tests reach to look at the connection itself. */
  private get client(): RedisClient {
    return this.guard.client;
  }

  /** Queued writes and invalidations a replay dropped because Redis refused them for good. */
  get replayDropped(): number {
    return this.guard.replayDropped;
  }

  /**
   * Resolves once the client is connected (or rejects after `timeoutMs`), and the subscription to
   * word of lease releases has been answered (taken or refused; not waited for past `timeoutMs`).
   */
  async waitUntilReady(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.guard.ready) {
      if (Date.now() > deadline) throw new Error(`redis not ready after ${timeoutMs} ms: ${this.guard.lastError}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    while (!this.releases.answered && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Reads one entry, batched with the namespace's other reads of this turn (see read-batch.ts). */
  get(namespace: string, key: string): Promise<Entry | undefined> {
    if (this.readBudget && !this.readBudget.tryTake()) return Promise.resolve(this.rateLimited(namespace, 1)[0]);
    const read = this.reads.read(namespace, this.keys.data(namespace, key));
    if (!read) return Promise.resolve(this.missed(namespace));
    return read.replies.then((replies) =>
      replies ? this.decodeOne(namespace, key, replies[read.index]) : this.missed(namespace),
    );
  }

  /** Reads entries through the same batches as {@link get}: one round trip for them and the stamp version. */
  getMany(namespace: string, keys: readonly string[]): Promise<(Entry | undefined)[]> {
    if (this.readBudget && !this.readBudget.tryTake()) return Promise.resolve(this.rateLimited(namespace, keys.length));
    const dataKeys = keys.map((key) => this.keys.data(namespace, key));
    return this.reads
      .readMany(namespace, dataKeys)
      .then((replies) => replies.map((reply, i) => this.decodeRead(namespace, keys[i] as string, reply)));
  }

  async peek(namespace: string, key: string): Promise<Entry | undefined> {
    try {
      const bytes = await this.guard.call(() => this.guard.client.getBuffer(this.keys.data(namespace, key)));
      return this.codec.live(namespace, key, bytes);
    } catch {
      return undefined; // the breaker counted it; a peek that cannot see Redis sees nothing
    }
  }

  /**
   * Writes an entry unless Redis holds a newer version. `lease`, the one the value was loaded
   * under, is released in the same call when it can be (a single node): see {@link RedisLeases.releaseAlong}.
   */
  async set(namespace: string, key: string, entry: Entry, lease?: Lease): Promise<boolean> {
    const ttl = Math.ceil(entry.staleUntil - this.clock.now());
    if (ttl <= 0) return false;
    const stored =
      (await this.guard.write(
        "write",
        () => {
          const written = this.versionedSet(namespace, key, entry, ttl);
          if (lease) this.coordination.releaseAlong(lease, this.writes);
          return written;
        },
        () => this.guard.queue.set(namespace, key, entry),
      )) === 1;
    if (stored) {
      this.counters(namespace).puts++;
      this.total.puts++;
    }
    return stored;
  }

  async delete(namespace: string, key: string, tombstone?: Tombstone): Promise<boolean> {
    const answer = await this.guard.write(
      "delete",
      () => this.deleteCommand(namespace, key, tombstone),
      () => this.guard.queue.delete(namespace, key, tombstone),
    );
    const removed = answer === 1;
    if (removed) {
      this.counters(namespace).evictions.explicit++;
      this.total.evictions.explicit++;
    }
    return removed;
  }
  /** The deletion itself (with its tombstone, if any); 1 when a value was present. */
  private deleteCommand(namespace: string, key: string, tombstone: Tombstone | undefined): Promise<unknown> {
    const dataKey = this.keys.data(namespace, key);
    return tombstone
      ? this.writes.write("delete", dataKey, tombstoneEnvelope(tombstone.at), Math.max(1, Math.ceil(tombstone.keepMs)))
      : this.guard.client.del(dataKey);
  }

  /** The version of the key's live copy, 0n when absent; rejects when Redis does not answer. */
  async currentVersion(namespace: string, key: string): Promise<bigint> {
    let header: Buffer;
    try {
      header = await this.guard.call(() => this.guard.client.getrangeBuffer(this.keys.data(namespace, key), 0, 10));
    } catch (error) {
      throw new CacheError(
        Status.UNAVAILABLE,
        `redis cannot tell the key's current version (${(error as Error).message}); nothing was changed`,
      );
    }
    if (header.length < 11 || !isEnvelopeHeader(header)) return 0n;
    if (((header[10] as number) & EntryFlags.TOMBSTONE) !== 0) return 0n;
    return header.readBigUInt64BE(2);
  }

  /** One bounded step of re-encrypting a namespace under `keyId` (see reseal.ts). */
  resealStep(namespace: string, keyId: string, cursor: string, count: number): Promise<ResealStep> {
    const context = {
      guard: this.guard,
      keys: this.keys,
      codec: this.codec,
      encryption: this.encryption,
      clock: this.clock,
    };
    return resealStep(context, namespace, keyId, cursor, count);
  }

  /** Drops a namespace by stamping all of it: no scan over the keyspace. */
  async clear(namespace?: string): Promise<void> {
    if (namespace === undefined) throw new Error("the Redis layer clears one namespace at a time");
    await this.stamp(namespace, { tags: [], prefix: "" }, this.clock.now(), 7 * 86_400_000);
  }

  async adjustTtl(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const entry = await this.peek(namespace, key);
    return entry ? this.set(namespace, key, withExpiry(entry, expiresAt)) : false;
  }

  counters(namespace?: string): LayerCounters {
    if (namespace === undefined) return this.total;
    return countersOf(this.perNamespace, namespace);
  }

  async stamp(
    namespace: string,
    stamps: { tags: readonly string[]; prefix?: string },
    at: number,
    retainMs: number,
  ): Promise<void> {
    const fields = StampSync.fields(stamps);
    if (fields.length === 0) return;
    await this.guard.write(
      "invalidation stamps",
      () => this.stamps.write(namespace, fields, at, retainMs),
      () => this.guard.queue.stamp(namespace, fields, at, retainMs),
    );
  }

  watchStamps(listener: (namespace: string, stamps: StampSet) => void): void {
    this.stamps.watch(listener);
  }

  /**
   * While `hold` answers true, writes queued while Redis was unreachable stay queued instead of
   * being replayed (deletions and stamps still are). The service holds them while it is not
   * caught up with the fleet's invalidations (L1 trust), so one it has not heard of yet cannot
   * be overtaken by a value it queued before it.
   */
  holdQueuedWritesWhile(hold: () => boolean): void {
    this.guard.holdWrites = hold;
  }

  forgetQueuedWrites(namespace: string, target: QueuedWriteTarget): number {
    return this.guard.queue.forget(namespace, target);
  }

  status(): ServiceHealth {
    const breakerState = this.guard.breaker.state();
    const up = this.guard.ready && breakerState === "closed";
    return {
      name: "redis",
      up,
      detail: up ? "connected" : `${this.guard.lastError || "not connected"}; serving from L1 and loaders`,
      queued: this.guard.queued,
      breakerState,
    };
  }

  /** Closes the connection (pending queued writes are dropped). */
  async close(): Promise<void> {
    this.releases.close();
    this.guard.close();
  }

  /** The versioned write of an entry's envelope (sealed when its namespace has a key). */
  private versionedSet(namespace: string, key: string, entry: Entry, ttlMs: number): Promise<unknown> {
    const envelope = this.codec.envelope(namespace, key, entry);
    return this.writes.write("set", this.keys.data(namespace, key), envelope, ttlMs);
  }

  /** A read's entry, counted as a hit or a miss (a failed read is a miss). */
  private decodeRead(namespace: string, key: string, reply: ReadReply): Entry | undefined {
    return reply === undefined ? this.missed(namespace) : this.decodeOne(namespace, key, reply);
  }

  private decodeOne(namespace: string, key: string, bytes: Buffer | null | undefined): Entry | undefined {
    const entry = this.codec.live(namespace, key, bytes);
    countLookup(this.counters(namespace), this.total, entry !== undefined);
    return entry;
  }

  /** Reads refused by the read budget: misses, counted. */
  private rateLimited(namespace: string, reads: number): undefined[] {
    this.readsRateLimited += reads;
    for (let i = 0; i < reads; i++) this.missed(namespace);
    return new Array<undefined>(reads).fill(undefined);
  }

  private missed(namespace: string): undefined {
    countLookup(this.counters(namespace), this.total, false);
    return undefined;
  }
}
