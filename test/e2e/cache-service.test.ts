// End to end, CacheService: every RPC through grpc-js (gRPC port) and Connect (HTTP port).

import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CacheLayer, Source } from "../../src/gen/mlcache/v1/common_pb.js";
import type { NamespaceStats } from "../../src/gen/mlcache/v1/stats_pb.js";
import { nextWithin } from "../support/service.js";
import { CLIENT_KINDS, clientsFor, serviceForFile, statsOf, text } from "./harness.js";

const ms = (d: Duration | undefined) => (d ? durationMs(d) : Number.NaN);

const service = serviceForFile();
describe.each(CLIENT_KINDS)("through %s", (kind) => {
  const { cache, ns } = clientsFor(service, kind);

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
});
