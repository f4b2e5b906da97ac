import { Cluster, Redis, type RedisOptions } from "ioredis";
import { parseRedisUrl } from "./redis-url.js";

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

/** A client of a single node (also behind Sentinel) or of a Cluster. */
export type RedisClient = Redis | Cluster;

/** Builds the ioredis client for a connection description. */
export function connect(options: RedisConnection): RedisClient {
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
    // No auto-pipelining on a single node: ioredis holds an auto-pipelined command for a
    // setImmediate and behind the one auto-pipeline still running, so 32 script calls in flight
    // went at ~30 k/s auto-pipelined and ~55 k/s sent at once. The hot commands are gathered by
    // the layer itself, per turn of the event loop (read-batch.ts, write-batch.ts); the rest
    // are written as they are made, in their order.
    enableAutoPipelining: false,
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
