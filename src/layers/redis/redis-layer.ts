import { randomUUID } from "node:crypto";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Encryption } from "../../crypto/key-ring.js";
import { type Clock, type Scheduler, systemClock, systemScheduler } from "../../engine/clock.js";
import { type Entry, EntryFlags, tombstoneEntry, withExpiry } from "../../engine/entry.js";
import type { ServiceHealth } from "../../engine/health.js";
import {
  type Coordination,
  countersOf,
  countLookup,
  emptyCounters,
  type Layer,
  type LayerCounters,
  type Lease,
  type LeasePoll,
  type StampSet,
  type Tombstone,
} from "../../engine/layer.js";
import { TokenBucket } from "../../engine/token-bucket.js";
import { CacheError, Status } from "../../errors.js";
import { type Admission, BreakerOpenError, FastBreaker } from "./breaker.js";
import { decodeEntry, encodeEntry, isEnvelopeHeader, sealedKeyId, UNREADABLE } from "./envelope.js";
import { LuaScript } from "./lua-script.js";
import { PendingCalls } from "./pending-calls.js";
import { parseRedisUrl } from "./redis-url.js";
import { WriteQueue } from "./write-queue.js";

/** Where the Redis layer connects: one of a URL, cluster seed nodes, or Sentinel. */
export interface RedisConnection {
  /** `redis://` or `rediss://` (TLS); credentials in it win over `username` and `password`. */
  url?: string | undefined;
  clusterNodes?: readonly string[] | undefined;
  sentinel?: { sentinels: readonly string[]; name: string; password?: string | undefined } | undefined;
  /** The ACL user (Redis 6+); without it, the password is the `default` user's. */
  username?: string | undefined;
  password?: string | undefined;
  /** TLS to every node (and Sentinel); a `rediss://` URL alone means TLS with the system's CAs. */
  tls?: RedisTls | undefined;
}

/** TLS settings of the Redis connections, as read from the files the configuration names. */
export interface RedisTls {
  /** CAs the servers' certificates must chain to (default: the system's). */
  ca?: Buffer | undefined;
  /** A client certificate and its key, for servers that want one (mutual TLS). */
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** The name the servers' certificates must carry (default: the host connected to). */
  servername?: string | undefined;
}

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
}

type Client = Redis | Cluster;

/** What one step of {@link RedisLayer.resealStep} did. */
export interface ResealStep {
  /** Where the next step starts; "0" once the scan is complete. */
  cursor: string;
  /** Keys the step looked at. */
  scanned: number;
  /** Values rewritten under the target key. */
  resealed: number;
  /** Values already under the target key. */
  current: number;
  /** Tombstones, expired or unreadable values, and values a newer write replaced meanwhile. */
  skipped: number;
}

/** Reads per batch at most: Redis serves nothing else while it runs one MGET, so a burst goes as several. */
const MAX_BATCH_READS = 500;

/** Replies of a read batch, in its key order: null for a key Redis does not hold. */
type BatchReplies = readonly (Buffer | null)[];

/**
 * The reads of one namespace started in one turn of the event loop, sent to Redis together at
 * the turn's end with the namespace's stamp version (see {@link RedisLayer.get}).
 */
class ReadBatch {
  /** The namespace's stamp version key first, then each read's data key. */
  readonly keys: string[];
  /** The breaker's admission of each read, in the order of its key. */
  readonly admissions: Admission[] = [];
  /** Settles with the replies once the stamps they carry were applied; undefined on failure. */
  readonly replies: Promise<BatchReplies | undefined>;
  answer!: (replies: BatchReplies | undefined) => void;

  constructor(versionKey: string) {
    this.keys = [versionKey];
    this.replies = new Promise((resolve) => {
      this.answer = resolve;
    });
  }
}

// Versioned write: never replace a newer version, nor a tombstone at least as new as the
// value's creation. In the envelope (1-based Lua offsets) the version sits at 3..10 and the
// creation time at 12..19, both big-endian (a positive float64's bytes order like the number),
// so comparing those substrings compares the numbers; byte 11 holds the flags. Formats 1 and 2
// (sealed) share that clear header, so only the magic byte is compared.
const SET_IF_NOT_OLDER = new LuaScript(
  1,
  `
local old = redis.call('GET', KEYS[1])
if old and string.byte(old, 1) == string.byte(ARGV[1], 1) then
  if bit.band(string.byte(old, 11), ${EntryFlags.TOMBSTONE}) ~= 0 then
    if string.sub(ARGV[1], 12, 19) <= string.sub(old, 12, 19) then return 0 end
  elseif string.sub(old, 3, 10) > string.sub(ARGV[1], 3, 10) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
);

// Delete leaving a tombstone (ARGV[1], kept ARGV[2] ms) unless a newer one is there already;
// answers whether a value (not a tombstone) was present.
const DELETE_WITH_TOMBSTONE = new LuaScript(
  1,
  `
local old = redis.call('GET', KEYS[1])
local present = 1
if not old then present = 0
elseif string.byte(old, 1) == string.byte(ARGV[1], 1) and bit.band(string.byte(old, 11), ${EntryFlags.TOMBSTONE}) ~= 0 then
  present = 0
  if string.sub(old, 12, 19) >= string.sub(ARGV[1], 12, 19) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return present`,
);

/** The envelope of a deletion made at `at`: read as absent, refuses older writes. */
function tombstoneEnvelope(at: number): Buffer {
  return encodeEntry(tombstoneEntry(at));
}

/** The error of a write or delete Redis did not take: queued, replayed when it is back. */
function queuedError(what: string, cause: string): CacheError {
  return new CacheError(
    Status.UNAVAILABLE,
    `redis did not take the ${what} (${cause || "not connected"}); it is queued and replayed when redis is back`,
  );
}

// Stamps of one namespace: raise the named fields to ARGV[1] (never lower), drop fields older
// than ARGV[2], bump the version readers poll, and let both keys expire with the retention.
const STAMP = new LuaScript(
  2,
  `
local at = tonumber(ARGV[1])
for i = 4, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(current) < at then redis.call('HSET', KEYS[1], ARGV[i], ARGV[1]) end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) < tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i]) end
end
local version = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return version`,
);

// Leases hold the holder's token, with a '!' appended once another instance asked for the
// lease while it was held (it waits for the value to appear in L2).

// Take a lease, or mark the one held as wanted.
const ACQUIRE = new LuaScript(
  1,
  `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, -1) ~= '!' then redis.call('APPEND', KEYS[1], '!') end
return 0`,
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

/** Builds the ioredis client for a connection description. */
export function connect(options: RedisConnection): Client {
  const url = options.url ? parseRedisUrl(options.url) : undefined;
  const username = url?.username ?? options.username;
  const password = url?.password ?? options.password;
  const tlsSettings = options.tls ?? (url?.tls ? {} : undefined);
  const tls = tlsSettings
    ? Object.fromEntries(Object.entries(tlsSettings).filter(([, value]) => value !== undefined))
    : undefined;
  const common: RedisOptions = {
    // Fail fast while disconnected: the layer's queue and breaker decide what happens.
    enableOfflineQueue: false,
    // A command the connection was lost under fails at once and is never sent again: the
    // layer has told its caller it failed (a lease taken after its caller gave up would be
    // held by nobody; a write would land after the queued copy the layer replays).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // A dropped connection to a stalled server is destroyed at once: a graceful end waits for
    // the server's FIN, which a stopped server never sends.
    disconnectTimeout: 0,
    // No per-command timer (ioredis' commandTimeout costs a timer per call, a third of the
    // read path's throughput): the layer's pending calls bound every call with one timer.
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
  };
  if (options.clusterNodes) {
    return new Cluster(
      options.clusterNodes.map((node) => {
        const [host, port] = node.split(":");
        return { host: host ?? "127.0.0.1", port: Number(port ?? 6379) };
      }),
      {
        // Every node, also those learned from CLUSTER SLOTS, gets the same TLS and credentials.
        redisOptions: common,
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => 500,
        // Seed names are not resolved to addresses first: TLS checks the certificate against
        // the name connected to, and a seed's certificate may carry its name and not its address.
        ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
      },
    );
  }
  if (options.sentinel) {
    return new Redis({
      ...common,
      sentinels: options.sentinel.sentinels.map((node) => {
        const [host, port] = node.split(":");
        return { host: host ?? "127.0.0.1", port: Number(port ?? 26379) };
      }),
      name: options.sentinel.name,
      ...(options.sentinel.password ? { sentinelPassword: options.sentinel.password } : {}),
      // With TLS, both the sentinels and the master they name are reached over it.
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    });
  }
  if (!url) throw new Error("redis: set url, clusterNodes or sentinel");
  return new Redis({ ...common, host: url.host, port: url.port, db: url.db });
}

/**
 * L2 on Redis (single node, Cluster or Sentinel). Entries are binary envelopes written with a
 * version check in Lua; invalidation stamps are shared through a per-namespace hash that every
 * read checks for changes (through a version number read in the same round trip, once for all
 * the reads started in one turn of the event loop). A breaker guards every call: while Redis
 * is down reads miss at once, and writes and invalidations are queued (latest per key,
 * bounded) and replayed when it is back.
 */
export class RedisLayer implements Layer<true> {
  readonly name = "l2";
  readonly coordination: Coordination;
  private readonly client: Client;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly breaker: FastBreaker;
  private readonly queue: WriteQueue;
  private readonly perNamespace = new Map<string, LayerCounters>();
  private readonly total = emptyCounters();
  private readonly stampVersions = new Map<string, string>();
  private readonly stampListeners: ((namespace: string, stamps: StampSet) => void)[] = [];
  /** The reads started in this turn of the event loop, by namespace; sent on its next tick. */
  private readonly batches = new Map<string, ReadBatch>();
  private readonly sendBatches = () => {
    for (const [namespace, batch] of this.batches) this.sendBatch(namespace, batch);
    this.batches.clear();
  };
  private ready = false;
  private replaying: Promise<void> | undefined;
  /** Operations taken out of the queue by a replay and not yet applied. */
  private replayPending = 0;
  private lastError = "";
  private readonly commandTimeoutMs: number;
  private readonly readBudget: TokenBucket | undefined;
  /** Reads answered as misses because this instance was past `maxReadsPerSecond`. */
  readsRateLimited = 0;
  private readonly scheduler: Scheduler;
  /** Calls sent and not answered yet, failed once the command bound has passed. */
  private readonly pending: PendingCalls;
  private readonly encryption: Encryption | undefined;

  constructor(options: RedisLayerOptions) {
    this.encryption = options.encryption;
    this.prefix = options.keyPrefix ?? "mlc:";
    this.clock = options.clock ?? systemClock;
    this.client = connect(options);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 1000;
    this.readBudget = options.maxReadsPerSecond
      ? new TokenBucket({ perSecond: options.maxReadsPerSecond, clock: this.clock })
      : undefined;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.pending = new PendingCalls(
      this.commandTimeoutMs,
      () => performance.now(),
      this.scheduler,
      () => this.dropConnection(),
    );
    this.queue = new WriteQueue(options.maxQueued ?? 10_000);
    this.breaker = new FastBreaker({
      errorThresholdPercent: options.breakerErrorPercent ?? 50,
      volumeThreshold: 5,
      windowMs: 10_000,
      resetTimeoutMs: options.breakerResetMs ?? 1000,
    });
    this.client.on("ready", () => {
      this.ready = true;
      this.replay();
    });
    // A cluster's own error only says the slots could not be read; its nodes' errors say why
    // (a refused password, an untrusted certificate), which is what an operator needs.
    let nodeError = "";
    this.client.on("node error", (error: Error, address: string) => {
      // "Connection is closed." follows the error that closed it: keep that one.
      if (!nodeError || !error.message.startsWith("Connection is closed")) nodeError = `${error.message} (${address})`;
    });
    this.client.on("error", (error: Error & { lastNodeError?: Error }) => {
      const cause = nodeError || error.lastNodeError?.message;
      this.lastError = this.client instanceof Cluster && cause ? `${error.message} ${cause}` : error.message;
    });
    this.client.on("ready", () => {
      nodeError = "";
    });
    this.client.on("close", () => {
      this.ready = false;
    });
    this.coordination = {
      acquireLeases: (namespace, keys, holdMs) => this.acquireLeases(namespace, keys, holdMs),
      poll: (namespace, keys) => this.poll(namespace, keys),
    };
  }

  /** Resolves once the client is connected (or rejects after `timeoutMs`). */
  async waitUntilReady(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (Date.now() > deadline) throw new Error(`redis not ready after ${timeoutMs} ms: ${this.lastError}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Reads one entry. The reads of a namespace started in one turn of the event loop go to Redis
   * together on the turn's next tick: one MGET of their keys and the namespace's stamp version
   * (a GET each on a cluster, where one MGET cannot span slots). One command for many reads
   * costs Redis and the client far less than a command each, and adds no wait: ioredis sends
   * auto-pipelined commands in a later turn anyway. Every read still sees the stamps written
   * before it started, as the version is read after every read of the batch had started.
   */
  get(namespace: string, key: string): Promise<Entry | undefined> {
    if (this.readBudget && !this.readBudget.tryTake()) return Promise.resolve(this.rateLimited(namespace, 1)[0]);
    const admission = this.breaker.admit();
    if (admission === undefined) return Promise.resolve(this.missed(namespace));
    let batch = this.batches.get(namespace);
    if (!batch) {
      if (this.batches.size === 0) process.nextTick(this.sendBatches);
      batch = new ReadBatch(this.stampVersionKey(namespace));
      this.batches.set(namespace, batch);
    }
    const index = batch.keys.push(this.dataKey(namespace, key)) - 1;
    batch.admissions.push(admission);
    if (index === MAX_BATCH_READS) {
      // Full: sent now (its reads have all started), and the turn's next reads start another.
      this.batches.delete(namespace);
      this.sendBatch(namespace, batch);
    }
    return batch.replies.then((replies) =>
      replies ? this.decodeOne(namespace, key, replies[index]) : this.missed(namespace),
    );
  }

  private sendBatch(namespace: string, batch: ReadBatch): void {
    // Past the command bound the batch's reads miss, and a late answer is ignored.
    const pending = this.pending.add(() => {
      this.settleBatch(batch, () => false);
      batch.answer(undefined);
    });
    const client = this.client;
    if (client instanceof Cluster) {
      // A read fails alone when its node does; without the version, every read misses.
      Promise.allSettled(batch.keys.map((key) => client.getBuffer(key))).then((outcomes) => {
        if (!this.pending.settle(pending)) return;
        this.settleBatch(batch, (i) => outcomes[i + 1]?.status === "fulfilled");
        if (outcomes[0]?.status !== "fulfilled") return batch.answer(undefined);
        this.applyBatch(
          namespace,
          batch,
          outcomes.map((o) => (o.status === "fulfilled" ? o.value : null)),
        );
      });
      return;
    }
    client.mgetBuffer(...batch.keys).then(
      (replies) => {
        if (!this.pending.settle(pending)) return;
        this.settleBatch(batch, () => true);
        this.applyBatch(namespace, batch, replies);
      },
      () => {
        if (!this.pending.settle(pending)) return;
        this.settleBatch(batch, () => false);
        batch.answer(undefined);
      },
    );
  }

  /** Tells the breaker how each of a batch's reads went. */
  private settleBatch(batch: ReadBatch, succeeded: (read: number) => boolean): void {
    const at = performance.now();
    let anyOk = false;
    batch.admissions.forEach((admission, read) => {
      const ok = succeeded(read);
      anyOk ||= ok;
      this.breaker.settle(admission, ok, at);
    });
    if (anyOk) this.replayIfQueued();
  }

  /** Answers a batch's reads, after fetching the stamps when their version changed. */
  private applyBatch(namespace: string, batch: ReadBatch, replies: BatchReplies): void {
    const syncing = this.syncIfChanged(namespace, replies[0] ? replies[0].toString() : null);
    if (!syncing) batch.answer(replies);
    else {
      syncing.then(
        () => batch.answer(replies),
        () => batch.answer(undefined),
      );
    }
  }

  /** Fetches the namespace's stamps when Redis holds a newer version of them; else undefined. */
  private syncIfChanged(namespace: string, version: string | null): Promise<void> | undefined {
    const current = version ?? "0";
    return current === (this.stampVersions.get(namespace) ?? "0") ? undefined : this.syncStamps(namespace, current);
  }

  private decodeOne(namespace: string, key: string, bytes: Buffer | null | undefined): Entry | undefined {
    const entry = this.liveEntry(namespace, key, bytes);
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

  async peek(namespace: string, key: string): Promise<Entry | undefined> {
    try {
      const bytes = await this.call(() => this.client.getBuffer(this.dataKey(namespace, key)));
      return this.liveEntry(namespace, key, bytes);
    } catch {
      return undefined;
    }
  }

  getMany(namespace: string, keys: readonly string[]): Promise<(Entry | undefined)[]> {
    if (this.readBudget && !this.readBudget.tryTake()) return Promise.resolve(this.rateLimited(namespace, keys.length));
    const dataKeys = keys.map((key) => this.dataKey(namespace, key));
    const versionKey = this.stampVersionKey(namespace);
    // One round trip for the values and the namespace's stamp version: one MGET on a single
    // node; on a cluster (keys of one MGET must share a slot) auto-pipelined GETs per node.
    // Written with `then` (not async/await): this is the L2 read path.
    const fetch =
      this.client instanceof Cluster
        ? () => Promise.all([Promise.all(dataKeys.map((k) => this.client.getBuffer(k))), this.client.get(versionKey)])
        : () =>
            this.client.mgetBuffer(...dataKeys, versionKey).then((all) => {
              const version = all.pop();
              return [all, version ? version.toString() : null] as const;
            });
    return this.call(fetch).then(
      ([replies, stampVersion]) => {
        const syncing = this.syncIfChanged(namespace, stampVersion);
        return syncing
          ? syncing.then(() => this.decodeAll(namespace, keys, replies))
          : this.decodeAll(namespace, keys, replies);
      },
      () => {
        const counters = this.counters(namespace);
        counters.misses += keys.length;
        this.total.misses += keys.length;
        return keys.map(() => undefined);
      },
    );
  }

  private decodeAll(
    namespace: string,
    keys: readonly string[],
    replies: readonly (Buffer | null)[],
  ): (Entry | undefined)[] {
    return replies.map((bytes, i) => this.decodeOne(namespace, keys[i] as string, bytes));
  }

  /**
   * A decoded entry, or undefined for anything that is not a live value (tombstones included).
   * A sealed value that does not open is counted as unreadable and read as absent.
   */
  private liveEntry(namespace: string, key: string, bytes: Buffer | null | undefined): Entry | undefined {
    if (!bytes) return undefined;
    const entry = decodeEntry(bytes, this.encryption?.ring, namespace, key);
    if (entry === UNREADABLE) {
      this.counters(namespace).unreadable++;
      this.total.unreadable++;
      return undefined;
    }
    return entry && (entry.flags & EntryFlags.TOMBSTONE) === 0 ? entry : undefined;
  }

  /** The envelope of an entry, sealed with the namespace's key when it has one. */
  private envelope(namespace: string, key: string, entry: Entry): Buffer {
    const keyId = this.encryption?.keyFor(namespace);
    if (keyId === undefined || !this.encryption) return encodeEntry(entry);
    return encodeEntry(entry, { keyId, ring: this.encryption.ring, namespace, key });
  }

  async set(namespace: string, key: string, entry: Entry): Promise<boolean> {
    const ttl = Math.ceil(entry.staleUntil - this.clock.now());
    if (ttl <= 0) return false;
    if (!this.ready || this.breaker.opened) {
      this.queue.set(namespace, key, entry);
      throw queuedError("write", this.lastError);
    }
    let stored: boolean;
    try {
      stored =
        (await this.call(() =>
          SET_IF_NOT_OLDER.run(this.client, this.dataKey(namespace, key), this.envelope(namespace, key, entry), ttl),
        )) === 1;
    } catch (error) {
      this.queue.set(namespace, key, entry);
      throw queuedError("write", (error as Error).message);
    }
    if (stored) {
      this.counters(namespace).puts++;
      this.total.puts++;
    }
    return stored;
  }

  async delete(namespace: string, key: string, tombstone?: Tombstone): Promise<boolean> {
    if (!this.ready || this.breaker.opened) {
      this.queue.delete(namespace, key);
      throw queuedError("delete", this.lastError);
    }
    const dataKey = this.dataKey(namespace, key);
    let removed: boolean;
    try {
      const answer = tombstone
        ? await this.call(() =>
            DELETE_WITH_TOMBSTONE.run(
              this.client,
              dataKey,
              tombstoneEnvelope(tombstone.at),
              Math.max(1, Math.ceil(tombstone.keepMs)),
            ),
          )
        : await this.call(() => this.client.del(dataKey));
      removed = answer === 1;
    } catch (error) {
      this.queue.delete(namespace, key);
      throw queuedError("delete", (error as Error).message);
    }
    if (removed) this.countEviction(namespace, "explicit");
    return removed;
  }

  /** The version of the key's live copy, 0n when absent; rejects when Redis does not answer. */
  async currentVersion(namespace: string, key: string): Promise<bigint> {
    let header: Buffer;
    try {
      header = await this.call(() => this.client.getrangeBuffer(this.dataKey(namespace, key), 0, 10));
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

  /**
   * One bounded step of re-encrypting a namespace (an operator command, never the request
   * path): SCANs about `count` keys from `cursor` and rewrites each live value not sealed with
   * `keyId` (older keys, or clear) under it, through the versioned write, so a newer version or
   * a tombstone written meanwhile wins. Resume with the cursor it answers; "0" when done.
   */
  async resealStep(namespace: string, keyId: string, cursor: string, count: number): Promise<ResealStep> {
    const encryption = this.encryption;
    if (!encryption?.ring.has(keyId)) throw new Error(`encryption key "${keyId}" is not in the key ring`);
    const client = this.client;
    const match = `${this.dataKey(namespace, "")}*`;
    const [next, dataKeys] = await this.scanStep(match, cursor, count);
    const step: ResealStep = { cursor: next, scanned: dataKeys.length, resealed: 0, current: 0, skipped: 0 };
    if (dataKeys.length === 0) return step;
    // The keys of one MGET must share a slot on a cluster: there, one GET each (pipelined).
    const replies = await this.call(() =>
      client instanceof Cluster
        ? Promise.all(dataKeys.map((dataKey) => client.getBuffer(dataKey)))
        : client.mgetBuffer(...dataKeys),
    );
    const now = this.clock.now();
    for (const [i, dataKey] of dataKeys.entries()) {
      const bytes = replies[i];
      const key = dataKey.slice(match.length - 1);
      if (bytes && sealedKeyId(bytes) === keyId) {
        step.current++;
        continue;
      }
      const entry = this.liveEntry(namespace, key, bytes);
      const ttl = entry ? Math.ceil(entry.staleUntil - now) : 0;
      if (!entry || ttl <= 0) {
        step.skipped++; // gone, a tombstone, or unreadable here: nothing to carry over
        continue;
      }
      const sealed = encodeEntry(entry, { keyId, ring: encryption.ring, namespace, key });
      const stored = await this.call(() => SET_IF_NOT_OLDER.run(client, dataKey, sealed, ttl));
      if (stored === 1) step.resealed++;
      else step.skipped++;
    }
    return step;
  }

  /**
   * One SCAN step over the keys matching `match`. On a cluster every master scans its own
   * keys, in the order of their addresses, and the cursor says where: "<master>:<its cursor>"
   * ("0" starts at the first master and ends after the last).
   */
  private async scanStep(match: string, cursor: string, count: number): Promise<[string, string[]]> {
    const client = this.client;
    if (!(client instanceof Cluster)) return this.call(() => client.scan(cursor, "MATCH", match, "COUNT", count));
    const address = (node: Redis) => `${node.options.host}:${node.options.port}`;
    const masters = client.nodes("master").sort((a, b) => address(a).localeCompare(address(b)));
    const parsed = cursor === "0" ? ["0", "0"] : /^(\d+):(\d+)$/.exec(cursor)?.slice(1);
    const index = Number(parsed?.[0]);
    const master = masters[index];
    if (!parsed || !master) {
      throw new Error(
        `cursor "${cursor}" does not fit this cluster (${masters.length} masters): it takes "<master>:<cursor>" from an earlier step, or "0" to start over`,
      );
    }
    const [next, keys] = await this.call(() => master.scan(parsed[1] as string, "MATCH", match, "COUNT", count));
    if (next !== "0") return [`${index}:${next}`, keys];
    return [index + 1 < masters.length ? `${index + 1}:0` : "0", keys];
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
    const fields = [
      ...stamps.tags.map((tag) => `t:${tag}`),
      ...(stamps.prefix === undefined ? [] : [stamps.prefix === "" ? "*" : `p:${stamps.prefix}`]),
    ];
    if (fields.length === 0) return;
    if (!this.ready || this.breaker.opened) {
      this.queue.stamp(namespace, fields, at, retainMs);
      throw queuedError("invalidation stamps", this.lastError);
    }
    try {
      await this.writeStamps(namespace, fields, at, retainMs);
    } catch (error) {
      this.queue.stamp(namespace, fields, at, retainMs);
      throw queuedError("invalidation stamps", (error as Error).message);
    }
  }

  watchStamps(listener: (namespace: string, stamps: StampSet) => void): void {
    this.stampListeners.push(listener);
  }

  status(): ServiceHealth {
    const breakerState = this.breaker.state();
    const up = this.ready && breakerState === "closed";
    return {
      name: "redis",
      up,
      detail: up ? "connected" : `${this.lastError || "not connected"}; serving from L1 and loaders`,
      queued: this.queue.size + this.replayPending,
      breakerState,
    };
  }

  /** Closes the connection (pending queued writes are dropped). */
  async close(): Promise<void> {
    this.client.disconnect();
  }

  /**
   * Takes the leases of keys in one round trip (one script call per key, auto-pipelined: one
   * write per node). A lease lives three command bounds and its holder renews it every bound
   * while it loads (up to `holdMs`), so the lease of a holder that died, or one taken by a
   * command that reached a stalled Redis after its caller had given up, is gone within three
   * bounds rather than after the whole load timeout.
   */
  private async acquireLeases(
    namespace: string,
    keys: readonly string[],
    holdMs: number,
  ): Promise<(Lease | "held")[] | "unavailable"> {
    if (!this.ready || this.breaker.opened) return "unavailable";
    const ttlMs = Math.max(1, Math.ceil(Math.min(holdMs, 3 * this.commandTimeoutMs)));
    const leaseKeys = keys.map((key) => this.leaseKey(namespace, key));
    const tokens = keys.map(() => randomUUID());
    let won: unknown[];
    try {
      won = await this.call(() =>
        Promise.all(leaseKeys.map((leaseKey, i) => ACQUIRE.run(this.client, leaseKey, tokens[i] as string, ttlMs))),
      );
    } catch {
      return "unavailable";
    }
    return won.map((reply, i) =>
      reply === 1 ? this.heldLease(leaseKeys[i] as string, tokens[i] as string, ttlMs, holdMs) : "held",
    );
  }

  /** A lease this instance won: renewed every command bound until released or `holdMs` passed. */
  private heldLease(leaseKey: string, token: string, ttlMs: number, holdMs: number): Lease {
    let released = false;
    let cancelRenewal = () => {};
    let renewalsLeft = Math.ceil((holdMs - ttlMs) / this.commandTimeoutMs);
    const renew = () => {
      if (released || renewalsLeft-- <= 0) return;
      this.call(() => RENEW.run(this.client, leaseKey, token, ttlMs)).catch(() => {});
      cancelRenewal = this.scheduler.schedule(this.commandTimeoutMs, renew);
    };
    if (renewalsLeft > 0) cancelRenewal = this.scheduler.schedule(this.commandTimeoutMs, renew);
    const done = () => {
      released = true;
      cancelRenewal();
    };
    return {
      wanted: async () => {
        if (released) return false;
        try {
          if ((await this.call(() => WANTED.run(this.client, leaseKey, token))) === 1) return true;
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
          await this.call(() => RELEASE.run(this.client, leaseKey, token));
        } catch {
          // The lease expires on its own, within three command bounds.
        }
      },
    };
  }

  /** The entries of keys and whether their leases are held, in one round trip. */
  private poll(namespace: string, keys: readonly string[]): Promise<LeasePoll> {
    const dataKeys = keys.map((key) => this.dataKey(namespace, key));
    const leaseKeys = keys.map((key) => this.leaseKey(namespace, key));
    const client = this.client;
    // One MGET on a single node; on a cluster (one MGET cannot span slots) auto-pipelined GETs.
    const fetch =
      client instanceof Cluster
        ? () => Promise.all([...dataKeys, ...leaseKeys].map((key) => client.getBuffer(key)))
        : () => client.mgetBuffer(...dataKeys, ...leaseKeys);
    return this.call(fetch).then((replies) => ({
      entries: keys.map((_, i) => {
        // A tombstone is no value to wait for: the key was deleted after its load began.
        return this.liveEntry(namespace, keys[i] as string, replies[i]);
      }),
      held: keys.map((_, i) => replies[keys.length + i] != null),
    }));
  }

  private async syncStamps(namespace: string, version: string): Promise<void> {
    let fields: Record<string, string>;
    try {
      fields = (await this.call(() => this.client.hgetall(this.stampsKey(namespace)))) as Record<string, string>;
    } catch {
      return;
    }
    this.stampVersions.set(namespace, version);
    const stamps: StampSet = { tags: new Map(), prefixes: new Map(), all: Number.NEGATIVE_INFINITY };
    for (const [field, value] of Object.entries(fields)) {
      const at = Number(value);
      if (field === "*") stamps.all = at;
      else if (field.startsWith("t:")) stamps.tags.set(field.slice(2), at);
      else if (field.startsWith("p:")) stamps.prefixes.set(field.slice(2), at);
    }
    for (const listener of this.stampListeners) listener(namespace, stamps);
  }

  private async writeStamps(namespace: string, fields: string[], at: number, retainMs: number): Promise<void> {
    const retain = Math.max(1000, Math.ceil(retainMs));
    await this.call(() =>
      STAMP.run(
        this.client,
        this.stampsKey(namespace),
        this.stampVersionKey(namespace),
        at,
        this.clock.now() - retain,
        retain,
        ...fields,
      ),
    );
  }

  /** Applies what was queued while Redis was down: stamps first, then deletes, then writes. */
  private replay(): void {
    if (this.replaying || this.queue.size === 0) return;
    this.replaying = (async () => {
      const drained = this.queue.drain();
      this.replayPending = drained.stamps.length + drained.deletes.length + drained.sets.length;
      const failed: typeof drained = { stamps: [], deletes: [], sets: [] };
      for (const s of drained.stamps) {
        await this.writeStamps(s.namespace, s.fields, s.at, s.retainMs).catch(() => failed.stamps.push(s));
        this.replayPending--;
      }
      for (const d of drained.deletes) {
        await this.call(() => this.client.del(this.dataKey(d.namespace, d.key))).catch(() => failed.deletes.push(d));
        this.replayPending--;
      }
      const now = this.clock.now();
      for (const s of drained.sets) {
        const ttl = Math.ceil(s.entry.staleUntil - now);
        if (ttl > 0) {
          await this.call(() =>
            SET_IF_NOT_OLDER.run(
              this.client,
              this.dataKey(s.namespace, s.key),
              this.envelope(s.namespace, s.key, s.entry),
              ttl,
            ),
          ).catch(() => failed.sets.push(s));
        }
        this.replayPending--;
      }
      this.queue.restore(failed);
    })().finally(() => {
      this.replayPending = 0;
      this.replaying = undefined;
    });
  }

  /**
   * Runs a Redis call through the breaker (an open breaker fails at once) and within the
   * command bound: a call Redis has not answered by then fails with a RedisTimeoutError.
   */
  private call<T>(action: () => Promise<T>): Promise<T> {
    const admission = this.breaker.admit();
    if (admission === undefined) return Promise.reject(new BreakerOpenError("redis circuit breaker is open"));
    let started: Promise<T>;
    try {
      started = action();
    } catch (error) {
      started = Promise.reject(error);
    }
    // Plain `then` rather than async/await, and one of it: this sits on every L2 call.
    return new Promise<T>((resolve, reject) => {
      const pending = this.pending.add((error) => {
        this.breaker.settle(admission, false);
        reject(error);
      });
      started.then(
        (result) => {
          if (!this.pending.settle(pending)) return;
          this.leave(admission, true);
          resolve(result);
        },
        (error: unknown) => {
          if (!this.pending.settle(pending)) return;
          this.leave(admission, false);
          reject(error);
        },
      );
    });
  }

  /** After a Redis call the breaker let through: its outcome to the breaker. */
  private leave(admission: Admission, ok: boolean): void {
    this.breaker.settle(admission, ok);
    if (ok) this.replayIfQueued();
  }

  /** Redis answers again: apply what was queued while it did not. */
  private replayIfQueued(): void {
    if (this.queue.size > 0 && !this.replaying) this.replay();
  }

  /**
   * Calls went unanswered for the command bound: drop the connection and make it again (a
   * stalled server's socket would hold every later call too). Until the new one is ready,
   * writes are queued and leases unavailable at once.
   */
  private dropConnection(): void {
    this.lastError = `no answer from redis within ${this.commandTimeoutMs} ms`;
    this.ready = false;
    this.client.disconnect(true);
  }

  private countEviction(namespace: string, cause: "explicit"): void {
    this.counters(namespace).evictions[cause]++;
    this.total.evictions[cause]++;
  }

  private dataKey(namespace: string, key: string): string {
    return `${this.prefix}d:${namespace}:${key}`;
  }

  private leaseKey(namespace: string, key: string): string {
    return `${this.prefix}l:${namespace}:${key}`;
  }

  /** Both stamp keys share a hash tag, so the stamp script runs on one cluster slot. */
  private stampsKey(namespace: string): string {
    return `${this.prefix}{${namespace}}:stamps`;
  }

  private stampVersionKey(namespace: string): string {
    return `${this.prefix}{${namespace}}:stamps:v`;
  }
}
