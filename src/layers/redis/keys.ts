/**
 * The names of the Redis layer's keys, all under one prefix:
 *
 *   <prefix>d:<namespace>:<key>       an entry's envelope, or its tombstone
 *   <prefix>l:<namespace>:<key>       the fleet lease on loading the key
 *   <prefix>{<namespace>}:stamps      the namespace's invalidation stamps (a hash)
 *   <prefix>{<namespace>}:stamps:v    their version, read with every batch of reads
 *   <prefix>leases:released           the pub/sub channel of leases released while wanted
 *
 * Both stamp keys share a hash tag, so the stamp script runs on one cluster slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** An entry's envelope (a tombstone after a delete that leaves one). */
  data(namespace: string, key: string): string {
    return `${this.prefix}d:${namespace}:${key}`;
  }

  /** A SCAN pattern matching every data key of the namespace. */
  dataPattern(namespace: string): string {
    return `${this.data(namespace, "")}*`;
  }

  /** The key part of a data key of the namespace. */
  keyOf(namespace: string, dataKey: string): string {
    return dataKey.slice(this.data(namespace, "").length);
  }

  /** The lease on loading a key, held by one instance of the fleet. */
  lease(namespace: string, key: string): string {
    return `${this.prefix}l:${namespace}:${key}`;
  }

  /** The pub/sub channel on which leases released while another instance waited are published. */
  leaseReleases(): string {
    return `${this.prefix}leases:released`;
  }

  stamps(namespace: string): string {
    return `${this.prefix}{${namespace}}:stamps`;
  }

  stampVersion(namespace: string): string {
    return `${this.prefix}{${namespace}}:stamps:v`;
  }
}
