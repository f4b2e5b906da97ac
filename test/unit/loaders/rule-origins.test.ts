// Loaders, writers and fallbacks of key rules: read from the config and from policy changes,
// resolved per (namespace, rule), rebuilt and closed when a change replaces a rule's origin,
// kept when it does not, refused outside the allowlist and past the bound.
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, parseConfig } from "../../../src/config/config.js";
import { applyPolicyChange, effectivePolicy } from "../../../src/config/policy-changes.js";
import { MAX_RULE_ORIGINS, overlayPolicy, policyFromJson } from "../../../src/config/policy-proto.js";
import { defaultSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { CacheError, Status } from "../../../src/errors.js";
import { NamespacePolicySchema } from "../../../src/gen/mlcache/v1/policy_pb.js";
import { OriginRegistry } from "../../../src/loaders/registry.js";
import { startHttpOrigin, type TestHttpOrigin } from "../../support/origins.js";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const context = () => ({ signal: new AbortController().signal });

describe("origins of key rules", () => {
  let a: TestHttpOrigin;
  let b: TestHttpOrigin;
  let c: TestHttpOrigin;
  beforeAll(async () => {
    [a, b, c] = await Promise.all([startHttpOrigin(), startHttpOrigin(), startHttpOrigin()]);
    a.state.data.set("products/k", "from-a");
    b.state.data.set("products/k", "from-b");
    c.state.data.set("products/k", "from-c");
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  const http = (origin: TestHttpOrigin, headers: Record<string, string> = {}) => ({
    http: { urlTemplate: origin.urlTemplate, headers, writeMethod: "PUT" },
  });
  const setup = (): { config: Config; store: PolicyStore; origins: OriginRegistry } => {
    const config = parseConfig({
      namespaces: {
        products: {
          loader: http(a),
          rules: [
            { name: "plain", prefix: "plain:", overrides: { l1: { ttl: "1m" } } },
            { name: "vip", prefix: "vip:", overrides: { loader: { ...http(b), hardTimeout: "2s" } } },
            { name: "audit", prefix: "audit:", overrides: { writer: http(c) } },
          ],
        },
      },
    });
    const store = new PolicyStore(config.defaults, config.namespaces);
    return { config, store, origins: new OriginRegistry({ configured: config.origins }) };
  };
  const loadVia = async (origins: OriginRegistry, rule: string | undefined) =>
    text((await origins.loaderFor("products", rule)?.load("products", "k", context()))?.value);

  it("resolve per rule: the rule's own origin, else the namespace's", async () => {
    const { store, origins } = setup();
    expect(await loadVia(origins, undefined)).toBe("from-a");
    expect(await loadVia(origins, "plain")).toBe("from-a");
    expect(await loadVia(origins, "vip")).toBe("from-b");
    // A rule naming only a writer loads from the namespace's loader.
    expect(await loadVia(origins, "audit")).toBe("from-a");
    expect(origins.loaderFor("products", "plain")).toBe(origins.loaderFor("products"));
    // The rule's hard timeout is its keys' load timeout; the namespace keeps its own.
    expect(store.forKey("products", "vip:1").loadTimeouts.hardMs).toBe(2_000);
    expect(store.forKey("products", "x").loadTimeouts.hardMs).toBe(defaultSettings().loadTimeouts.hardMs);

    // Writers: the rule's own; a rule with a loader and no writer writes through its loader's origin.
    const write = async (rule: string | undefined, key: string) =>
      origins
        .writerFor("products", rule)
        ?.store("products", [{ key, value: new TextEncoder().encode("v"), version: 1n, tags: [], deleted: false }]);
    await write("audit", "audit:1");
    await write("vip", "vip:1");
    await write(undefined, "other");
    expect(c.state.data.get("products/audit:1")).toBe("v");
    expect(b.state.data.get("products/vip:1")).toBe("v");
    expect(a.state.data.get("products/other")).toBe("v");
    expect(a.state.data.has("products/audit:1")).toBe(false);
    origins.closeAll();
  });

  it("a change that replaces a rule's origin closes the old one and keeps the others", async () => {
    const { store, origins } = setup();
    const namespaceLoader = origins.loaderFor("products");
    const vipBefore = origins.loaderFor("products", "vip");
    const auditWriterBefore = origins.writerFor("products", "audit");
    expect(await loadVia(origins, "vip")).toBe("from-b");

    const policy = effectivePolicy("products", store.get("products"), origins.policyOf("products"));
    const vip = policy.rules.find((rule) => rule.name === "vip");
    const loader = vip?.overrides?.loader;
    if (loader?.kind.case !== "http") throw new Error("the effective policy lost the rule's loader");
    expect(loader.kind.value.urlTemplate).toBe(b.urlTemplate);
    loader.kind.value.urlTemplate = c.urlTemplate;
    applyPolicyChange(store, origins, { namespace: "products", policy, reset: false });

    expect(await loadVia(origins, "vip")).toBe("from-c");
    // The replaced origin is closed: its breaker refuses calls (naming the rule).
    await expect(vipBefore?.load("products", "k", context())).rejects.toThrow(
      /origin for namespace products, rule vip is closed/,
    );
    // Unchanged origins are the same objects (breakers and limits kept).
    expect(origins.loaderFor("products")).toBe(namespaceLoader);
    expect(origins.writerFor("products", "audit")).toBe(auditWriterBefore);
    expect(await loadVia(origins, undefined)).toBe("from-a");

    // Rules replaced by rules without origins: the rule origins are closed, keys use the namespace's.
    const vipNow = origins.loaderFor("products", "vip");
    const replaced = policyFromJson({ namespace: "products", rules: [{ name: "vip", prefix: "vip:" }] }, "test");
    replaced.loader = policy.loader;
    applyPolicyChange(store, origins, { namespace: "products", policy: replaced, reset: false });
    expect(await loadVia(origins, "vip")).toBe("from-a");
    await expect(vipNow?.load("products", "k", context())).rejects.toThrow(/is closed/);
    origins.closeAll();
  });

  it("an origin outside the allowlist is refused with PERMISSION_DENIED naming the rule", () => {
    const config = parseConfig({ origins: { allowedTargets: [`${a.urlTemplate.split("/ns/")[0]}/`] } });
    const store = new PolicyStore(config.defaults, config.namespaces);
    const origins = new OriginRegistry({ configured: config.origins, allowedTargets: config.origins.allowedTargets });
    const policy = policyFromJson(
      {
        namespace: "products",
        rules: [
          {
            name: "elsewhere",
            prefix: "e:",
            overrides: { loader: { http: { urlTemplate: "http://evil.example/{key}" } } },
          },
        ],
      },
      "test",
    );
    let caught: unknown;
    try {
      applyPolicyChange(store, origins, { namespace: "products", policy, reset: false });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CacheError);
    expect((caught as CacheError).code).toBe(Status.PERMISSION_DENIED);
    expect((caught as CacheError).message).toMatch(
      /rule elsewhere: origin http:\/\/evil\.example\/.* is not in origins\.allowedTargets/,
    );
    // Nothing changed.
    expect(store.get("products").rules).toHaveLength(0);
  });

  it("are bounded per namespace, and a rule's loader without an origin may set timeouts only", () => {
    const rules = Array.from({ length: MAX_RULE_ORIGINS + 1 }, (_, i) => ({
      name: `r${i}`,
      exact: `k${i}`,
      overrides: { loader: { http: { urlTemplate: `http://127.0.0.1:1/${i}/{key}` } } },
    }));
    expect(() => parseConfig({ namespaces: { n: { rules } } })).toThrow(
      new RegExp(`more than ${MAX_RULE_ORIGINS} rules name origins of their own`),
    );
    expect(() => parseConfig({ namespaces: { n: { rules: rules.slice(0, MAX_RULE_ORIGINS) } } })).not.toThrow();
    expect(() =>
      parseConfig({
        namespaces: { n: { rules: [{ name: "r", prefix: "p", overrides: { loader: { maxConcurrency: 3 } } }] } },
      }),
    ).toThrow(/rules\[0\] \(r\)\.overrides: loader: set grpc or http to name an origin/);
    expect(() =>
      parseConfig({
        namespaces: { n: { rules: [{ name: "r", prefix: "p", overrides: { writer: { maxConcurrency: 3 } } }] } },
      }),
    ).toThrow(/writer: set grpc or http/);
    const timeoutsOnly = overlayPolicy(
      defaultSettings(),
      policyFromJson({ rules: [{ name: "r", prefix: "p", overrides: { loader: { softTimeout: "50ms" } } }] }, "test"),
    );
    expect(new PolicyStore(defaultSettings(), { n: timeoutsOnly }).forKey("n", "p1").loadTimeouts.softMs).toBe(50);
  });

  it("a rule's fallback: a static value in the settings, a gRPC origin in the registry", () => {
    const config = parseConfig({
      namespaces: {
        n: {
          rules: [
            { name: "v", prefix: "v:", overrides: { fallback: { value: btoa("fixed") } } },
            { name: "g", prefix: "g:", overrides: { fallback: { grpc: { target: "127.0.0.1:1" } } } },
          ],
        },
      },
    });
    const store = new PolicyStore(config.defaults, config.namespaces);
    expect(text(store.forKey("n", "v:1").fallbackValue)).toBe("fixed");
    expect(store.forKey("n", "x").fallbackValue).toBeUndefined();
    const origins = new OriginRegistry({ configured: config.origins });
    expect(origins.fallbackFor("n", "g")).toBeDefined();
    expect(origins.fallbackFor("n", "v")).toBeUndefined();
    expect(origins.fallbackFor("n")).toBeUndefined();
    // Both travel back in the effective policy (GetPolicy, the policy log).
    const policy = effectivePolicy("n", store.get("n"), origins.policyOf("n"));
    expect(policy.rules[0]?.overrides?.fallback?.kind.case).toBe("value");
    expect(policy.rules[1]?.overrides?.fallback?.kind.case).toBe("grpc");
    const again = overlayPolicy(defaultSettings(), create(NamespacePolicySchema, policy));
    expect(text(new PolicyStore(defaultSettings(), { n: again }).forKey("n", "v:1").fallbackValue)).toBe("fixed");
    origins.closeAll();
  });
});
