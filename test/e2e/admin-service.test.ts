// End to end, AdminService: every RPC through grpc-js (gRPC port) and Connect (HTTP port).

import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { within } from "../support/service.js";
import { CLIENT_KINDS, clientsFor, serviceForFile, text } from "./harness.js";

const ms = (d: Duration | undefined) => (d ? durationMs(d) : Number.NaN);

const service = serviceForFile();
describe.each(CLIENT_KINDS)("through %s", (kind) => {
  const { cache, admin, ns } = clientsFor(service, kind);

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
});
