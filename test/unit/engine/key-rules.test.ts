// Key rules: the glob grammar, first-match-wins across exact/prefix/glob, bounds and validation,
// and what each overridable field does to a key's reads and writes through the manager.
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import { CompiledRules, compileGlob, type KeyRule, MAX_RULES } from "../../../src/engine/key-rules.js";
import { loaderFunction } from "../../../src/engine/loader.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import { PriorityRefresher } from "../../../src/engine/refresher.js";
import { Status } from "../../../src/errors.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { SharedMemoryLayer, SharedMemoryStore } from "../../../src/testing/shared-memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const rule = (name: string, kind: KeyRule["match"]["kind"], pattern: string, overrides: KeyRule["overrides"] = {}) => ({
  name,
  match: { kind, pattern },
  overrides,
});

describe("glob grammar", () => {
  const matches = (glob: string, key: string) => {
    const regex = compileGlob(glob);
    if (typeof regex === "string") throw new Error(regex);
    return regex.test(key);
  };

  it("`*` matches within one segment only", () => {
    expect(matches("category:*:product:*", "category:42:product:7")).toBe(true);
    expect(matches("category:*:product:*", "category:4:2:product:7")).toBe(false);
    expect(matches("category:*:product:*", "category:42:product")).toBe(false);
    expect(matches("user-*", "user-42")).toBe(true);
    expect(matches("user-*", "user-42:x")).toBe(false);
    expect(matches("*", "")).toBe(true);
  });

  it("a `**` segment matches any number of segments, none included", () => {
    expect(matches("a:**:b", "a:b")).toBe(true);
    expect(matches("a:**:b", "a:x:y:b")).toBe(true);
    expect(matches("a:**:b", "a:x:y:c")).toBe(false);
    expect(matches("a:**", "a")).toBe(true);
    expect(matches("a:**", "a:x:y")).toBe(true);
    expect(matches("a:**", "ab")).toBe(false);
    expect(matches("**:b", "b")).toBe(true);
    expect(matches("**:b", "x:y:b")).toBe(true);
    expect(matches("**:b", "xb")).toBe(false);
    expect(matches("**", "anything:at:all")).toBe(true);
    expect(matches("a:**:**:b", "a:x:b")).toBe(true);
  });

  it("other characters are literal; reserved ones and `**` inside a segment are refused", () => {
    expect(matches("a.b+c(d)|e$", "a.b+c(d)|e$")).toBe(true);
    expect(matches("a.b", "axb")).toBe(false);
    for (const bad of ["a?", "a[0]", "{a,b}", "a\\b", "a**", "x:**y"]) expect(typeof compileGlob(bad)).toBe("string");
  });
});

describe("matching order", () => {
  const compiled = (rules: KeyRule[]) => new CompiledRules(defaultSettings(), rules);

  it("the first rule in the list wins, whatever its kind", () => {
    const rules = compiled([
      rule("glob-first", "glob", "p:*:hot"),
      rule("prefix", "prefix", "p:1"),
      rule("exact", "exact", "p:1:hot"),
      rule("short-prefix", "prefix", "p:"),
      rule("late-glob", "glob", "**"),
    ]);
    expect(rules.match("p:1:hot")?.rule.name).toBe("glob-first");
    expect(rules.match("p:1:cold")?.rule.name).toBe("prefix");
    expect(rules.match("p:2:cold")?.rule.name).toBe("short-prefix");
    expect(rules.match("q")?.rule.name).toBe("late-glob");
    const exactFirst = compiled([rule("exact", "exact", "p:1"), rule("prefix", "prefix", "p")]);
    expect(exactFirst.match("p:1")?.rule.name).toBe("exact");
    expect(exactFirst.match("p:2")?.rule.name).toBe("prefix");
    expect(compiled([rule("prefix", "prefix", "p"), rule("exact", "exact", "p:1")]).match("p:1")?.rule.name).toBe(
      "prefix",
    );
    expect(compiled([rule("e", "exact", "x")]).match("y")).toBeUndefined();
  });

  it("an empty prefix matches every key", () => {
    expect(compiled([rule("all", "prefix", "")]).match("anything")?.rule.name).toBe("all");
  });
});

describe("validation and bounds", () => {
  const store = () => new PolicyStore();
  const withRules = (rules: KeyRule[]): NamespaceSettings => ({ ...defaultSettings(), rules });
  const refusal = (rules: KeyRule[]) => {
    try {
      store().set("n", withRules(rules));
    } catch (error) {
      return error as { code: number; message: string };
    }
    return undefined;
  };

  it("refuses duplicate names, bad names, invalid globs, long patterns, too many rules, bad overrides", () => {
    expect(refusal([rule("a", "exact", "x"), rule("a", "exact", "y")])).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      message: expect.stringContaining('rules[1].name "a" is used by an earlier rule'),
    });
    expect(refusal([rule("has space", "exact", "x")])?.message).toContain("rules[0].name");
    expect(refusal([rule("g", "glob", "a**")])?.message).toContain('"**" must be a whole segment');
    expect(refusal([rule("l", "prefix", "x".repeat(513))])?.message).toContain("at most 512");
    expect(refusal([rule("e", "exact", "")])?.message).toContain("rules[0].exact must not be empty");
    const many = Array.from({ length: MAX_RULES + 1 }, (_, i) => rule(`r${i}`, "exact", `k${i}`));
    expect(refusal(many)?.message).toContain(`at most ${MAX_RULES}`);
    expect(refusal([rule("ttl", "exact", "k", { l1: { ttlMs: 0 } })])?.message).toContain(
      "rules[0] (ttl): l1.ttl must be greater than 0",
    );
    expect(refusal([rule("fresh", "exact", "k", { l2: { freshForMs: 10 * 3_600_000 } })])?.message).toContain(
      "l2.freshFor must not exceed l2.ttl",
    );
    expect(
      refusal([rule("hits", "exact", "k", { promotion: { mode: "after-hits", minFrequency: 0 } })])?.message,
    ).toContain("between 1 and 1000");
    expect(refusal(Array.from({ length: MAX_RULES }, (_, i) => rule(`r${i}`, "exact", `k${i}`)))).toBeUndefined();
  });

  it("keeps invalidation stamps as long as the longest-lived rule needs", async () => {
    const { longestLifetimeMs, longestLifetimeWithRulesMs } = await import("../../../src/engine/policy.js");
    const s = withRules([rule("long", "prefix", "p", { l2: { ttlMs: 10 * 3_600_000, freshForMs: 3_600_000 } })]);
    expect(longestLifetimeWithRulesMs(s)).toBeGreaterThan(longestLifetimeMs(s));
  });
});

/** One instance on a manual clock with a shared in-memory L2 and a counting loader. */
function instance(rules: KeyRule[], change: (s: NamespaceSettings) => void = () => {}) {
  const clock = new ManualClock(1_000_000);
  const store = new SharedMemoryStore(clock);
  const settings = defaultSettings();
  settings.l1.jitter = 0;
  settings.l2.jitter = 0;
  change(settings);
  settings.rules = rules;
  let calls = 0;
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
    l2: new SharedMemoryLayer(store),
    policies: new PolicyStore(settings),
    clock,
    scheduler: clock,
    random: () => 0.5,
    loaderFor: () =>
      loaderFunction(async (_ns, key) => {
        calls++;
        return key.startsWith("missing") ? { found: false } : { found: true, value: bytes(`${key}@${calls}`) };
      }),
  });
  return { manager, clock, loads: () => calls };
}

describe("what each overridable field does", () => {
  it("l1.ttl: the rule's keys leave L1 sooner; other keys keep the namespace's TTL", async () => {
    const { manager, clock } = instance([rule("short", "prefix", "s:", { l1: { ttlMs: 1_000, freshForMs: 1_000 } })]);
    await manager.get("n", "s:1");
    await manager.get("n", "o:1");
    clock.advance(2_000);
    expect((await manager.get("n", "s:1")).source).toBe("l2");
    expect((await manager.get("n", "o:1")).source).toBe("l1");
  });

  it("l2.ttl: the rule's keys expire in L2 on its TTL", async () => {
    const { manager, clock, loads } = instance([
      rule("short", "exact", "k", { l1: { enabled: false }, l2: { ttlMs: 1_000, freshForMs: 1_000 } }),
    ]);
    await manager.get("n", "k");
    clock.advance(500);
    expect((await manager.get("n", "k")).source).toBe("l2");
    clock.advance(1_000);
    expect((await manager.get("n", "k")).source).toBe("loader");
    expect(loads()).toBe(2);
  });

  it("l1.enabled false: the rule's keys never enter L1 (Inspect says disabled)", async () => {
    const { manager } = instance([rule("off", "glob", "x:*", { l1: { enabled: false } })]);
    await manager.get("n", "x:1");
    expect(manager.peekL1("n", "x:1")).toBeUndefined();
    expect((await manager.get("n", "x:1")).source).toBe("l2");
    expect(await manager.inspectKey("n", "x:1")).toMatchObject({ l1Reason: "disabled", rule: "off" });
  });

  it("l1.freshFor and earlyRefresh: a stale-but-valid key under the rule is refreshed, others are not", async () => {
    const { manager, clock, loads } = instance([
      rule("soon", "exact", "r", { l1: { ttlMs: 60_000, freshForMs: 1_000, staleWhileRevalidateMs: 0 } }),
    ]);
    await manager.get("n", "r");
    await manager.get("n", "o");
    clock.advance(2_000);
    await manager.get("n", "r");
    await manager.get("n", "o");
    await new Promise((resolve) => setImmediate(resolve));
    expect(loads()).toBe(3); // r refreshed once past its freshness; o still fresh
  });

  it("negativeTtl: the rule's 'not found' answers are cached for its own time", async () => {
    const { manager, clock, loads } = instance([rule("neg", "prefix", "missing:", { negativeTtlMs: 100 })]);
    await manager.get("n", "missing:1");
    await manager.get("n", "missing-other");
    clock.advance(1_000);
    await manager.get("n", "missing:1");
    await manager.get("n", "missing-other");
    expect(loads()).toBe(3); // missing:1 loaded twice, missing-other once (namespace: 30 s)
  });

  it("maxValueBytes: a Set above the rule's bound is refused, the same value elsewhere is not", async () => {
    const { manager } = instance([rule("small", "prefix", "tiny:", { maxValueBytes: 4 })]);
    await expect(manager.set("n", "tiny:1", bytes("12345"))).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect((await manager.set("n", "big:1", bytes("12345"))).applied).toBe(true);
  });

  it("writeMode: the rule's keys need the writer (write-through) while others are cache-only", async () => {
    const { manager } = instance([rule("wt", "exact", "w", { writeMode: "write-through" })]);
    await expect(manager.set("n", "w", bytes("v"))).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    expect((await manager.set("n", "x", bytes("v"))).applied).toBe(true);
  });

  it("failSafe: with it off under the rule, an expired key is not served when the loader fails", async () => {
    const clock = new ManualClock(1_000_000);
    let fail = false;
    const settings = defaultSettings();
    settings.l1.jitter = 0;
    settings.rules = [rule("strict", "exact", "s", { failSafe: { enabled: false } })];
    const manager = new CacheManager({
      l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
      policies: new PolicyStore(settings),
      clock,
      scheduler: clock,
      loaderFor: () =>
        loaderFunction(async () => {
          if (fail) throw new Error("origin down");
          return { found: true, value: bytes("v") };
        }),
    });
    await manager.get("n", "s");
    await manager.get("n", "o");
    clock.advance(settings.l1.ttlMs + 1);
    fail = true;
    await expect(manager.get("n", "s")).rejects.toBeDefined();
    expect(await manager.get("n", "o")).toMatchObject({ stale: true });
  });

  it("adaptiveTtl and l1.admission and l2.admission, jitter and staleWhileRevalidate reach the key's settings", () => {
    const store = new PolicyStore({
      ...defaultSettings(),
      rules: [
        rule("all", "exact", "k", {
          adaptiveTtl: { enabled: true, minTtlMs: 1_000 },
          l1: { admission: false, jitter: 0.5, staleWhileRevalidateMs: 7_000 },
          l2: { admission: true },
          earlyRefresh: { enabled: true, beta: 2 },
          promotion: { mode: "never" },
        }),
      ],
    });
    const s = store.forKey("n", "k");
    expect(s.adaptiveTtl).toMatchObject({
      enabled: true,
      minTtlMs: 1_000,
      maxTtlMs: defaultSettings().adaptiveTtl.maxTtlMs,
    });
    expect(s.l1).toMatchObject({ admission: false, jitter: 0.5, staleWhileRevalidateMs: 7_000 });
    expect(s.l2.admission).toBe(true);
    expect(s.earlyRefresh).toEqual({ enabled: true, beta: 2 });
    expect(s.promotion.mode).toBe("never");
    expect(store.forKey("n", "other")).toBe(store.get("n"));
  });

  it("priorityRefresh.enabled: the refresher renews the rule's hot keys only, under the namespace's budget", async () => {
    const { manager, clock, loads } = instance(
      [rule("kept-fresh", "prefix", "hot:", { priorityRefresh: { enabled: true } })],
      (s) => (s.priorityRefresh = { enabled: false, topKeys: 10, maxConcurrent: 1, maxPerSecond: 100 }),
    );
    for (let i = 0; i < 5; i++) {
      await manager.get("n", "hot:1");
      await manager.get("n", "cold:1");
    }
    const before = loads();
    clock.advance(defaultSettings().l1.freshForMs - 1_000);
    expect(await new PriorityRefresher(manager, { intervalMs: 1_000 }).tick()).toBe(1);
    expect(loads()).toBe(before + 1);
    expect(manager.peekL1("n", "hot:1")?.createdAt).toBe(clock.now());
    expect(manager.peekL1("n", "cold:1")?.createdAt).not.toBe(clock.now());
  });

  it("BulkGet applies each key's rule (grouped per rule)", async () => {
    const { manager, clock } = instance([rule("short", "prefix", "s:", { l1: { ttlMs: 1_000, freshForMs: 1_000 } })]);
    await manager.getMany("n", ["s:1", "o:1"]);
    clock.advance(2_000);
    const results = await manager.getMany("n", ["o:1", "s:1"]);
    expect([...results.keys()]).toEqual(["o:1", "s:1"]);
    expect(results.get("s:1")).toMatchObject({ source: "l2" });
    expect(results.get("o:1")).toMatchObject({ source: "l1" });
  });
});

describe("the compiled automaton agrees with the glob grammar", () => {
  it("on random globs and keys over a small alphabet (first match wins as in a plain loop)", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
    const segment = () => pick(["a", "b", "ab", "", "*", "a*", "*b", "**"]);
    const keySegment = () => pick(["a", "b", "ab", "ba", "", "aab"]);
    for (let round = 0; round < 300; round++) {
      const rules: KeyRule[] = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) => {
        const kind = pick(["glob", "glob", "prefix", "exact"] as const);
        const parts = Array.from({ length: 1 + Math.floor(random() * 4) }, kind === "glob" ? segment : keySegment);
        return rule(`r${i}`, kind, parts.join(":"));
      });
      const valid = rules.filter((r) => r.match.pattern !== "" || r.match.kind === "prefix");
      const compiled = new CompiledRules(defaultSettings(), valid);
      for (let k = 0; k < 20; k++) {
        const key = Array.from({ length: 1 + Math.floor(random() * 4) }, keySegment).join(":");
        const expected = valid.find(({ match: { kind, pattern } }) => {
          if (kind === "exact") return key === pattern;
          if (kind === "prefix") return key.startsWith(pattern);
          return (compileGlob(pattern) as RegExp).test(key);
        });
        expect(compiled.match(key)?.rule.name, `${key} against ${JSON.stringify(valid.map((r) => r.match))}`).toBe(
          expected?.name,
        );
      }
    }
  });
});
