// End to end on both ports: key rules set through UpdatePolicy take effect on reads, Inspect says
// which rule matched and why a key is (not) in L1, promotion rules reach the engine, AdjustTtl
// changes a key's lifetime, and hostile input is refused with INVALID_ARGUMENT.

import { type Duration, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CacheLayer } from "../../src/gen/mlcache/v1/common_pb.js";
import { PromotionMode } from "../../src/gen/mlcache/v1/policy_pb.js";
import { L1Reason } from "../../src/gen/mlcache/v1/stats_pb.js";
import { statusOf } from "../support/service.js";
import { CLIENT_KINDS, clientsFor, serviceForFile, text } from "./harness.js";

const ms = (d: Duration | undefined) => (d ? durationMs(d) : Number.NaN);
const service = serviceForFile();

describe.each(CLIENT_KINDS)("through %s", (kind) => {
  const { cache, admin, ns } = clientsFor(service, kind);

  it("UpdatePolicy with rules: the matching key gets the rule's TTL, others the namespace's; GetPolicy shows the rules", async () => {
    const namespace = ns("rules");
    try {
      await admin.updatePolicy({
        policy: {
          namespace,
          rules: [
            {
              name: "short",
              match: { case: "glob", value: "cat:*:item:*" },
              overrides: { l1: { ttl: durationFromMs(20_000) }, l2: { ttl: durationFromMs(20_000) } },
            },
            { name: "off", match: { case: "prefix", value: "cold:" }, overrides: { l1: { enabled: false } } },
          ],
        },
        updateMask: { paths: ["rules"] },
      });
      const got = await admin.getPolicy({ namespace });
      expect(got.policy?.rules.map((r) => r.name)).toEqual(["short", "off"]);
      expect(got.policy?.rules[0]?.overrides?.l2?.admission).toBeUndefined(); // only what it overrides
      await cache.set({ namespace, key: "cat:1:item:2", value: text("v") });
      await cache.set({ namespace, key: "other", value: text("v") });
      const ruled = (await cache.get({ namespace, key: "cat:1:item:2" })).item;
      const plain = (await cache.get({ namespace, key: "other" })).item;
      expect(ms(ruled?.ttlRemaining)).toBeLessThanOrEqual(20_000 * 1.1);
      expect(ms(plain?.ttlRemaining)).toBeGreaterThan(60_000);
      await cache.set({ namespace, key: "cold:1", value: text("v") });
      const inspected = await cache.inspect({ namespace, keys: ["cat:1:item:2", "cold:1", "other"] });
      expect(inspected.keyStats.map((k) => [k.rule, k.l1Reason])).toEqual([
        ["short", L1Reason.PRESENT],
        ["off", L1Reason.DISABLED],
        ["", L1Reason.PRESENT],
      ]);
      expect(inspected.keyStats[0]?.layerFrequencies[0]).toMatchObject({ layer: CacheLayer.L1, source: "l1-sketch" });
    } finally {
      await admin.resetPolicy({ namespace });
    }
  });

  it("refuses invalid rules with INVALID_ARGUMENT naming the rule", async () => {
    const namespace = ns("rules-bad");
    const update = (rules: object[]) =>
      admin.updatePolicy({ policy: { namespace, rules } as never, updateMask: { paths: ["rules"] } });
    const cases: [object[], RegExp][] = [
      [[{ name: "a", match: { case: "glob", value: "x**" } }], /rules\[0\]\.glob "x\*\*"/],
      [
        [
          { name: "a", match: { case: "exact", value: "x" } },
          { name: "a", match: { case: "exact", value: "y" } },
        ],
        /used by an earlier rule/,
      ],
      [[{ name: "a" }], /set one of exact, prefix, glob/],
      [[{ name: "a", match: { case: "prefix", value: "p".repeat(600) } }], /at most 512/],
      [
        [{ name: "a", match: { case: "prefix", value: "p" }, overrides: { encryptionKeyId: "k" } }],
        /encryptionKeyId cannot be set in a rule/,
      ],
      [
        Array.from({ length: 1001 }, (_, i) => ({ name: `r${i}`, match: { case: "exact", value: `k${i}` } })),
        /at most 1000/,
      ],
    ];
    for (const [rules, message] of cases) {
      const error = await update(rules).catch((e: unknown) => e as { code: number; message: string });
      expect(error).toMatchObject({ code: Code.InvalidArgument });
      expect((error as { message: string }).message).toMatch(message);
    }
    expect((await admin.getPolicy({ namespace })).customized).toBe(false);
  });

  it("a promotion rule set through the API reaches the engine (mode, N and window round-trip)", async () => {
    const namespace = ns("promotion");
    try {
      const updated = await admin.updatePolicy({
        policy: {
          namespace,
          promotion: { mode: PromotionMode.AFTER_HITS, minFrequency: 4, window: durationFromMs(30_000) },
        },
        updateMask: { paths: ["promotion"] },
      });
      expect(updated.policy?.promotion).toMatchObject({ mode: PromotionMode.AFTER_HITS, minFrequency: 4 });
      expect(ms(updated.policy?.promotion?.window)).toBe(30_000);
      const bad = await statusOf(
        admin.updatePolicy({
          policy: { namespace, promotion: { mode: 99 as PromotionMode } },
          updateMask: { paths: ["promotion"] },
        }),
      );
      expect(bad).toBe(Code.InvalidArgument);
    } finally {
      await admin.resetPolicy({ namespace });
    }
  });

  it("AdjustTtl changes a present key's remaining TTL and refuses what the policy does not allow", async () => {
    const namespace = ns("adjust");
    await cache.set({ namespace, key: "k", value: text("v") });
    const adjusted = await admin.adjustTtl({ namespace, keys: ["k", "absent"], ttl: durationFromMs(5_000) });
    expect(adjusted.l1Adjusted).toBe(1);
    expect(adjusted.published).toBe(false); // no Kafka in this service
    const { item } = await cache.get({ namespace, key: "k" });
    expect(ms(item?.ttlRemaining)).toBeLessThanOrEqual(5_000);
    const inspected = await cache.inspect({ namespace, keys: ["k"] });
    expect(ms(inspected.keyStats[0]?.layers[0]?.ttlRemaining)).toBeLessThanOrEqual(5_000);
    for (const request of [
      { namespace, keys: ["k"], ttl: durationFromMs(400 * 86_400_000) },
      { namespace, keys: ["k"] },
      { namespace, keys: [], ttl: durationFromMs(1_000) },
      { namespace, keys: Array.from({ length: 101 }, (_, i) => `k${i}`), ttl: durationFromMs(1_000) },
      { namespace, keys: ["k"], ttl: durationFromMs(1_000), layer: 7 as CacheLayer },
      { namespace: "Bad Namespace", keys: ["k"], ttl: durationFromMs(1_000) },
    ]) {
      expect(await statusOf(admin.adjustTtl(request))).toBe(Code.InvalidArgument);
    }
  });

  it("Inspect with per_layer gives L1's hot keys", async () => {
    const namespace = ns("layers");
    await cache.set({ namespace, key: "hot", value: text("v") });
    for (let i = 0; i < 5; i++) await cache.get({ namespace, key: "hot" });
    const inspected = await cache.inspect({ namespace, hotKeys: 5, perLayer: true });
    expect(inspected.layerHotKeys[0]?.layer).toBe(CacheLayer.L1);
    expect(inspected.layerHotKeys[0]?.hotKeys.map((h) => h.key)).toContain("hot");
  });
});
