// The `redis` section's credentials and TLS: validated strictly, secrets read at start with
// errors naming the field, and never shown by check-config.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, loadRedisConnection, parseConfig, redactConfig } from "../../../src/config/config.js";
import { parseRedisUrl } from "../../../src/layers/redis/redis-url.js";

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mlcache-redis-config-")), name);
  writeFileSync(path, text);
  return path;
}

describe("redis URLs", () => {
  it.each([
    ["redis://127.0.0.1:6379", { tls: false, host: "127.0.0.1", port: 6379, db: 0 }],
    ["rediss://cache", { tls: true, host: "cache", port: 6379, db: 0 }],
    ["REDISS://cache:6380/3", { tls: true, host: "cache", port: 6380, db: 3 }],
    ["redis://:secret@cache:1", { host: "cache", port: 1, username: undefined, password: "secret" }],
    [
      "rediss://app:p@ss/w0rd:x@cache:6380/2",
      { host: "cache", port: 6380, db: 2, username: "app", password: "p@ss/w0rd:x" },
    ],
    ["redis://app:%40%2F@[::1]:7000", { host: "::1", port: 7000, username: "app", password: "@/" }],
    ["redis://app:100%@cache", { password: "100%" }],
  ])("%s", (url, expected) => {
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });

  it.each([
    ["http://cache", /redis:\/\/ or rediss:\/\//],
    ["redis://cache:6379?tls=true", /query parameters/],
    ["redis://hunter2@cache", /user:password@ or :password@/],
    ["redis://cache:99999", /out of range/],
    ["redis://cache/db/x", /host\[:port\]\[\/db\]/],
  ])("refuses %s", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("never repeats the password in a refusal", () => {
    expect(() => parseConfig({ redis: { url: "redis://app:hunter2@cache:1/x/y" } })).toThrow(
      /redis\.url: expected host/,
    );
    expect(() => parseConfig({ redis: { url: "redis://app:hunter2@cache:1/x/y" } })).not.toThrow(/hunter2/);
  });
});

describe("redis credentials and TLS configuration", () => {
  const tls = { caFile: "/etc/ssl/redis-ca.pem" };

  it("accepts an ACL user with its password from the YAML, a file or an environment variable", () => {
    for (const source of [{ password: "pw" }, { passwordFile: "/run/secrets/redis" }, { passwordEnv: "REDIS_PW" }]) {
      const config = parseConfig({ redis: { url: "rediss://cache:6380", username: "mlcache", ...source, tls } });
      expect(config.redis).toMatchObject({ username: "mlcache", ...source, tls });
    }
  });

  it.each([
    [
      { url: "redis://cache", tls },
      /redis\.url: redis\.tls is set but the URL is redis:\/\/ \(plain text\): use rediss:\/\//,
    ],
    [{ url: "rediss://cache", password: "a", passwordEnv: "B" }, /redis\.password: set at most one of password/],
    [{ url: "rediss://:a@cache", password: "b" }, /redis\.url: the URL carries credentials/],
    [{ url: "rediss://u:a@cache", username: "v" }, /redis\.url: the URL carries credentials/],
    [{ url: "rediss://cache", tls: { ...tls, certFile: "c.pem" } }, /redis\.tls: set both certFile and keyFile/],
    [{ url: "rediss://cache", tls: { certFile: "c.pem", keyFile: "k.pem" } }, /redis\.tls\.caFile/],
    [{ url: "rediss://cache", tls: { ...tls, verify: false } }, /redis\.tls: Unrecognized key/],
  ])("refuses %j", (redis, message) => {
    expect(() => parseConfig({ redis })).toThrow(message);
  });

  it("reads the password and TLS files at start; a missing one is an error naming the field", () => {
    const ca = file("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    const secret = file("password", "s3cret/@\n");
    const connection = loadRedisConnection(
      parseConfig({ redis: { clusterNodes: ["a:1"], username: "mlcache", passwordFile: secret, tls: { caFile: ca } } }),
    );
    expect(connection).toMatchObject({ clusterNodes: ["a:1"], username: "mlcache", password: "s3cret/@" });
    expect(connection?.tls?.ca?.toString()).toContain("BEGIN CERTIFICATE");

    const missing =
      (redis: object, env = {}) =>
      () =>
        loadRedisConnection(parseConfig({ redis }), env);
    expect(missing({ url: "rediss://c", tls: { caFile: "/nope/ca.pem" } })).toThrow(
      /redis\.tls\.caFile: cannot read \/nope\/ca\.pem/,
    );
    expect(missing({ url: "rediss://c", tls: { caFile: ca, certFile: "/nope/c.pem", keyFile: ca } })).toThrow(
      /redis\.tls\.certFile: cannot read/,
    );
    expect(missing({ url: "rediss://c", passwordFile: "/nope/pw" })).toThrow(/redis\.passwordFile: cannot read/);
    expect(missing({ url: "rediss://c", passwordEnv: "MLC_NO_SUCH_VAR" })).toThrow(
      /redis\.passwordEnv: environment variable MLC_NO_SUCH_VAR is not set/,
    );
    expect(
      loadRedisConnection(parseConfig({ redis: { url: "rediss://c", passwordEnv: "PW" } }), { PW: "x" }),
    ).toMatchObject({
      password: "x",
    });
  });

  it("an address from the environment keeps the file's credentials and TLS", () => {
    const path = file(
      "config.yaml",
      JSON.stringify({ redis: { url: "rediss://old:1", username: "u", passwordEnv: "PW", tls, keyPrefix: "p:" } }),
    );
    const config = loadConfig({ path, env: { MLCACHE_REDIS_CLUSTER_NODES: "a:1,b:2" } });
    expect(config.redis).toMatchObject({ clusterNodes: ["a:1", "b:2"], username: "u", passwordEnv: "PW", tls });
    expect(config.redis?.url).toBeUndefined();
  });

  it("check-config shows no password, also one holding @ and / in the URL", () => {
    const shown = JSON.stringify(
      redactConfig(parseConfig({ redis: { url: "rediss://app:p@ss/w0rd@cache:6380/0", tls } })),
    );
    expect(shown).toContain("rediss://app:<redacted>@cache:6380/0");
    expect(shown).not.toContain("w0rd");
    const other = JSON.stringify(
      redactConfig(parseConfig({ redis: { url: "rediss://c", password: "hunter2hunter2" } })),
    );
    expect(other).not.toContain("hunter2");
  });
});
