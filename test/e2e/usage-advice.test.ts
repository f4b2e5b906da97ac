// Usage patterns through a live service: a synthetic trace (known truth) replayed with Gets in
// synthetic time (the telemetry's clock is a manual one), then Inspect and Advise read back.
import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAMILIES, usageTrace } from "../../bench/usage-traces.js";
import { formatAdvice } from "../../src/cli/advise.js";
import { parseConfig } from "../../src/config/config.js";
import { ManualClock } from "../../src/engine/clock.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { RefreshMode, UsagePattern } from "../../src/gen/mlcache/v1/stats_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import type { UsagePattern as Pattern } from "../../src/telemetry/usage/classify.js";
import { createConnectClient, rejection, testConfig } from "../support/service.js";

const START = 1_800_000_000_000;
const NAMESPACE = "usage";
const WIRE: Record<Exclude<Pattern, "unknown" | "irregular">, UsagePattern> = {
  regular: UsagePattern.REGULAR,
  bursty: UsagePattern.BURSTY,
  "steady-hot": UsagePattern.STEADY_HOT,
  "one-hit": UsagePattern.ONE_HIT,
  declining: UsagePattern.DECLINING,
};

const msOf = (duration: Duration | undefined) => (duration ? durationMs(duration) : 0);

describe("usage patterns through Inspect and Advise", () => {
  const clock = new ManualClock(START);
  const trace = usageTrace({ seed: 7, durationMs: 30 * 60_000, keysPerPattern: 3, jitter: 0.15, hotRate: [1.5, 2.5] });
  let service: RunningService;
  let cache: Client<typeof CacheService>;
  let admin: Client<typeof AdminService>;

  beforeAll(async () => {
    const config = testConfig({
      telemetry: { usage: { sampleOneIn: 1, maxTtlMs: "90s", apply: true } },
      namespaces: { [NAMESPACE]: { l1: { ttl: "30s", jitter: 0 } } },
    });
    service = await startService(parseConfig(config, "test config"), { telemetryClock: clock });
    cache = createConnectClient(CacheService, service.httpPort);
    admin = createConnectClient(AdminService, service.httpPort);
    for (const arrival of trace.arrivals) {
      clock.set(START + arrival.at);
      await cache.get({ namespace: NAMESPACE, key: arrival.key });
    }
    clock.set(START + trace.durationMs);
  }, 120_000);

  afterAll(async () => {
    await service?.close();
  });

  it("Inspect reports each key's pattern, its evidence and advice", async () => {
    const response = await cache.inspect({ namespace: NAMESPACE, keys: [...trace.truth.keys()] });
    const wrong: string[] = [];
    for (const stats of response.keyStats) {
      const truth = trace.truth.get(stats.key) as keyof typeof WIRE;
      if (stats.usage?.pattern !== WIRE[truth]) wrong.push(`${stats.key}: ${UsagePattern[stats.usage?.pattern ?? 0]}`);
      expect(stats.usage?.evidence?.samples, stats.key).toBeGreaterThan(0);
      expect(stats.usage?.advice?.reason, stats.key).not.toBe("");
    }
    expect(wrong).toEqual([]);
    const regular = response.keyStats.find((k) => k.key === `${FAMILIES.regular}:0`);
    const period = msOf(regular?.usage?.evidence?.period);
    const ttl = msOf(regular?.usage?.advice?.ttl);
    expect(ttl).toBeGreaterThan(period);
    expect(regular?.usage?.advice?.refresh).toBe(RefreshMode.AHEAD);
  });

  it("Advise groups keys into families, proposes rules and keeps TTLs within the bounds", async () => {
    const response = await admin.advise({ namespace: NAMESPACE });
    expect(response.sampledKeys).toBe(trace.truth.size);
    const byFamily = new Map(response.families.map((f) => [f.family, f]));
    for (const [pattern, family] of Object.entries(FAMILIES) as [keyof typeof WIRE, string][]) {
      expect(byFamily.get(`${family}:*`)?.pattern, family).toBe(WIRE[pattern]);
    }
    const hot = response.rules.find((r) => r.match.case === "glob" && r.match.value === `${FAMILIES["steady-hot"]}:*`);
    // 4 × the 30 s TTL, clamped to telemetry.usage.maxTtlMs.
    expect(msOf(hot?.ttl)).toBe(90_000);
    expect(hot?.earlyRefresh).toBe(true);
    expect(byFamily.get(`${FAMILIES["steady-hot"]}:*`)?.advice?.clamped).toBe(true);
    const once = response.rules.find((r) => r.match.value === `${FAMILIES["one-hit"]}:*`);
    expect(once?.admit).toBe(false);
    expect(msOf(response.maxTtl)).toBe(90_000);
    const table = formatAdvice(response);
    expect(table).toContain("feed:*");
    expect(table).toMatch(/glob:config:\*\s+90s/);
    for (const rule of response.rules) expect(rule.name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
  });

  it("refuses a bad namespace with INVALID_ARGUMENT", async () => {
    const error = await rejection(admin.advise({ namespace: "Not A Namespace" }));
    expect(error.code).toBe(3);
  });
  it("Advise with apply puts the rules in force after the operator's own, again replaces them, revert takes only them out", async () => {
    const operatorRule = { name: "ops.pinned", match: { case: "exact" as const, value: "pinned" } };
    await admin.updatePolicy({
      policy: { namespace: NAMESPACE, rules: [{ ...operatorRule, overrides: { l1: { ttl: { seconds: 5n } } } }] },
      updateMask: { paths: ["rules"] },
    });
    const proposed = await admin.advise({ namespace: NAMESPACE });
    expect(proposed.rules.length).toBeGreaterThan(0);
    const applied = await admin.advise({ namespace: NAMESPACE, apply: true });
    expect(applied.rulesApplied).toBe(proposed.rules.length);
    expect(applied.rulesRemoved).toBe(0);
    const inForce = (await admin.getPolicy({ namespace: NAMESPACE })).policy?.rules ?? [];
    expect(inForce.map((r) => r.name)).toEqual(["ops.pinned", ...proposed.rules.map((r) => r.name)]);
    // The regular family's rule now governs its keys, with the advised TTL.
    const regularRule = proposed.rules.find((r) => r.match.value === `${FAMILIES.regular}:*`);
    const stats = await cache.inspect({ namespace: NAMESPACE, keys: [`${FAMILIES.regular}:0`] });
    expect(stats.keyStats[0]?.rule).toBe(regularRule?.name);
    const governing = inForce.find((r) => r.name === regularRule?.name);
    expect(msOf(governing?.overrides?.l1?.ttl)).toBe(msOf(regularRule?.ttl));
    // Applying again replaces the advice rules instead of adding more.
    const again = await admin.advise({ namespace: NAMESPACE, apply: true });
    expect(again.rulesRemoved).toBe(proposed.rules.length);
    expect((await admin.getPolicy({ namespace: NAMESPACE })).policy?.rules.length).toBe(1 + proposed.rules.length);
    const reverted = await admin.advise({ namespace: NAMESPACE, revert: true });
    expect(reverted.rulesRemoved).toBe(proposed.rules.length);
    expect((await admin.getPolicy({ namespace: NAMESPACE })).policy?.rules.map((r) => r.name)).toEqual(["ops.pinned"]);
  });

  it("refuses apply with revert (INVALID_ARGUMENT)", async () => {
    const error = await rejection(admin.advise({ namespace: NAMESPACE, apply: true, revert: true }));
    expect(error.code).toBe(3);
  });
});

describe("applying advice without the operator's consent", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startService(parseConfig(testConfig({}), "test config"));
  });
  afterAll(async () => {
    await service?.close();
  });

  it("is refused with FAILED_PRECONDITION naming telemetry.usage.apply; the policy is left alone", async () => {
    const admin = createConnectClient(AdminService, service.httpPort);
    const error = await rejection(admin.advise({ namespace: NAMESPACE, apply: true }));
    expect(error.code).toBe(9);
    expect(error.rawMessage).toContain("telemetry.usage.apply");
    expect((await admin.getPolicy({ namespace: NAMESPACE })).policy?.rules).toEqual([]);
  });
});
