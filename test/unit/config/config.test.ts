import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadKeyRing, parseConfig, redactConfig } from "../../../src/config/config.js";
import { applyMask, overlayPolicy, settingsToPolicy } from "../../../src/config/policy-proto.js";
import { parseBytes, parseDuration } from "../../../src/config/units.js";
import { defaultSettings } from "../../../src/engine/policy.js";
import { NamespacePolicySchema } from "../../../src/gen/mlcache/v1/policy_pb.js";
import { type AuthConfig, Authenticator } from "../../../src/rpc/auth.js";

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "mlcache-config-"));
  const path = join(dir, "config.yaml");
  writeFileSync(path, text);
  return path;
}

describe("configuration", () => {
  it("runs on the embedded default with no file and no env: L1 only", () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: "127.0.0.1", grpcPort: 50051, httpPort: 8080 });
    expect(config.redis).toBeUndefined();
    expect(config.kafka).toBeUndefined();
    expect(config.defaults).toEqual(defaultSettings());
  });

  it("consistency.propagationBound: 2s by default, a duration between 200ms and 60s", () => {
    expect(parseConfig({}).consistency.propagationBound).toBe(2_000);
    expect(parseConfig({ consistency: { propagationBound: "500ms" } }).consistency.propagationBound).toBe(500);
    expect(() => parseConfig({ consistency: { propagationBound: "100ms" } })).toThrow(
      /consistency\.propagationBound: must be between 200ms and 60s/,
    );
    expect(() => parseConfig({ consistency: { propagationBound: "2m" } })).toThrow(/between 200ms and 60s/);
    expect(parseConfig({ kafka: { brokers: ["k:1"] } }).kafka?.topics.policies).toBe("mlcache.policies");
  });

  it("reads YAML with human durations and sizes, and env overrides the file", () => {
    const path = yamlFile(`
server: { grpcPort: 6000 }
l1: { maxBytes: 64MiB }
defaults:
  l1: { ttl: 5m, freshFor: 1m, jitter: 0.2 }
namespaces:
  products:
    l1: { ttl: 30s }
    failSafe: { maxStale: 1h }
`);
    const config = loadConfig({
      path,
      env: {
        MLCACHE_GRPC_PORT: "7000",
        MLCACHE_REDIS_URL: "redis://127.0.0.1:6379",
        MLCACHE_KAFKA_BROKERS: "a:1, b:2",
      },
    });
    expect(config.server.grpcPort).toBe(7000);
    expect(config.l1.maxBytes).toBe(64 * 1024 * 1024);
    expect(config.redis?.url).toBe("redis://127.0.0.1:6379");
    expect(config.kafka?.brokers).toEqual(["a:1", "b:2"]);
    expect(config.defaults.l1).toMatchObject({ ttlMs: 300_000, freshForMs: 60_000, jitter: 0.2 });
    // A namespace starts from the configured defaults; a TTL without freshFor is fresh for all of it.
    expect(config.namespaces.products?.l1).toMatchObject({ ttlMs: 30_000, freshForMs: 30_000, jitter: 0.2 });
    expect(config.namespaces.products?.failSafe.maxStaleMs).toBe(3_600_000);
  });

  it("names the bad field in its errors", () => {
    expect(() => parseConfig({ server: { grpcPort: "abc" } })).toThrow(/server\.grpcPort/);
    expect(() => parseConfig({ server: { grpcPrt: 1 } })).toThrow(/grpcPrt/);
    expect(() => parseConfig({ namespaces: { products: { l1: { ttl: "5 parsecs" } } } })).toThrow(
      /namespaces\.products\.l1\.ttl/,
    );
    expect(() => parseConfig({ namespaces: { products: { l1: { jiter: 1 } } } })).toThrow(ConfigError);
    expect(() => parseConfig({ defaults: { l1: { jitter: 3 } } })).toThrow(/l1\.jitter must be between 0 and 1/);
    expect(() => parseConfig({ namespaces: { "Bad Name": {} } })).toThrow(/Bad Name/);
    expect(() => parseConfig({ redis: { keyPrefix: "x" } })).toThrow(/exactly one of redis\.url/);
  });

  it("redacts secrets", () => {
    const config = parseConfig({
      redis: { url: "redis://user:hunter2@127.0.0.1:6379" },
      auth: { tokens: [{ name: "ci", token: "0123456789abcdef-secret", rights: ["read"] }] },
    });
    const text = JSON.stringify(redactConfig(config));
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("0123456789abcdef-secret");
    expect(text).toContain("<redacted>");
  });

  it("MLCACHE_AUTH_TOKEN gives one token every right, read from the environment (containers)", () => {
    const secret = "container-token-0123456789";
    const env = { MLCACHE_AUTH_TOKEN: secret, MLCACHE_HOST: "0.0.0.0" };
    const config = loadConfig({ env });
    expect(config.auth?.tokens).toEqual([
      { name: "env", tokenEnv: "MLCACHE_AUTH_TOKEN", namespaces: ["*"], rights: ["read", "write", "admin"] },
    ]);
    expect(JSON.stringify(redactConfig(config))).not.toContain(secret);
    const who = new Authenticator(config.auth as AuthConfig, env).authenticate(`Bearer ${secret}`, undefined);
    expect(who.mayEverywhere("admin")).toBe(true);
  });

  it("parses durations and sizes", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(() => parseDuration("soon")).toThrow(/not a duration/);
    expect(parseBytes("1GiB")).toBe(1024 ** 3);
    expect(parseBytes("10MB")).toBe(10_000_000);
    expect(() => parseBytes("lots")).toThrow(/not a size/);
  });
});

describe("policy messages", () => {
  it("round-trips settings through the API message", () => {
    const settings = defaultSettings();
    settings.l1.ttlMs = 12_345;
    settings.fallbackValue = new Uint8Array([1, 2, 3]);
    expect(overlayPolicy(defaultSettings(), settingsToPolicy("p", settings))).toEqual(settings);
  });

  it("applies an update mask, clearing masked fields the request leaves unset", () => {
    const current = defaultSettings();
    current.l1.ttlMs = 99_000;
    current.l1.freshForMs = 99_000;
    const merged = settingsToPolicy("p", current);
    const request = create(NamespacePolicySchema, { l2: { ttl: durationFromMs(7_000) } });
    applyMask(merged, request, ["l2.ttl", "l1"]);
    const next = overlayPolicy(defaultSettings(), merged);
    expect(next.l2.ttlMs).toBe(7_000);
    expect(next.l1).toEqual(defaultSettings().l1);
    expect(() => applyMask(merged, request, ["l1.nope"])).toThrow(/has no field "nope"/);
  });
});

describe("encryption configuration", () => {
  const keyHex = "ab".repeat(32);
  const keys = [{ id: "k1", env: "MLC_TEST_K1" }];

  it("accepts namespaces naming keys of the ring, and refuses unknown key ids at start", () => {
    const config = parseConfig({ encryption: { keys }, namespaces: { secret: { encryptionKeyId: "k1" } } });
    expect(config.namespaces.secret?.encryptionKeyId).toBe("k1");
    expect(() => parseConfig({ encryption: { keys }, namespaces: { secret: { encryptionKeyId: "k9" } } })).toThrow(
      /namespaces\.secret\.encryptionKeyId: "k9" is not a key of encryption\.keys \(k1\)/,
    );
    expect(() => parseConfig({ defaults: { encryptionKeyId: "k1" } })).toThrow(/no keys configured/);
    expect(() => parseConfig({ encryption: { keys: [...keys, ...keys] } })).toThrow(/key ids must differ/);
    expect(() => parseConfig({ encryption: { keys: [{ id: "k", env: "A", file: "/f" }] } })).toThrow(
      /exactly one of file, env/,
    );
  });

  it("never shows key bytes in check-config, and reports a bad key clearly", () => {
    const config = parseConfig({ encryption: { keys } });
    expect(loadKeyRing(config, { MLC_TEST_K1: keyHex })?.ids).toEqual(["k1"]);
    expect(JSON.stringify(redactConfig(config))).not.toContain(keyHex);
    expect(() => loadKeyRing(config, { MLC_TEST_K1: "short" })).toThrow(ConfigError);
    expect(() => loadKeyRing(config, { MLC_TEST_K1: "short" })).toThrow(
      /encryption\.keys\[k1\]: the key must be 32 bytes/,
    );
  });
});
