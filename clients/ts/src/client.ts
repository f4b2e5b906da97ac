import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type CallOptions, type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  CacheService,
  type InspectRequestSchema,
  type InspectResponse,
  type InvalidateResponse,
  type ReadOptionsSchema,
  type SetResponse,
  type WatchStatsResponse,
} from "../gen/mlcache/v1/cache_pb.js";
import type { Item, WriteMode } from "../gen/mlcache/v1/common_pb.js";
import type { HeaderInit } from "./grpc-js-transport.js";
import { type RetryPolicy, withRetry } from "./retry.js";

/** Options for {@link CacheClient}. */
export interface CacheClientOptions {
  /** How calls travel: `createGrpcJsTransport`, or connect-node / connect-web transports. */
  transport: Transport;
  /** Namespace for every call that does not name one. Default: the server's "default". */
  namespace?: string;
  /** Deadline of each unary attempt, in ms (0: none). Default 5000. */
  timeoutMs?: number;
  /** Retries of UNAVAILABLE with exponential backoff. Default: 3 attempts, 50 ms doubling to 1 s. */
  retry?: Partial<RetryPolicy>;
}

/** Per-call options: a deadline, a signal, another namespace. */
export interface CallOpts {
  namespace?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  headers?: HeaderInit;
}

/** Read options of Get and BulkGet (see ReadOptions in cache.proto). */
export interface GetOpts extends CallOpts {
  allowStale?: boolean;
  maxAgeMs?: number;
  skipLoader?: boolean;
  forceRefresh?: boolean;
}

/** Write options of Set. */
export interface SetOpts extends CallOpts {
  ttlMs?: number;
  freshForMs?: number;
  tags?: string[];
  version?: bigint;
  writeMode?: WriteMode;
}

/** What to drop: keys, tags, a prefix (an empty prefix drops the namespace). */
export interface InvalidateTarget {
  keys?: string[];
  tags?: string[];
  prefix?: string;
}

/** Options of {@link CacheClient.watchStats}. */
export interface WatchStatsOpts {
  intervalMs?: number;
  namespaces?: string[];
  hotKeys?: number;
  signal?: AbortSignal;
}

/** A value accepted by `set`: bytes, or text stored as UTF-8. */
export type Value = Uint8Array | string;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytesOf = (value: Value) => (typeof value === "string" ? encoder.encode(value) : value);

/**
 * A MultilayerCache client: the CacheService with cache-shaped methods, deadlines and retries.
 * Errors are `ConnectError`s carrying the gRPC code (`Code.InvalidArgument`, …).
 *
 *   const cache = new CacheClient({ transport: createGrpcJsTransport({ address: "127.0.0.1:50051" }) });
 *   await cache.set("user:1", JSON.stringify({ name: "Ada" }), { ttlMs: 60_000 });
 *   const user = await cache.getJson<{ name: string }>("user:1");
 */
export class CacheClient {
  /** The generated Connect client, for anything this class does not wrap. */
  readonly rpc: Client<typeof CacheService>;
  private readonly namespace: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly pending = new Map<string, Promise<Uint8Array>>();

  constructor(options: CacheClientOptions) {
    this.rpc = createClient(CacheService, options.transport);
    this.namespace = options.namespace ?? "";
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retry = { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 1000, ...options.retry };
  }

  /** The item stored under `key`, or undefined when no layer (nor the loader) has it. */
  async get(key: string, opts: GetOpts = {}): Promise<Item | undefined> {
    const { item } = await this.unary(opts, (call) =>
      this.rpc.get({ namespace: this.ns(opts), key, options: readOptions(opts) }, call),
    );
    return item?.found ? item : undefined;
  }

  /** The value under `key` parsed as JSON, or undefined when not found. */
  async getJson<T>(key: string, opts: GetOpts = {}): Promise<T | undefined> {
    const item = await this.get(key, opts);
    return item ? (JSON.parse(decoder.decode(item.value)) as T) : undefined;
  }

  /**
   * Many keys of one namespace in one call. Every distinct key gets an entry: its item,
   * undefined when not found, or the ConnectError that key failed with.
   */
  async bulkGet(keys: string[], opts: GetOpts = {}): Promise<Map<string, Item | undefined | ConnectError>> {
    const { results } = await this.unary(opts, (call) =>
      this.rpc.bulkGet({ namespace: this.ns(opts), keys, options: readOptions(opts) }, call),
    );
    const out = new Map<string, Item | undefined | ConnectError>();
    for (const result of results) {
      const { outcome } = result;
      if (outcome.case === "error") out.set(result.key, new ConnectError(outcome.value.message, outcome.value.code));
      else out.set(result.key, outcome.value?.found ? outcome.value : undefined);
    }
    return out;
  }

  /** Writes `value` under `key` (text is stored as UTF-8). */
  set(key: string, value: Value, opts: SetOpts = {}): Promise<SetResponse> {
    return this.unary(opts, (call) =>
      this.rpc.set(
        {
          namespace: this.ns(opts),
          key,
          value: bytesOf(value),
          tags: opts.tags ?? [],
          version: opts.version ?? 0n,
          ...(opts.writeMode !== undefined ? { writeMode: opts.writeMode } : {}),
          ...(opts.ttlMs !== undefined ? { ttl: durationFromMs(opts.ttlMs) } : {}),
          ...(opts.freshForMs !== undefined ? { freshFor: durationFromMs(opts.freshForMs) } : {}),
        },
        call,
      ),
    );
  }

  /** Writes `value` as JSON. */
  setJson(key: string, value: unknown, opts: SetOpts = {}): Promise<SetResponse> {
    return this.set(key, JSON.stringify(value), opts);
  }

  /** Drops keys, everything carrying a tag, or everything under a prefix. */
  invalidate(target: InvalidateTarget, opts: CallOpts = {}): Promise<InvalidateResponse> {
    return this.unary(opts, (call) =>
      this.rpc.invalidate(
        {
          namespace: this.ns(opts),
          keys: target.keys ?? [],
          tags: target.tags ?? [],
          ...(target.prefix !== undefined ? { prefix: target.prefix } : {}),
        },
        call,
      ),
    );
  }

  /**
   * The cached value, or else `fallback()`'s, which is stored and returned. Concurrent calls
   * for one key in this process share one fallback call.
   */
  getOrSet(key: string, fallback: () => Value | Promise<Value>, opts: SetOpts & GetOpts = {}): Promise<Uint8Array> {
    const id = `${this.ns(opts)}\u0000${key}`;
    let load = this.pending.get(id);
    if (!load) {
      load = (async () => {
        const item = await this.get(key, opts);
        if (item) return item.value;
        const value = bytesOf(await fallback());
        await this.set(key, value, opts);
        return value;
      })().finally(() => this.pending.delete(id));
      this.pending.set(id, load);
    }
    return load;
  }

  /** {@link getOrSet} for JSON values. */
  async getOrSetJson<T>(key: string, fallback: () => T | Promise<T>, opts: SetOpts & GetOpts = {}): Promise<T> {
    const bytes = await this.getOrSet(key, async () => JSON.stringify(await fallback()), opts);
    return JSON.parse(decoder.decode(bytes)) as T;
  }

  /**
   * Statistics snapshots as they arrive, until the signal aborts or the loop breaks.
   *
   *   for await (const { snapshot } of cache.watchStats({ intervalMs: 1000 })) console.log(snapshot);
   */
  async *watchStats(opts: WatchStatsOpts = {}): AsyncGenerator<WatchStatsResponse> {
    const stream = this.rpc.watchStats(
      {
        namespaces: opts.namespaces ?? [],
        hotKeys: opts.hotKeys ?? 0,
        ...(opts.intervalMs !== undefined ? { interval: durationFromMs(opts.intervalMs) } : {}),
      },
      opts.signal ? { signal: opts.signal } : {},
    );
    try {
      yield* stream;
    } catch (error) {
      // Ending the loop through the caller's signal is not an error.
      if (opts.signal?.aborted && ConnectError.from(error).code === Code.Canceled) return;
      throw error;
    }
  }

  /** Hot keys, per-key statistics, in-flight loads (InspectRequest as is). */
  inspect(request: MessageInitShape<typeof InspectRequestSchema>, opts: CallOpts = {}): Promise<InspectResponse> {
    return this.unary(opts, (call) => this.rpc.inspect(request, call));
  }

  private ns(opts: CallOpts): string {
    return opts.namespace ?? this.namespace;
  }

  private unary<T>(opts: CallOpts, call: (options: CallOptions) => Promise<T>): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const options: CallOptions = {
      ...(timeoutMs > 0 ? { timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
    };
    return withRetry(() => call(options), this.retry, opts.signal);
  }
}

function readOptions(opts: GetOpts): MessageInitShape<typeof ReadOptionsSchema> {
  return {
    skipLoader: opts.skipLoader ?? false,
    forceRefresh: opts.forceRefresh ?? false,
    ...(opts.allowStale !== undefined ? { allowStale: opts.allowStale } : {}),
    ...(opts.maxAgeMs !== undefined ? { maxAge: durationFromMs(opts.maxAgeMs) } : {}),
  };
}
