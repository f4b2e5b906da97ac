// The engine asks for origins by (namespace, rule): the first rule matching a key names it, keys
// under no rule ask without one. Get, getMany (one loadMany per rule group), refresh, write-through,
// fallback origins and per-rule load timeouts all follow it.
import { describe, expect, it } from "vitest";
import { CacheManager } from "../../../src/engine/cache-manager.js";
import { ManualClock } from "../../../src/engine/clock.js";
import type { KeyRule } from "../../../src/engine/key-rules.js";
import type { Loader } from "../../../src/engine/loader.js";
import { defaultSettings } from "../../../src/engine/policy.js";
import { PolicyStore } from "../../../src/engine/policy-store.js";
import type { StoreItemInput, Writer } from "../../../src/engine/writer.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** A loader and writer labelled with the name it was asked for, counting its calls. */
function origin(label: string) {
  const calls = { load: 0, loadMany: [] as string[][], stored: [] as string[] };
  const loader: Loader = {
    async load(_ns, key) {
      calls.load++;
      return { found: true, value: bytes(`${label}:${key}`) };
    },
    async loadMany(_ns, keys) {
      calls.loadMany.push([...keys]);
      return new Map(keys.map((key) => [key, { found: true, value: bytes(`${label}:${key}`) }]));
    },
  };
  const writer: Writer = {
    async store(_ns, items: readonly StoreItemInput[]) {
      calls.stored.push(...items.map((i) => i.key));
      return undefined;
    },
  };
  return { loader, writer, calls };
}

function setup(rules: KeyRule[]) {
  const clock = new ManualClock(1_000_000);
  const settings = defaultSettings();
  settings.rules = rules;
  const origins = { ns: origin("NS"), vip: origin("VIP") };
  const asked: (string | undefined)[] = [];
  const manager = new CacheManager({
    l1: new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000, clock }),
    policies: new PolicyStore(settings),
    clock,
    scheduler: clock,
    random: () => 0.5,
    // What a registry does: the rule's own origin when it has one, else the namespace's.
    loaderFor: (_ns, rule) => {
      asked.push(rule);
      return rule === "vip" ? origins.vip.loader : origins.ns.loader;
    },
    writerFor: (_ns, rule) => (rule === "vip" ? origins.vip.writer : origins.ns.writer),
    fallbackFor: (_ns, rule) =>
      rule === "vip" ? { load: async (_n, key) => ({ found: true, value: bytes(`VIP-FALLBACK:${key}`) }) } : undefined,
  });
  return { manager, origins, asked, clock };
}

const rule = (name: string, prefix: string, overrides: KeyRule["overrides"] = {}): KeyRule => ({
  name,
  match: { kind: "prefix", pattern: prefix },
  overrides,
});

describe("origins chosen per key rule", () => {
  it("the first matching rule names the origin; keys under no rule ask without one", async () => {
    // "vip:x:" also matches "plain-first", which comes first: it wins, so the namespace's origin answers.
    const { manager, asked } = setup([rule("plain-first", "vip:x:"), rule("vip", "vip:")]);
    expect(text((await manager.get("n", "vip:1")).value)).toBe("VIP:vip:1");
    expect(text((await manager.get("n", "vip:x:1")).value)).toBe("NS:vip:x:1");
    expect(text((await manager.get("n", "other")).value)).toBe("NS:other");
    expect(asked).toEqual(["vip", "plain-first", undefined]);
  });

  it("getMany and refresh make one loadMany per rule group, each to its own origin", async () => {
    const { manager, origins } = setup([rule("vip", "vip:")]);
    const results = await manager.getMany("n", ["vip:1", "a", "vip:2", "b"]);
    expect([...results.entries()].map(([key, r]) => [key, "value" in r ? text(r.value) : "error"])).toEqual([
      ["vip:1", "VIP:vip:1"],
      ["a", "NS:a"],
      ["vip:2", "VIP:vip:2"],
      ["b", "NS:b"],
    ]);
    expect(origins.vip.calls.loadMany).toEqual([["vip:1", "vip:2"]]);
    expect(origins.ns.calls.loadMany).toEqual([["a", "b"]]);
    expect(origins.vip.calls.load + origins.ns.calls.load).toBe(0);

    expect(await manager.refresh("n", ["vip:1", "a", "vip:2", "b"])).toBe(4);
    expect(origins.vip.calls.loadMany).toEqual([
      ["vip:1", "vip:2"],
      ["vip:1", "vip:2"],
    ]);
    expect(origins.ns.calls.loadMany).toEqual([
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("write-through sends a key under the rule to the rule's writer", async () => {
    const { manager, origins } = setup([rule("vip", "vip:")]);
    await manager.set("n", "vip:1", bytes("v"), { writeMode: "write-through" });
    await manager.set("n", "other", bytes("v"), { writeMode: "write-through" });
    expect(origins.vip.calls.stored).toEqual(["vip:1"]);
    expect(origins.ns.calls.stored).toEqual(["other"]);
  });

  it("a failed load asks the rule's fallback origin; the namespace's keys have none", async () => {
    const { manager, origins } = setup([rule("vip", "vip:")]);
    const failing: Loader = {
      load: async () => {
        throw new Error("down");
      },
    };
    origins.vip.loader.load = failing.load;
    origins.ns.loader.load = failing.load;
    const lookup = await manager.get("n", "vip:1");
    expect([lookup.source, text(lookup.value)]).toEqual(["fallback", "VIP-FALLBACK:vip:1"]);
    await expect(manager.get("n", "other")).rejects.toThrow(/down/);
  });
});
