import { describe, expect, it } from "vitest";
import { adviseFor, clampAdvice } from "../../../../src/telemetry/usage/advice.js";
import type { UsageEvidence } from "../../../../src/telemetry/usage/classify.js";
import { adviseFamilies, keyFamily, matchFor } from "../../../../src/telemetry/usage/rules.js";

const evidence = (over: Partial<UsageEvidence>): UsageEvidence => ({
  samples: 64,
  arrivals: 100,
  ratePerSecond: 0,
  meanGapMs: 0,
  cv: 0,
  burstiness: -1,
  periodMs: 0,
  burstLengthMs: 0,
  burstGapMs: 0,
  trend: 0,
  slowdown: 1,
  lastGapMs: 0,
  sinceLastMs: 0,
  ...over,
});
const context = { ttlMs: 30_000, freshForMs: 30_000, earlyRefresh: false, loadMs: 50 };
const open = { minTtlMs: 0, maxTtlMs: 0 };

describe("TTL advice", () => {
  it("puts a regular key's TTL just above its period, fresh-for below it (the 40 s read, 30 s TTL case)", () => {
    const a = adviseFor("regular", evidence({ periodMs: 40_000, meanGapMs: 40_000, cv: 0.05 }), context, open);
    // margin max(3σ = 6 s, 10% = 4 s) = 6 s, plus the load.
    expect(a).toMatchObject({ ttlMs: 46_050, freshForMs: 33_950, refresh: "ahead", admit: true, clamped: false });
    expect(a.reason).toMatch(/expires before every read/);
  });

  it("covers a burst without refreshing between bursts", () => {
    const e = evidence({ burstLengthMs: 60_000, periodMs: 2_000, burstGapMs: 600_000, burstiness: 0.6 });
    expect(adviseFor("bursty", e, context, open)).toMatchObject({ ttlMs: 64_050, freshForMs: 64_050, refresh: "none" });
  });

  it("gives steady-hot keys a long TTL with early refresh, one-hit keys no admission, declining keys less", () => {
    const hot = adviseFor("steady-hot", evidence({ meanGapMs: 200, ratePerSecond: 5, cv: 1 }), context, open);
    expect(hot).toMatchObject({ ttlMs: 120_000, freshForMs: 96_000, refresh: "early" });
    expect(adviseFor("one-hit", evidence({ sinceLastMs: 5_000 }), context, open)).toMatchObject({
      ttlMs: 1_000,
      admit: false,
    });
    const fading = adviseFor("declining", evidence({ lastGapMs: 12_000, slowdown: 6 }), context, open);
    expect(fading).toMatchObject({ ttlMs: 12_000, refresh: "none" });
    expect(adviseFor("irregular", evidence({ cv: 1 }), context, open)).toMatchObject({
      ttlMs: 30_000,
      refresh: "none",
    });
  });

  it("clamps into the operator's bounds, keeping fresh-for's share of the TTL", () => {
    const bounds = { minTtlMs: 5_000, maxTtlMs: 60_000 };
    const hot = adviseFor("steady-hot", evidence({ meanGapMs: 200, ratePerSecond: 5 }), context, bounds);
    expect(hot).toMatchObject({ ttlMs: 60_000, freshForMs: 48_000, clamped: true });
    expect(adviseFor("one-hit", evidence({}), context, bounds)).toMatchObject({ ttlMs: 5_000, clamped: true });
    expect(
      clampAdvice({ ttlMs: 10_000, freshForMs: 8_000, refresh: "ahead", admit: true, reason: "" }, bounds),
    ).toMatchObject({ ttlMs: 10_000, freshForMs: 8_000, clamped: false });
  });
});

describe("key families and proposed rules", () => {
  it("turns numeric and id segments into wildcards and picks the narrowest match", () => {
    expect(keyFamily("user:42:profile")).toBe("user:*:profile");
    expect(keyFamily("feed/2026-12-03")).toBe("feed/*-*-*");
    expect(keyFamily("session:9f86d081884c7d65")).toBe("session:*");
    expect(keyFamily("config")).toBe("config");
    expect(keyFamily("odd*key1")).toBe("odd*key1");
    expect(keyFamily("tmpl{1}")).toBe("tmpl{1}");
    expect(matchFor("config")).toEqual({ kind: "exact", value: "config" });
    // A glob, not the prefix "session:", which would take session:7:log too.
    expect(matchFor("session:*")).toEqual({ kind: "glob", value: "session:*" });
    expect(matchFor("user:*:profile")).toEqual({ kind: "glob", value: "user:*:profile" });
  });

  it("proposes one rule per family by its majority, exact rules for the keys that differ, capped", () => {
    const regular = adviseFor("regular", evidence({ periodMs: 40_000, meanGapMs: 40_000 }), context, open);
    const hot = adviseFor("steady-hot", evidence({ meanGapMs: 100, ratePerSecond: 10 }), context, open);
    const keys = [
      ...[1, 2, 3, 4].map((i) => ({
        key: `feed:${i}`,
        pattern: "regular" as const,
        evidence: evidence({ periodMs: 40_000, meanGapMs: 40_000 }),
        advice: regular,
      })),
      {
        key: "feed:5",
        pattern: "steady-hot" as const,
        evidence: evidence({ meanGapMs: 100, ratePerSecond: 10 }),
        advice: hot,
      },
      { key: "misc:1", pattern: "irregular" as const, evidence: evidence({ cv: 1 }), advice: regular },
    ];
    const { families, rules } = adviseFamilies(keys, context, open, 10);
    expect(families.map((f) => [f.family, f.pattern, f.keys])).toEqual([
      ["feed:*", "regular", 5],
      ["misc:*", "irregular", 1],
    ]);
    // Names as key rules take them: [A-Za-z0-9_.-], unique.
    expect(rules.map((r) => [r.name, r.match, r.ttlMs])).toEqual([
      ["advice.steady-hot.feed-5", { kind: "exact", value: "feed:5" }, 120_000],
      ["advice.regular.feed-x", { kind: "glob", value: "feed:*" }, 44_050],
    ]);
    const long = "k".repeat(600);
    const clash = adviseFamilies(
      [
        { ...keys[4], key: "a:b" } as (typeof keys)[number],
        { ...keys[4], key: "a/b" } as (typeof keys)[number],
        { ...keys[4], key: long } as (typeof keys)[number],
      ],
      context,
      open,
      10,
    );
    expect(clash.rules.map((r) => r.name)).toEqual(["advice.steady-hot.a-b", "advice.steady-hot.a-b.2"]);
    for (const rule of clash.rules) expect(rule.name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    expect(adviseFamilies(keys, context, open, 1).rules).toHaveLength(1);
  });
});
