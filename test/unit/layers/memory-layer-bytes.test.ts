// L1's byte bound must count what its entries really cost: the Entry object, the value's
// Uint8Array and ArrayBuffer (and its backing store's bookkeeping) and the key, not only the
// value bytes and the policy's table slot. Measured here with a forced GC (V8's gc exposed
// through --expose-gc set at run time), the way `npm run bench:l1` measures the table.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../src/engine/entry.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function bytesInUse(): number {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** An entry as the engine stores one for a Set: a fresh value buffer, its own version. */
function entryOf(value: Uint8Array, i: number): Entry {
  return {
    value,
    createdAt: 1_000 + i,
    freshUntil: 60_000 + i,
    expiresAt: 60_000 + i,
    staleUntil: 60_000 + i,
    version: 1_000_000n + BigInt(i),
    tags: [],
    flags: 0,
    loadMs: 0,
  };
}

describe("MemoryLayer byte accounting", () => {
  it.each([64, 1024])("counts at least the bytes its entries hold (%i-byte values)", (valueBytes) => {
    const n = 20_000;
    // Keys and values are made first: a key from a request and a value copied out of it exist
    // before L1 sees them, but L1 keeps them (and the composite key) alive.
    const layer = new MemoryLayer({ maxBytes: 1 << 30, maxEntries: n * 2, clock: { now: () => 0 } });
    const before = bytesInUse();
    for (let i = 0; i < n; i++) {
      const value = new Uint8Array(valueBytes).fill(i & 0xff);
      layer.set("products", `key:${String(i).padStart(8, "0")}`, entryOf(value, i));
    }
    const real = bytesInUse() - before;
    const counted = layer.counters("products").bytes;
    expect(layer.counters("products").entries).toBe(n);
    // Real bytes per entry beyond the value, and what L1 counts for the same.
    const realOverhead = real / n - valueBytes;
    const countedOverhead = counted / n - valueBytes;
    expect(countedOverhead).toBeGreaterThanOrEqual(realOverhead * 0.9);
    // …and does not overcount by much either (the bound would hold less than it says).
    expect(countedOverhead).toBeLessThanOrEqual(realOverhead * 1.5 + 16);
  });
});
