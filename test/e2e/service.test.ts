// End-to-end tests of a running service: both ports, every RPC, the standard gRPC health and
// reflection services, HTTP probes and metrics, bad input, and graceful shutdown.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import {
  type Duration,
  durationFromMs,
  durationMs,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { type Client, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService, type WatchStatsResponse } from "../../src/gen/mlcache/v1/cache_pb.js";
import { CacheLayer, Source, type WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import type { NamespaceStats } from "../../src/gen/mlcache/v1/stats_pb.js";
import type { RunningService } from "../../src/server.js";
import {
  Code,
  createConnectClient,
  createGrpcJsClient,
  grpcWebTransport,
  nextWithin,
  rejection,
  startTestService,
  streamRejection,
  within,
} from "../support/service.js";

const text = (s: string) => new TextEncoder().encode(s);
const ms = (d: Duration | undefined) => (d ? durationMs(d) : Number.NaN);
const REFLECTION_PROTO = new URL(
  "../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
  import.meta.url,
).pathname;
/** The buf CLI (a devDependency), used as an outside reflection client. */
const BUF = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
const execFileAsync = promisify(execFile);

let service: RunningService;

beforeAll(async () => {
  service = await startTestService({
    // Namespaces without TTL jitter, where remaining TTLs can be compared exactly.
    namespaces: {
      "grpc-js.exact": { l1: { jitter: 0 } },
      "connect.exact": { l1: { jitter: 0 } },
    },
  });
});

afterAll(async () => {
  await service?.close();
});

interface Clients {
  cache: Client<typeof CacheService>;
  admin: Client<typeof AdminService>;
  close(): void;
}

const kinds = {
  "grpc-js": (): Clients => {
    const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
    return {
      cache,
      admin,
      close() {
        cache.close();
        admin.close();
      },
    };
  },
  connect: (): Clients => ({
    cache: createConnectClient(CacheService, service.httpPort),
    admin: createConnectClient(AdminService, service.httpPort),
    close() {},
  }),
};

/** The stats of one namespace in a snapshot, if it is there. */
function statsOf(message: WatchStatsResponse, namespace: string): NamespaceStats | undefined {
  return message.snapshot?.namespaces.find((n) => n.namespace === namespace);
}

describe.each(Object.keys(kinds) as (keyof typeof kinds)[])("through %s", (kind) => {
  let clients: Clients;
  let cache: Client<typeof CacheService>;
  let admin: Client<typeof AdminService>;
  /** A namespace of this client kind, so the two kinds never see each other's data. */
  const ns = (name: string) => `${kind}.${name}`;

  beforeAll(() => {
    clients = kinds[kind]();
    cache = clients.cache;
    admin = clients.admin;
  });
  afterAll(() => clients?.close());

  describe("CacheService", () => {
    it("Set then Get returns the value from L1 with its version, tags and TTL", async () => {
      const namespace = ns("exact");
      const value = new Uint8Array([0, 1, 2, 250, 255, 128, 10]);
      const set = await cache.set({
        namespace,
        key: "product:1",
        value,
        ttl: durationFromMs(60_000),
        tags: ["category:42", "brand:7"],
      });
      expect(set.applied).toBe(true);
      expect(set.version).toBeGreaterThan(0n);

      const { item } = await cache.get({ namespace, key: "product:1" });
      expect(item?.key).toBe("product:1");
      expect(item?.found).toBe(true);
      // grpc-js hands out Buffer views, Connect plain Uint8Arrays: compare the bytes.
      expect(Array.from(item?.value ?? [])).toEqual(Array.from(value));
      expect(item?.source).toBe(Source.L1);
      expect(item?.stale).toBe(false);
      expect(item?.version).toBe(set.version);
      expect(item?.tags).toEqual(["category:42", "brand:7"]);
      expect(ms(item?.ttlRemaining)).toBeGreaterThan(0);
      expect(ms(item?.ttlRemaining)).toBeLessThanOrEqual(60_000);
      expect(ms(item?.age)).toBeGreaterThanOrEqual(0);
    });

    it("Set with an explicit TTL in a namespace with TTL jitter: the remaining TTL stays within the TTL set", async () => {
      // SetRequest.ttl is the "hard TTL for this value" (never served after it); the default
      // policy has l1.jitter 0.1, which must not stretch a TTL the caller set explicitly.
      const namespace = ns("jittered");
      const ttlMs = 60_000;
      const remaining: number[] = [];
      for (let i = 0; i < 5; i++) {
        await cache.set({ namespace, key: `k${i}`, value: text("v"), ttl: durationFromMs(ttlMs) });
        const { item } = await cache.get({ namespace, key: `k${i}` });
        expect(item?.found).toBe(true);
        remaining.push(ms(item?.ttlRemaining));
      }
      for (const r of remaining) expect(r).toBeGreaterThan(0);
      expect(Math.max(...remaining)).toBeLessThanOrEqual(ttlMs);
    });

    it("a second Set of a key returns a greater version, and Get returns the new value", async () => {
      const namespace = ns("versions");
      const first = await cache.set({ namespace, key: "k", value: text("one") });
      const second = await cache.set({ namespace, key: "k", value: text("two") });
      expect(second.applied).toBe(true);
      expect(second.version).toBeGreaterThan(first.version);
      const { item } = await cache.get({ namespace, key: "k" });
      expect(new TextDecoder().decode(item?.value)).toBe("two");
      expect(item?.version).toBe(second.version);
      // An older explicit version is not applied and the stored version is reported.
      const stale = await cache.set({ namespace, key: "k", value: text("old"), version: first.version });
      expect(stale.applied).toBe(false);
      expect(stale.version).toBe(second.version);
      expect(new TextDecoder().decode((await cache.get({ namespace, key: "k" })).item?.value)).toBe("two");
    });

    it("Get of a missing key reports not found", async () => {
      const { item } = await cache.get({ namespace: ns("missing"), key: "nobody-wrote-this" });
      expect(item?.found).toBe(false);
      expect(item?.key).toBe("nobody-wrote-this");
      expect(item?.value).toHaveLength(0);
    });

    it("Get with an empty namespace uses the namespace 'default'", async () => {
      await cache.set({ namespace: "", key: `${kind}:default-ns`, value: text("d") });
      const { item } = await cache.get({ namespace: "default", key: `${kind}:default-ns` });
      expect(item?.found).toBe(true);
      expect(new TextDecoder().decode(item?.value)).toBe("d");
    });

    it("BulkGet answers once per distinct key, in request order, missing keys included", async () => {
      const namespace = ns("bulk");
      await cache.set({ namespace, key: "a", value: text("A") });
      await cache.set({ namespace, key: "b", value: text("B") });
      const { results } = await cache.bulkGet({ namespace, keys: ["b", "missing", "a", "b"] });
      expect(results.map((r) => r.key)).toEqual(["b", "missing", "a"]);
      const items = results.map((r) => {
        expect(r.outcome.case).toBe("item");
        return r.outcome.case === "item" ? r.outcome.value : undefined;
      });
      expect(items.map((i) => i?.found)).toEqual([true, false, true]);
      expect(items.map((i) => new TextDecoder().decode(i?.value))).toEqual(["B", "", "A"]);
      expect(items[0]?.source).toBe(Source.L1);
    });

    it("Invalidate by keys drops them and leaves the others", async () => {
      const namespace = ns("inv-keys");
      for (const key of ["x", "y", "z"]) await cache.set({ namespace, key, value: text(key) });
      const response = await cache.invalidate({ namespace, keys: ["x", "y", "never-set"] });
      expect(response.keysRemoved).toBe(2);
      expect((await cache.get({ namespace, key: "x" })).item?.found).toBe(false);
      expect((await cache.get({ namespace, key: "y" })).item?.found).toBe(false);
      expect((await cache.get({ namespace, key: "z" })).item?.found).toBe(true);
    });

    it("Invalidate by tag drops the entries carrying it; a later Set is visible again", async () => {
      const namespace = ns("inv-tags");
      await cache.set({ namespace, key: "k1", value: text("1"), tags: ["t1"] });
      await cache.set({ namespace, key: "k2", value: text("2"), tags: ["t1", "t2"] });
      await cache.set({ namespace, key: "k3", value: text("3"), tags: ["t2"] });
      await cache.set({ namespace, key: "k4", value: text("4") });
      const response = await cache.invalidate({ namespace, tags: ["t1"] });
      expect(response.stamp).toBeDefined();
      const found = async (key: string) => (await cache.get({ namespace, key })).item?.found;
      expect(await found("k1")).toBe(false);
      expect(await found("k2")).toBe(false);
      expect(await found("k3")).toBe(true);
      expect(await found("k4")).toBe(true);
      await cache.set({ namespace, key: "k1", value: text("1b"), tags: ["t1"] });
      expect(await found("k1")).toBe(true);
    });

    it("Invalidate by prefix drops keys under it only; an empty prefix drops the namespace", async () => {
      const namespace = ns("inv-prefix");
      const other = ns("inv-prefix-other");
      const keys = ["category:42:product:1", "category:42:product:2", "category:43:product:1", "category:4"];
      for (const key of keys) await cache.set({ namespace, key, value: text(key) });
      await cache.set({ namespace: other, key: "category:42:product:1", value: text("other") });

      await cache.invalidate({ namespace, prefix: "category:42:" });
      const found = async (n: string, key: string) => (await cache.get({ namespace: n, key })).item?.found;
      expect(await found(namespace, "category:42:product:1")).toBe(false);
      expect(await found(namespace, "category:42:product:2")).toBe(false);
      expect(await found(namespace, "category:43:product:1")).toBe(true);
      expect(await found(namespace, "category:4")).toBe(true);
      expect(await found(other, "category:42:product:1")).toBe(true);

      await cache.invalidate({ namespace, prefix: "" });
      for (const key of keys) expect(await found(namespace, key)).toBe(false);
      expect(await found(other, "category:42:product:1")).toBe(true);
    });

    it("Inspect lists the hottest key first and per-key layer state", async () => {
      const namespace = ns("inspect");
      const set = await cache.set({ namespace, key: "hot", value: text("h") });
      await cache.set({ namespace, key: "warm", value: text("w") });
      await cache.set({ namespace, key: "cold", value: text("c") });
      for (let i = 0; i < 30; i++) await cache.get({ namespace, key: "hot" });
      for (let i = 0; i < 3; i++) await cache.get({ namespace, key: "warm" });
      await cache.get({ namespace, key: "cold" });

      const response = await cache.inspect({
        namespace,
        keys: ["hot", "absent"],
        hotKeys: 3,
        includeInFlight: true,
      });
      expect(response.hotKeys.length).toBeGreaterThan(0);
      expect(response.hotKeys.length).toBeLessThanOrEqual(3);
      expect(response.hotKeys[0]).toMatchObject({ namespace, key: "hot", instances: 1 });
      expect(response.hotKeys[0]?.frequency).toBeGreaterThan(0n);
      for (const hot of response.hotKeys) expect(hot.namespace).toBe(namespace);

      expect(response.keyStats.map((k) => k.key)).toEqual(["hot", "absent"]);
      const hotL1 = response.keyStats[0]?.layers.find((l) => l.layer === CacheLayer.L1);
      expect(hotL1?.present).toBe(true);
      expect(hotL1?.stale).toBe(false);
      expect(hotL1?.version).toBe(set.version);
      expect(hotL1?.sizeBytes).toBeGreaterThan(0n);
      expect(ms(hotL1?.ttlRemaining)).toBeGreaterThan(0);
      const absentL1 = response.keyStats[1]?.layers.find((l) => l.layer === CacheLayer.L1);
      expect(absentL1?.present).toBe(false);
      expect(Array.isArray(response.inFlight)).toBe(true);
      expect(response.inFlight).toHaveLength(0);
    });

    it("WatchStats streams snapshots whose counters follow the traffic, until cancelled", async () => {
      const namespace = ns("watch");
      const abort = new AbortController();
      try {
        const stream = cache.watchStats(
          { interval: durationFromMs(100), namespaces: [namespace], hotKeys: 5 },
          { signal: abort.signal },
        );
        const iterator = stream[Symbol.asyncIterator]();
        const first = await nextWithin(iterator, 10_000, "the first snapshot");
        expect(first.snapshot?.instanceId).toBe("e2e-test");
        expect(first.snapshot?.time).toBeDefined();
        expect(statsOf(first, namespace)?.requests ?? 0n).toBe(0n);

        // 3 writes, 4 hits, 2 misses.
        for (const key of ["a", "b", "c"]) await cache.set({ namespace, key, value: text(key) });
        for (const key of ["a", "a", "b", "c", "none1", "none2"]) await cache.get({ namespace, key });

        let stats: NamespaceStats | undefined;
        for (let i = 0; i < 50; i++) {
          const message = await nextWithin(iterator, 10_000, "a later snapshot");
          for (const n of message.snapshot?.namespaces ?? []) expect(n.namespace).toBe(namespace);
          stats = statsOf(message, namespace);
          if (stats && stats.requests >= 6n) break;
        }
        expect(stats?.requests).toBe(6n);
        const l1 = stats?.layers.find((l) => l.layer === CacheLayer.L1);
        expect(l1?.hits).toBe(4n);
        expect(l1?.misses).toBe(2n);
        expect(l1?.puts).toBe(3n);
        expect(l1?.entries).toBe(3n);
        expect(l1?.hitRatio).toBeCloseTo(4 / 6, 5);
        expect(stats?.hotKeys[0]?.key).toBe("a");
        await iterator.return?.();
      } finally {
        abort.abort();
      }
    });
  });

  describe("AdminService", () => {
    it("GetPolicy of an unconfigured namespace returns the defaults, not customized", async () => {
      const response = await admin.getPolicy({ namespace: ns("policy-fresh") });
      expect(response.customized).toBe(false);
      expect(response.policy?.namespace).toBe(ns("policy-fresh"));
      expect(ms(response.policy?.l1?.ttl)).toBe(5 * 60_000);
      expect(response.policy?.maxValueBytes).toBe(1024n * 1024n);
    });

    it("GetPolicy of a configured namespace is customized", async () => {
      const response = await admin.getPolicy({ namespace: ns("exact") });
      expect(response.customized).toBe(true);
      expect(response.policy?.l1?.jitter).toBe(0);
    });

    it("UpdatePolicy with mask l1.ttl shorter than the current TTL is accepted and GetPolicy shows it", async () => {
      // The default l1 policy is ttl 5m, fresh_for 5m. Only l1.ttl is named by the mask.
      const namespace = ns("policy-short");
      try {
        const updated = await admin.updatePolicy({
          policy: { namespace, l1: { ttl: durationFromMs(30_000) } },
          updateMask: { paths: ["l1.ttl"] },
        });
        expect(ms(updated.policy?.l1?.ttl)).toBe(30_000);
        const got = await admin.getPolicy({ namespace });
        expect(got.customized).toBe(true);
        expect(ms(got.policy?.l1?.ttl)).toBe(30_000);
        await cache.set({ namespace, key: "k", value: text("v") });
        const { item } = await cache.get({ namespace, key: "k" });
        expect(ms(item?.ttlRemaining)).toBeGreaterThan(0);
        expect(ms(item?.ttlRemaining)).toBeLessThanOrEqual(30_000 * 1.1);
      } finally {
        await admin.resetPolicy({ namespace });
      }
    });

    it("UpdatePolicy (mask l1.ttl, l1.fresh_for) changes the policy, later Sets use it, ResetPolicy restores the defaults", async () => {
      const namespace = ns("policy");
      const updated = await admin.updatePolicy({
        policy: { namespace, l1: { ttl: durationFromMs(30_000), freshFor: durationFromMs(20_000) } },
        updateMask: { paths: ["l1.ttl", "l1.fresh_for"] },
      });
      expect(ms(updated.policy?.l1?.ttl)).toBe(30_000);
      expect(ms(updated.policy?.l1?.freshFor)).toBe(20_000);

      const got = await admin.getPolicy({ namespace });
      expect(got.customized).toBe(true);
      expect(ms(got.policy?.l1?.ttl)).toBe(30_000);
      // Fields outside the mask keep their values.
      expect(ms(got.policy?.l2?.ttl)).toBe(60 * 60_000);
      expect(got.policy?.l1?.jitter).toBeCloseTo(0.1, 10);
      expect(got.policy?.maxValueBytes).toBe(1024n * 1024n);

      await cache.set({ namespace, key: "k", value: text("v") });
      const { item } = await cache.get({ namespace, key: "k" });
      expect(item?.found).toBe(true);
      expect(ms(item?.ttlRemaining)).toBeGreaterThan(0);
      // The policy TTL plus at most its jitter (10%): well under the 5 minute default.
      expect(ms(item?.ttlRemaining)).toBeLessThanOrEqual(30_000 * 1.1);
      expect((await admin.listNamespaces({})).namespaces.find((n) => n.name === namespace)?.customized).toBe(true);

      const reset = await admin.resetPolicy({ namespace });
      expect(ms(reset.policy?.l1?.ttl)).toBe(5 * 60_000);
      const after = await admin.getPolicy({ namespace });
      expect(after.customized).toBe(false);
      expect(ms(after.policy?.l1?.ttl)).toBe(5 * 60_000);
      await cache.set({ namespace, key: "k2", value: text("v") });
      const again = await cache.get({ namespace, key: "k2" });
      expect(ms(again.item?.ttlRemaining)).toBeGreaterThan(30_000 * 1.1);
    });

    it("UpdatePolicy with mask l1.ttl longer than the current TTL is applied to later Sets", async () => {
      const namespace = ns("policy-long");
      await admin.updatePolicy({
        policy: { namespace, l1: { ttl: durationFromMs(20 * 60_000) } },
        updateMask: { paths: ["l1.ttl"] },
      });
      await cache.set({ namespace, key: "k", value: text("v") });
      const { item } = await cache.get({ namespace, key: "k" });
      // More than the default 5 min (+10% jitter) can give, at most the new TTL plus jitter.
      expect(ms(item?.ttlRemaining)).toBeGreaterThan(5.5 * 60_000);
      expect(ms(item?.ttlRemaining)).toBeLessThanOrEqual(20 * 60_000 * 1.1);
      await admin.resetPolicy({ namespace });
    });

    it("ListNamespaces lists the namespaces used, with their L1 entries", async () => {
      const namespace = ns("listed");
      await cache.set({ namespace, key: "one", value: text("1") });
      await cache.set({ namespace, key: "two", value: text("2") });
      const { namespaces } = await admin.listNamespaces({});
      const names = namespaces.map((n) => n.name);
      expect(names).toContain(namespace);
      expect(names).toContain(ns("exact"));
      expect(names).toEqual([...names].sort());
      const listed = namespaces.find((n) => n.name === namespace);
      expect(listed?.l1Entries).toBe(2n);
      expect(listed?.l1Bytes).toBeGreaterThan(0n);
      expect(listed?.customized).toBe(false);
      expect(namespaces.find((n) => n.name === ns("exact"))?.customized).toBe(true);
    });

    it("ExportStats streams NDJSON lines that parse as JSON", async () => {
      const namespace = ns("export");
      await cache.set({ namespace, key: "k", value: text("v") });
      await cache.get({ namespace, key: "k" });
      await cache.get({ namespace, key: "k" });
      const lines: unknown[] = [];
      let chunks = 0;
      const iterator = admin.exportStats({ namespaces: [namespace] })[Symbol.asyncIterator]();
      for (let i = 0; i < 100; i++) {
        const result = await within(iterator.next(), 10_000, "an ExportStats chunk");
        if (result.done) break;
        chunks++;
        const chunk = new TextDecoder().decode(result.value.ndjson);
        expect(chunk.endsWith("\n")).toBe(true);
        for (const line of chunk.split("\n").filter((l) => l.length > 0)) lines.push(JSON.parse(line));
      }
      expect(chunks).toBeGreaterThan(0);
      expect(lines[0]).toMatchObject({ type: "namespace", namespace, requests: 2 });
      expect(lines).toContainEqual(expect.objectContaining({ type: "key", namespace, key: "k" }));
    });
  });

  describe("bad input", () => {
    const invalid = async (call: Promise<unknown>, message: RegExp) => {
      const error = await rejection(call);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(message);
    };

    it("is refused with INVALID_ARGUMENT and a message naming the problem; the server keeps serving", async () => {
      const namespace = ns("bad");
      await cache.set({ namespace, key: "good", value: text("still here") });

      await invalid(cache.get({ namespace, key: "" }), /key must not be empty/);
      await invalid(cache.set({ namespace, key: "", value: text("v") }), /key must not be empty/);
      await invalid(cache.get({ namespace, key: "k".repeat(1025) }), /1025 bytes.*at most 1024/);
      // Multi-byte UTF-8: 513 two-byte characters are 1026 bytes.
      await invalid(cache.get({ namespace, key: "é".repeat(513) }), /1026 bytes/);
      await invalid(
        cache.set({ namespace, key: "k", value: text("v"), writeMode: 99 as WriteMode }),
        /write_mode has unknown value 99/,
      );
      await invalid(
        cache.get({ namespace, key: "k", options: { bypassLayers: [7 as CacheLayer] } }),
        /bypass_layers\[0\] has unknown value 7/,
      );
      await invalid(
        cache.set({ namespace, key: "big", value: new Uint8Array(1024 * 1024 + 1) }),
        /1048577 bytes.*at most 1048576/,
      );
      await invalid(cache.get({ namespace: "Bad Namespace!", key: "k" }), /namespace "Bad Namespace!" is not valid/);
      await invalid(
        cache.set({ namespace: "Bad Namespace!", key: "k", value: text("v") }),
        /namespace "Bad Namespace!" is not valid/,
      );
      await invalid(cache.invalidate({ namespace }), /at least one of keys, tags or prefix/);
      await invalid(cache.bulkGet({ namespace, keys: [] }), /at least one key/);
      await invalid(
        cache.set({ namespace, key: "k", value: text("v"), ttl: durationFromMs(1000), freshFor: durationFromMs(2000) }),
        /fresh_for must not be longer than ttl/,
      );
      const watchError = await streamRejection(
        cache.watchStats({ interval: durationFromMs(10), namespaces: [namespace] }),
      );
      expect(watchError.code).toBe(Code.InvalidArgument);
      expect(watchError.rawMessage).toMatch(/interval must be at least 100 ms/);

      await invalid(
        admin.updatePolicy({
          policy: { namespace, l1: { ttl: durationFromMs(1000) } },
          updateMask: { paths: ["l1.bogus"] },
        }),
        /l1\.bogus.*no field "bogus"/,
      );
      await invalid(
        admin.updatePolicy({ policy: { namespace, l1: { jitter: 5 } }, updateMask: { paths: ["l1.jitter"] } }),
        /l1\.jitter must be between 0 and 1/,
      );
      await invalid(admin.getPolicy({ namespace: "Bad Namespace!" }), /not valid/);
      // The refused updates left the policy alone.
      expect((await admin.getPolicy({ namespace })).customized).toBe(false);
      // The refused writes wrote nothing.
      expect((await cache.get({ namespace, key: "big" })).item?.found).toBe(false);

      const { item } = await cache.get({ namespace, key: "good" });
      expect(item?.found).toBe(true);
      expect(new TextDecoder().decode(item?.value)).toBe("still here");
    });
  });
});

describe("other protocols on the HTTP port", () => {
  it("gRPC-Web: Set then Get", async () => {
    const client = createClient(CacheService, grpcWebTransport(service.httpPort));
    const set = await client.set({ namespace: "grpc-web", key: "k", value: text("web"), tags: ["t"] });
    const { item } = await client.get({ namespace: "grpc-web", key: "k" });
    expect(item?.found).toBe(true);
    expect(new TextDecoder().decode(item?.value)).toBe("web");
    expect(item?.version).toBe(set.version);
    const error = await rejection(client.get({ namespace: "grpc-web", key: "" }));
    expect(error.code).toBe(Code.InvalidArgument);
  });

  it("plain JSON POST to /mlcache.v1.CacheService/Get", async () => {
    const grpcClient = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      const set = await grpcClient.set({ namespace: "json", key: "k", value: text("hello json"), tags: ["a"] });
      const response = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "json", key: "k" }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { item: Record<string, unknown> };
      expect(body.item).toMatchObject({
        key: "k",
        found: true,
        value: Buffer.from("hello json").toString("base64"),
        source: "SOURCE_L1",
        version: set.version.toString(),
        tags: ["a"],
      });

      const bad = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "json", key: "" }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: "invalid_argument", message: "key must not be empty" });
    } finally {
      grpcClient.close();
    }
  });
});

describe("health", () => {
  type HealthClient = grpc.Client & {
    Check(
      request: { service: string },
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
    ): void;
  };
  let health: HealthClient;

  beforeAll(() => {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const Health = loaded.grpc.health.v1.Health;
    health = new Health(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
  });
  afterAll(() => health?.close());

  const check = (name: string) =>
    new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: name }, { deadline: Date.now() + 10_000 }, (error, response) =>
        error || !response ? reject(error ?? new Error("no response")) : resolve(response),
      ),
    );

  it("grpc.health.v1.Health/Check answers SERVING for the server and each service", async () => {
    expect((await check("")).status).toBe("SERVING");
    expect((await check("mlcache.v1.CacheService")).status).toBe("SERVING");
    expect((await check("mlcache.v1.AdminService")).status).toBe("SERVING");
  });

  it("Check of an unknown service is NOT_FOUND", async () => {
    const error = (await check("no.such.Service").then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError | undefined;
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
  });

  it("HTTP /healthz and /readyz answer 200", async () => {
    const healthz = await fetch(`http://127.0.0.1:${service.httpPort}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok\n");
    const readyz = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toBe("ready\n");
  });

  it("/metrics carries cache and gRPC server metrics after traffic", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "metrics", key: "k", value: text("v") });
      await client.get({ namespace: "metrics", key: "k" });
      await client.get({ namespace: "metrics", key: "k" });
      await client.get({ namespace: "metrics", key: "absent" });
      await rejection(client.get({ namespace: "metrics", key: "" }));
    } finally {
      client.close();
    }
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/metrics`);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain("cache_gets_total");
    expect(body).toContain("grpc_server_handled_total");
    const sample = (name: string, labels: string[]) =>
      body
        .split("\n")
        .find((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
        ?.split(" ")
        .at(-1);
    expect(sample("cache_gets_total", ['cache="metrics"', 'layer="l1"', 'result="hit"'])).toBe("2");
    expect(sample("cache_gets_total", ['cache="metrics"', 'layer="l1"', 'result="miss"'])).toBe("1");
    expect(
      Number(
        sample("grpc_server_handled_total", [
          'grpc_service="mlcache.v1.CacheService"',
          'grpc_method="Get"',
          'grpc_code="OK"',
        ]),
      ),
    ).toBeGreaterThanOrEqual(3);
    expect(
      Number(
        sample("grpc_server_handled_total", [
          'grpc_service="mlcache.v1.CacheService"',
          'grpc_method="Get"',
          'grpc_code="INVALID_ARGUMENT"',
        ]),
      ),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe("server reflection", () => {
  type ReflectionResponse = {
    message_response?: string;
    list_services_response?: { service: { name: string }[] };
    file_descriptor_response?: { file_descriptor_proto: Buffer[] };
    error_response?: { error_code: number; error_message: string };
  };
  let client: grpc.Client & {
    ServerReflectionInfo(options?: grpc.CallOptions): grpc.ClientDuplexStream<object, ReflectionResponse>;
  };

  beforeAll(() => {
    const definition = protoLoader.loadSync(REFLECTION_PROTO, { keepCase: true, oneofs: true, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const Reflection = loaded.grpc.reflection.v1.ServerReflection;
    client = new Reflection(
      `127.0.0.1:${service.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof client;
  });
  afterAll(() => client?.close());

  /** Sends each request on one bidi stream and collects one response per request. */
  async function ask(requests: object[]): Promise<ReflectionResponse[]> {
    const call = client.ServerReflectionInfo({ deadline: Date.now() + 10_000 });
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (response: ReflectionResponse) => {
        responses.push(response);
        if (responses.length === requests.length) call.end();
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    for (const request of requests) call.write(request);
    await within(done, 10_000, "reflection answers");
    return responses;
  }

  it("lists the cache, admin and health services", async () => {
    const [response] = await ask([{ list_services: "*" }]);
    expect(response?.message_response).toBe("list_services_response");
    const names = response?.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(["mlcache.v1.CacheService", "mlcache.v1.AdminService", "grpc.health.v1.Health"]),
    );
  });

  /** The descriptors in a file_descriptor_response, decoded. */
  const filesOf = (response: ReflectionResponse | undefined) =>
    dependenciesFirst(
      (response?.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      ),
    );

  /**
   * Reflection answers the asked-for file first and its imports after it (clients such as
   * grpcurl accept any order); a FileDescriptorSet for createFileRegistry needs imports first.
   */
  const dependenciesFirst = (files: FileDescriptorProto[]): FileDescriptorProto[] => {
    const byName = new Map(files.map((f) => [f.name, f]));
    const ordered: FileDescriptorProto[] = [];
    const visit = (file: FileDescriptorProto) => {
      if (ordered.includes(file)) return;
      for (const name of file.dependency) {
        const dependency = byName.get(name);
        if (dependency) visit(dependency);
      }
      ordered.push(file);
    };
    files.forEach(visit);
    return ordered;
  };

  it("file_containing_symbol returns file descriptors declaring the symbol", async () => {
    const [response] = await ask([{ file_containing_symbol: "mlcache.v1.CacheService" }]);
    expect(response?.message_response).toBe("file_descriptor_response");
    const files = filesOf(response);
    expect(files.length).toBeGreaterThan(0);
    const declaring = files.find((f) => f.service.some((s) => s.name === "CacheService"));
    expect(declaring?.package).toBe("mlcache.v1");
    expect(declaring?.service.find((s) => s.name === "CacheService")?.method.map((m) => m.name)).toEqual([
      "Get",
      "BulkGet",
      "Set",
      "Invalidate",
      "WatchStats",
      "Inspect",
    ]);
  });

  it("the descriptors are the real files, with their names and imports, and build a complete schema", async () => {
    // What grpcurl and `buf curl` do with them: resolve every type reference within the set.
    const [response] = await ask([{ file_containing_symbol: "mlcache.v1.CacheService" }]);
    const files = filesOf(response);
    const cacheFile = files.find((f) => f.name === "mlcache/v1/cache.proto");
    expect(cacheFile?.service.map((s) => s.name)).toEqual(["CacheService"]);
    expect(cacheFile?.dependency).toEqual(
      expect.arrayContaining(["google/protobuf/duration.proto", "mlcache/v1/common.proto", "mlcache/v1/stats.proto"]),
    );
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
    const get = registry.getService("mlcache.v1.CacheService")?.methods.find((m) => m.name === "Get");
    expect(get?.input.typeName).toBe("mlcache.v1.GetRequest");
    expect(get?.input.fields.find((f) => f.name === "options")?.message?.typeName).toBe("mlcache.v1.ReadOptions");
  });

  it("the health service's descriptor builds a complete schema too", async () => {
    const [response] = await ask([{ file_containing_symbol: "grpc.health.v1.Health" }]);
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: filesOf(response) }));
    const check = registry.getService("grpc.health.v1.Health")?.methods.find((m) => m.name === "Check");
    expect(check?.output.typeName).toBe("grpc.health.v1.HealthCheckResponse");
  });

  it("answers a message symbol, and reports an unknown symbol as NOT_FOUND", async () => {
    const [found, missing] = await ask([
      { file_containing_symbol: "mlcache.v1.NamespacePolicy" },
      { file_containing_symbol: "no.such.Symbol" },
    ]);
    expect(found?.message_response).toBe("file_descriptor_response");
    expect(filesOf(found).some((f) => f.messageType.some((m) => m.name === "NamespacePolicy"))).toBe(true);
    expect(missing?.message_response).toBe("error_response");
    expect(missing?.error_response?.error_code).toBe(grpc.status.NOT_FOUND);
  });

  it("`buf curl` calls Get through reflection, without proto files", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "buf-curl", key: "k", value: text("via buf") });
    } finally {
      client.close();
    }
    const result = await execFileAsync(
      BUF,
      [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-d",
        JSON.stringify({ namespace: "buf-curl", key: "k" }),
        `http://127.0.0.1:${service.grpcPort}/mlcache.v1.CacheService/Get`,
      ],
      { timeout: 30_000 },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    expect(result.stderr).toBe("");
    const body = JSON.parse(result.stdout ?? "") as { item: Record<string, unknown> };
    expect(body.item).toMatchObject({
      key: "k",
      found: true,
      value: Buffer.from("via buf").toString("base64"),
      source: "SOURCE_L1",
    });
  });
});

describe("deadlines", () => {
  it("a grpc-js Get with a generous deadline succeeds; an expired one is DEADLINE_EXCEEDED", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "deadline", key: "k", value: text("v") }, { timeoutMs: 30_000 });
      const { item } = await client.get({ namespace: "deadline", key: "k" }, { timeoutMs: 30_000 });
      expect(item?.found).toBe(true);
      const expired = await rejection(client.get({ namespace: "deadline", key: "k" }, { timeoutMs: -1 }));
      expect(expired.code).toBe(Code.DeadlineExceeded);
      // The server is unaffected.
      expect((await client.get({ namespace: "deadline", key: "k" })).item?.found).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe("graceful shutdown", () => {
  const started: RunningService[] = [];
  const clients: { close(): void }[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  it.each(["grpc-js", "connect"] as const)(
    "close() ends an open WatchStats stream (%s), resolves, and the ports stop answering",
    async (kind) => {
      // A long grace: close() must finish because the stream ended, not because time ran out.
      const instance = await startTestService({ server: { shutdownGrace: "60s" } });
      started.push(instance);
      const grpcAddress = `127.0.0.1:${instance.grpcPort}`;
      let cache: Client<typeof CacheService>;
      if (kind === "grpc-js") {
        const grpcClient = createGrpcJsClient(CacheService, grpcAddress);
        clients.push(grpcClient);
        cache = grpcClient;
      } else {
        cache = createConnectClient(CacheService, instance.httpPort);
      }
      await cache.set({ namespace: "shutdown", key: "k", value: text("v") });

      const iterator = cache
        .watchStats({ interval: durationFromMs(100), namespaces: ["shutdown"] })
        [Symbol.asyncIterator]();
      const first = await nextWithin(iterator, 10_000, "the first snapshot");
      expect(first.snapshot?.namespaces[0]?.namespace).toBe("shutdown");

      const closing = instance.close();
      // The stream ends: cleanly, or with CANCELLED / UNAVAILABLE; any end will do, but it must end.
      const end = (async () => {
        for (let i = 0; i < 1000; i++) {
          const result = await iterator.next();
          if (result.done) return "done";
        }
        return "still streaming";
      })().catch((error: unknown) => `error: ${String(error)}`);
      const outcome = await within(end, 20_000, "the WatchStats stream to end");
      expect(outcome).not.toBe("still streaming");
      await within(closing, 20_000, "close() to resolve");

      // New connections are refused on both ports.
      const fresh = createGrpcJsClient(CacheService, grpcAddress);
      clients.push(fresh);
      const refused = await rejection(fresh.get({ namespace: "shutdown", key: "k" }, { timeoutMs: 5_000 }));
      expect(refused.code).toBe(Code.Unavailable);
      await expect(fetch(`http://127.0.0.1:${instance.httpPort}/healthz`)).rejects.toThrow();
    },
  );

  it("health turns NOT_SERVING as soon as close() begins", async () => {
    const instance = await startTestService({ server: { shutdownGrace: "500ms" } });
    started.push(instance);
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const health = new loaded.grpc.health.v1.Health(
      `127.0.0.1:${instance.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      Watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
    };
    clients.push(health);
    const watch = health.Watch({ service: "mlcache.v1.CacheService" });
    const statuses: string[] = [];
    let changed: (() => void) | undefined;
    watch.on("data", (message: { status: string }) => {
      statuses.push(message.status);
      changed?.();
    });
    watch.on("error", () => {});
    const waitFor = (n: number) =>
      within(
        new Promise<void>((resolve) => {
          changed = () => statuses.length >= n && resolve();
          changed();
        }),
        10_000,
        `${n} health statuses`,
      );
    await waitFor(1);
    expect(statuses).toEqual(["SERVING"]);
    const closing = instance.close();
    await waitFor(2);
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    watch.cancel();
    await within(closing, 10_000, "close() to resolve");
  });
});
