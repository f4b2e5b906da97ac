// A test double for the planted-violation test: in-process fake instances serving the real
// CacheService and AdminService API over grpc-js, sharing one store (an "L2" with tag and
// prefix stamps, fleet-wide single flight, versioned writes, shared policies), each with its
// own "L1". It keeps the contract — except that a `forgetful` instance ignores invalidations
// made on other instances, so its L1 keeps serving removed values. The checker must say so.

import { create, type DescService } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { type Item, ItemSchema, Source, WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { originUserAgent } from "../../src/loaders/origin.js";
import { grpcService } from "../../src/rpc/grpc-adapter.js";
import { now } from "./clock.js";
import type { Fleet, FleetMember } from "./fleet.js";
import { BASE_L1_TTL_SECONDS } from "./fleet.js";

interface Entry {
  value: Uint8Array;
  version: bigint;
  tags: string[];
  createdAt: number;
  expiresAt: number;
}

/** What every fake instance shares: the "L2", stamps, flights, policies. */
class SharedState {
  readonly store = new Map<string, Entry>();
  /** `ns/tag` and `ns/prefix:P` → time of the last invalidation. */
  readonly stamps = new Map<string, number>();
  readonly flights = new Map<string, Promise<Entry | undefined>>();
  /** Bumped per namespace on every invalidation: a load begun before it is not stored. */
  readonly epochs = new Map<string, number>();
  readonly l1TtlSeconds = new Map<string, number>();
  private lastVersion = 0n;

  /** A version above every one handed out so far (time-based, like the real service's). */
  nextVersion(): bigint {
    const timeBased = BigInt(Math.floor(now())) * 1_000_000n;
    this.lastVersion = timeBased > this.lastVersion ? timeBased : this.lastVersion + 1n;
    return this.lastVersion;
  }

  /** Whether an entry of `key` made at `createdAt` counts as invalidated by a stamp. */
  stamped(namespace: string, key: string, entry: Entry): boolean {
    for (const tag of entry.tags) if ((this.stamps.get(`${namespace}/${tag}`) ?? -1) >= entry.createdAt) return true;
    for (const [name, at] of this.stamps) {
      const prefix = name.startsWith(`${namespace}/prefix:`) ? name.slice(`${namespace}/prefix:`.length) : undefined;
      if (prefix !== undefined && key.startsWith(prefix) && at >= entry.createdAt) return true;
    }
    return false;
  }
}

class FakeInstance {
  readonly l1 = new Map<string, Entry>();
  private server: grpc.Server | undefined;
  port = 0;

  constructor(
    readonly instanceId: string,
    private readonly shared: SharedState,
    private readonly peers: FakeInstance[],
    private readonly origin: { urlTemplate: string },
    /** The planted bug: invalidations made elsewhere are not applied here. */
    private readonly forgetful: boolean,
  ) {}

  async start(): Promise<void> {
    const server = new grpc.Server();
    for (const [service, impl] of [
      [CacheService, this.cacheService()],
      [AdminService, this.adminService()],
    ] as const) {
      const { definition, handlers } = grpcService(service as DescService, impl as never);
      server.addService(definition, handlers);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    this.server = server;
  }

  close(): void {
    this.server?.forceShutdown();
  }

  /** Drops what an invalidation made elsewhere removes (unless this instance is the forgetful one). */
  hear(namespace: string, keys: readonly string[]): void {
    if (this.forgetful) return;
    for (const key of keys) this.l1.delete(`${namespace}/${key}`);
  }

  private usable(namespace: string, key: string, entry: Entry | undefined, checkStamps: boolean): Entry | undefined {
    if (!entry || entry.expiresAt <= now()) return undefined;
    if (checkStamps && this.shared.stamped(namespace, key, entry)) return undefined;
    return entry;
  }

  private async read(namespace: string, key: string, bypassL1: boolean): Promise<Item> {
    const id = `${namespace}/${key}`;
    // The forgetful instance does not look at stamps for its L1 either: it never heard of them.
    const local = bypassL1 ? undefined : this.usable(namespace, key, this.l1.get(id), !this.forgetful);
    if (local) return item(key, local, Source.L1);
    const stored = this.usable(namespace, key, this.shared.store.get(id), true);
    if (stored) {
      this.l1.set(id, stored);
      return item(key, stored, Source.L2);
    }
    let flight = this.shared.flights.get(id);
    if (!flight) {
      flight = this.load(namespace, key).finally(() => {
        if (this.shared.flights.get(id) === flight) this.shared.flights.delete(id);
      });
      this.shared.flights.set(id, flight);
    }
    const loaded = await flight;
    if (!loaded) return create(ItemSchema, { key, found: false });
    this.l1.set(id, loaded);
    return item(key, loaded, Source.LOADER);
  }

  private async load(namespace: string, key: string): Promise<Entry | undefined> {
    const epoch = this.shared.epochs.get(namespace) ?? 0;
    const createdAt = now();
    const url = this.origin.urlTemplate
      .replace("{namespace}", encodeURIComponent(namespace))
      .replace("{key}", encodeURIComponent(key));
    const response = await fetch(url, { headers: { "user-agent": originUserAgent(this.instanceId) } });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new ConnectError(`origin answered ${response.status}`, Code.Unavailable);
    const entry: Entry = {
      value: new Uint8Array(await response.arrayBuffer()),
      version: BigInt(response.headers.get("x-version") ?? "0"),
      tags: (response.headers.get("x-tags") ?? "").split(",").filter(Boolean),
      createdAt,
      expiresAt: Number.POSITIVE_INFINITY,
    };
    // Detached by an invalidation meanwhile: answer the waiters, store nothing.
    if ((this.shared.epochs.get(namespace) ?? 0) === epoch) this.shared.store.set(`${namespace}/${key}`, entry);
    return entry;
  }

  private cacheService(): ServiceImpl<typeof CacheService> {
    const unimplemented = () => {
      throw new ConnectError("not in the fake", Code.Unimplemented);
    };
    return {
      get: async (request) => ({
        item: await this.read(request.namespace, request.key, (request.options?.bypassLayers.length ?? 0) > 0),
      }),
      bulkGet: async (request) => ({
        results: await Promise.all(
          request.keys.map(async (key) => ({
            key,
            outcome: { case: "item" as const, value: await this.read(request.namespace, key, false) },
          })),
        ),
      }),
      set: async (request) => {
        const id = `${request.namespace}/${request.key}`;
        const current = this.shared.store.get(id) ?? this.l1.get(id);
        if (request.version > 0n && current && current.version > request.version) {
          return { version: current.version, applied: false, writeMode: request.writeMode };
        }
        const version = request.version > 0n ? request.version : this.shared.nextVersion();
        if (request.writeMode === WriteMode.WRITE_BEHIND) {
          // The fake writes through: acknowledged means at the writer.
          const url = this.origin.urlTemplate
            .replace("{namespace}", encodeURIComponent(request.namespace))
            .replace("{key}", encodeURIComponent(request.key));
          await fetch(url, { method: "PUT", body: request.value, headers: { "x-version": version.toString() } });
        }
        const ttlMs = request.ttl ? Number(request.ttl.seconds) * 1000 + request.ttl.nanos / 1e6 : 0;
        const entry: Entry = {
          value: request.value,
          version,
          tags: request.tags,
          createdAt: now(),
          expiresAt: ttlMs > 0 ? now() + ttlMs : Number.POSITIVE_INFINITY,
        };
        this.shared.store.set(id, entry);
        this.l1.set(id, entry);
        for (const peer of this.peers) if (peer !== this) peer.hear(request.namespace, [request.key]);
        return { version, applied: true, writeMode: request.writeMode };
      },
      invalidate: async (request) => {
        const { namespace } = request;
        const at = now();
        this.shared.epochs.set(namespace, (this.shared.epochs.get(namespace) ?? 0) + 1);
        // Loads in flight are detached: later readers start their own.
        for (const id of [...this.shared.flights.keys()])
          if (id.startsWith(`${namespace}/`)) this.shared.flights.delete(id);
        for (const tag of request.tags) this.shared.stamps.set(`${namespace}/${tag}`, at);
        if (request.prefix !== undefined) this.shared.stamps.set(`${namespace}/prefix:${request.prefix}`, at);
        // Keys that the tags and prefix cover, as far as anyone holds them.
        const covered = new Set(request.keys);
        for (const holder of [this.shared.store, ...this.peers.map((p) => p.l1)]) {
          for (const [id, entry] of holder) {
            if (!id.startsWith(`${namespace}/`)) continue;
            const key = id.slice(namespace.length + 1);
            const byPrefix = request.prefix !== undefined && key.startsWith(request.prefix);
            if (byPrefix || entry.tags.some((tag) => request.tags.includes(tag))) covered.add(key);
          }
        }
        for (const key of covered) {
          this.shared.store.delete(`${namespace}/${key}`);
          this.l1.delete(`${namespace}/${key}`);
        }
        for (const peer of this.peers) if (peer !== this) peer.hear(namespace, [...covered]);
        return { keysRemoved: covered.size, published: true };
      },
      watchStats: unimplemented,
      inspect: unimplemented,
    } as ServiceImpl<typeof CacheService>;
  }

  private adminService(): ServiceImpl<typeof AdminService> {
    const unimplemented = () => {
      throw new ConnectError("not in the fake", Code.Unimplemented);
    };
    const policy = (namespace: string) => ({
      namespace,
      l1: { ttl: durationFromMs((this.shared.l1TtlSeconds.get(namespace) ?? BASE_L1_TTL_SECONDS) * 1000) },
    });
    return {
      getPolicy: (request) => ({ policy: policy(request.namespace), customized: false }),
      updatePolicy: (request) => {
        const namespace = request.policy?.namespace ?? "";
        const ttl = request.policy?.l1?.ttl;
        if (ttl) this.shared.l1TtlSeconds.set(namespace, Number(ttl.seconds) + ttl.nanos / 1e9);
        return { policy: policy(namespace) };
      },
      resetPolicy: unimplemented,
      listNamespaces: unimplemented,
      exportStats: unimplemented,
      adjustTtl: unimplemented,
      advise: unimplemented,
    } as ServiceImpl<typeof AdminService>;
  }
}

function item(key: string, entry: Entry, source: Source): Item {
  return create(ItemSchema, { key, found: true, value: entry.value, version: entry.version, tags: entry.tags, source });
}

/** A fleet of fake instances; those whose index is in `forgetful` carry the planted bug. */
export class FakeFleet implements Fleet {
  private constructor(private readonly instances: FakeInstance[]) {}

  static async start(options: { size: number; origin: { urlTemplate: string }; forgetful: readonly number[] }) {
    const shared = new SharedState();
    const instances: FakeInstance[] = [];
    for (let i = 0; i < options.size; i++) {
      instances.push(new FakeInstance(`fake-${i}`, shared, instances, options.origin, options.forgetful.includes(i)));
    }
    for (const instance of instances) await instance.start();
    return new FakeFleet(instances);
  }

  get members(): FleetMember[] {
    return this.instances.map((i) => ({ instanceId: i.instanceId, grpcAddress: `127.0.0.1:${i.port}` }));
  }

  async close(): Promise<void> {
    for (const instance of this.instances) instance.close();
  }
}
