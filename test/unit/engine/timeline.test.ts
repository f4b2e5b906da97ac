import { describe, expect, it } from "vitest";
import { EntryFlags } from "../../../src/engine/entry.js";
import { defaultSettings, type NamespaceSettings } from "../../../src/engine/policy.js";
import { type EntryBase, layerTimeline, promotedEntry, ttlFor } from "../../../src/engine/timeline.js";

const base: EntryBase = {
  value: new Uint8Array([1]),
  createdAt: 1_000,
  version: 7n,
  tags: [],
  flags: 0,
  loadMs: 0,
};

function settings(change: (s: NamespaceSettings) => void = () => {}): NamespaceSettings {
  const s = defaultSettings();
  change(s);
  return s;
}

describe("ttlFor", () => {
  const s = settings((s) => {
    s.adaptiveTtl = { enabled: true, minTtlMs: 10_000, maxTtlMs: 1_000_000 };
  });
  it("gives not-found answers the negative TTL and named TTLs exactly", () => {
    expect(ttlFor(s, s.l1, { found: false }, 3)).toBe(s.negativeTtlMs);
    expect(ttlFor(s, s.l1, { found: true, ttlMs: 1234 }, 15)).toBe(1234);
  });
  it("scales the policy TTL by popularity from a quarter to twice, within the adaptive bounds", () => {
    expect(ttlFor(s, s.l1, { found: true }, undefined)).toBe(s.l1.ttlMs);
    expect(ttlFor(s, s.l1, { found: true }, 0)).toBe(s.l1.ttlMs / 4);
    expect(ttlFor(s, s.l1, { found: true }, 15)).toBe(s.l1.ttlMs * 2);
    expect(ttlFor(s, s.l1, { found: true }, 99)).toBe(s.l1.ttlMs * 2);
    expect(ttlFor(s, s.l2, { found: true }, 15)).toBe(1_000_000);
    expect(
      ttlFor(
        { ...s, adaptiveTtl: { enabled: true, minTtlMs: 200_000, maxTtlMs: 1_000_000 } },
        s.l1,
        { found: true },
        0,
      ),
    ).toBe(200_000);
  });
});

describe("layerTimeline", () => {
  const s = settings((s) => {
    s.l1 = { ...s.l1, ttlMs: 10_000, freshForMs: 4_000, jitter: 0.5, staleWhileRevalidateMs: 2_000 };
    s.failSafe = { enabled: false, maxStaleMs: 0, throttleMs: 0 };
  });
  it("spreads TTL and freshness by the same jitter, then adds the stale window", () => {
    const entry = layerTimeline(base, s, s.l1, 10_000, undefined, false, () => 1);
    expect(entry.expiresAt).toBe(1_000 + 15_000);
    expect(entry.freshUntil).toBe(1_000 + 6_000);
    expect(entry.staleUntil).toBe(entry.expiresAt + 2_000);
  });
  it("keeps an exact TTL exactly and never lets freshness pass the TTL", () => {
    const entry = layerTimeline(base, s, s.l1, 3_000, undefined, true, () => 1);
    expect(entry.expiresAt).toBe(4_000);
    expect(entry.freshUntil).toBe(4_000);
  });
  it("takes the longer of stale-while-revalidate and fail-safe's stale window", () => {
    const withFailSafe = settings((x) => {
      x.l1 = s.l1;
      x.failSafe = { enabled: true, maxStaleMs: 50_000, throttleMs: 0 };
    });
    const entry = layerTimeline(base, withFailSafe, withFailSafe.l1, 10_000, undefined, true, () => 0);
    expect(entry.staleUntil - entry.expiresAt).toBe(50_000);
  });
});

describe("promotedEntry", () => {
  const l2Entry = { ...base, freshUntil: 50_000, expiresAt: 60_000, staleUntil: 70_000 };
  it("never outlives L2's copy and keeps its age and version", () => {
    const s = settings((s) => {
      s.l1 = { ...s.l1, ttlMs: 1_000_000, jitter: 0 };
    });
    const entry = promotedEntry(l2Entry, s, 5_000, () => 0);
    expect(entry.expiresAt).toBe(60_000);
    expect(entry.freshUntil).toBe(50_000);
    expect(entry.staleUntil).toBe(70_000);
    expect(entry.createdAt).toBe(base.createdAt);
    expect(entry.version).toBe(7n);
  });
  it("cuts to L1's TTL from now, the stale window moving with it", () => {
    const s = settings((s) => {
      s.l1 = { ...s.l1, ttlMs: 10_000, jitter: 0 };
    });
    const entry = promotedEntry(l2Entry, s, 5_000, () => 0);
    expect(entry.expiresAt).toBe(15_000);
    expect(entry.freshUntil).toBe(15_000);
    expect(entry.staleUntil).toBe(25_000);
  });
  it("marks the copy ADMIT when L1 admission is off for the namespace", () => {
    const off = settings((s) => {
      s.l1 = { ...s.l1, admission: false };
    });
    expect(promotedEntry(l2Entry, off, 0, () => 0).flags & EntryFlags.ADMIT).toBe(EntryFlags.ADMIT);
    expect(promotedEntry(l2Entry, settings(), 0, () => 0).flags & EntryFlags.ADMIT).toBe(0);
  });
});
