// Key rules in YAML and in the API's NamespacePolicy: the same shape, human durations inside
// rules, inheritance of what a rule leaves unset, refusals of namespace-wide fields, round trips.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../../src/config/config.js";
import { applyMask, overlayPolicy, policyFromJson, settingsToPolicy } from "../../../src/config/policy-proto.js";
import { defaultSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { NamespacePolicySchema, PromotionMode } from "../../../src/gen/mlcache/v1/policy_pb.js";

const yaml = `
namespaces:
  products:
    l1: { ttl: 10m }
    rules:
      - name: hot-product
        glob: "category:*:product:*"
        overrides:
          l1: { ttl: 30s, freshFor: 10s, jitter: 0 }
          l2: { ttl: 2h }
          earlyRefresh: { enabled: true, beta: 2 }
          promotion: { mode: PROMOTION_MODE_AFTER_HITS, minFrequency: 3, window: 1m }
          negativeTtl: 5s
          writeMode: WRITE_MODE_WRITE_THROUGH
      - name: legacy
        prefix: "legacy:"
        overrides:
          l1: { enabled: false }
      - name: one
        exact: "category:1:product:1"
        overrides: { maxValueBytes: 10 }
`;

describe("key rules in the configuration", () => {
  it("are read from YAML with human durations, first match wins, unset fields inherited", () => {
    const dir = mkdtempSync(join(tmpdir(), "mlcache-rules-"));
    const path = join(dir, "config.yaml");
    writeFileSync(path, yaml);
    const config = loadConfig({ path, env: {} });
    const store = new PolicyStore(config.defaults, config.namespaces);
    const hot = store.forKey("products", "category:1:product:1");
    expect(store.ruleFor("products", "category:1:product:1")?.rule.name).toBe("hot-product"); // before "one"
    expect(hot.l1).toMatchObject({ ttlMs: 30_000, freshForMs: 10_000, jitter: 0 });
    expect(hot.l2).toMatchObject({ ttlMs: 7_200_000, freshForMs: 7_200_000 });
    expect(hot.earlyRefresh).toEqual({ enabled: true, beta: 2 });
    expect(hot.promotion).toEqual({ mode: "after-hits", minFrequency: 3, windowMs: 60_000 });
    expect(hot.negativeTtlMs).toBe(5_000);
    expect(hot.writeMode).toBe("write-through");
    expect(hot.maxValueBytes).toBe(defaultSettings().maxValueBytes);
    expect(store.forKey("products", "legacy:9").l1).toMatchObject({ enabled: false, ttlMs: 600_000 });
    expect(store.forKey("products", "plain").l1.ttlMs).toBe(600_000);
  });

  it("refuses a rule that sets a namespace-wide field, or an invalid one, naming it", () => {
    const bad = (overrides: unknown) => () =>
      parseConfig({ namespaces: { n: { rules: [{ name: "r", prefix: "p", overrides }] } } });
    expect(bad({ loader: { breaker: { enabled: false } } })).toThrow(
      /rules\[0\] \(r\)\.overrides: loader: set grpc or http to name an origin/,
    );
    expect(bad({ maxTtl: "1h" })).toThrow(/overrides\.maxTtl cannot be set/);
    expect(bad({ encryptionKeyId: "k" })).toThrow(/overrides\.encryptionKeyId cannot be set/);
    expect(bad({ priorityRefresh: { enabled: true, topKeys: 5 } })).toThrow(/a rule may set enabled only/);
    expect(
      new PolicyStore(
        defaultSettings(),
        parseConfig({
          namespaces: { n: { rules: [{ name: "r", prefix: "p", overrides: { priorityRefresh: { enabled: true } } }] } },
        }).namespaces,
      ).forKey("n", "p1").priorityRefresh.enabled,
    ).toBe(true);
    expect(bad({ rules: [{ name: "x", exact: "y" }] })).toThrow(/rules do not nest/);
    expect(bad({ l1: { ttl: "10h", freshFor: "11h" } })).toThrow(
      /rules\[0\] \(r\): l1\.freshFor must not exceed l1\.ttl/,
    );
    expect(() => parseConfig({ namespaces: { n: { rules: [{ name: "r" }] } } })).toThrow(
      /set one of exact, prefix, glob/,
    );
    expect(() => parseConfig({ namespaces: { n: { rules: [{ name: "r", glob: "a[1]" }] } } })).toThrow(/reserved/);
  });
});

describe("key rules in the API", () => {
  const policy = policyFromJson(
    {
      namespace: "products",
      rules: [
        { name: "r", prefix: "p:", overrides: { l1: { ttl: "30s" }, promotion: { mode: "PROMOTION_MODE_NEVER" } } },
      ],
    },
    "test",
  );

  it("round-trip through settingsToPolicy with only the overridden fields set", () => {
    const settings = overlayPolicy(defaultSettings(), policy);
    const back = settingsToPolicy("products", settings);
    expect(back.rules).toHaveLength(1);
    const overrides = back.rules[0]?.overrides;
    expect(overrides?.l1?.ttl).toEqual(durationFromMs(30_000));
    expect(overrides?.l2).toBeUndefined();
    expect(overrides?.promotion?.mode).toBe(PromotionMode.NEVER);
    expect(overlayPolicy(defaultSettings(), back)).toEqual(settings);
  });

  it("inherit a namespace change made later for the fields they leave unset", () => {
    const settings = overlayPolicy(defaultSettings(), policy);
    const changed = overlayPolicy(
      settings,
      create(NamespacePolicySchema, { l1: { jitter: 0.3 }, l2: { ttl: durationFromMs(7_200_000) } }),
    );
    const store = new PolicyStore(defaultSettings(), { products: changed });
    expect(store.forKey("products", "p:1").l1).toMatchObject({ ttlMs: 30_000, jitter: 0.3 });
    expect(store.forKey("products", "p:1").l2.ttlMs).toBe(7_200_000);
  });

  it("are kept by a policy that does not mention them, and cleared by the mask path rules", () => {
    const settings = overlayPolicy(defaultSettings(), policy);
    expect(
      overlayPolicy(settings, create(NamespacePolicySchema, { negativeTtl: durationFromMs(1) })).rules,
    ).toHaveLength(1);
    const merged = settingsToPolicy("products", settings);
    applyMask(merged, create(NamespacePolicySchema, {}), ["rules"]);
    expect(overlayPolicy(defaultSettings(), merged).rules).toHaveLength(0);
  });
});
