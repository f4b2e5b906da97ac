import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyRing, namespaceEncryption } from "../../../src/crypto/key-ring.js";
import { type Entry, EntryFlags } from "../../../src/engine/entry.js";
import { MemoryLayer } from "../../../src/layers/memory-layer.js";
import { SealedLayer } from "../../../src/layers/sealed-layer.js";

const entry = (value: string, version = 1n): Entry => ({
  value: Buffer.from(value),
  createdAt: 1,
  freshUntil: Date.now() + 60_000,
  expiresAt: Date.now() + 60_000,
  staleUntil: Date.now() + 60_000,
  version,
  tags: ["t"],
  flags: EntryFlags.ADMIT,
  loadMs: 0,
});

function setup() {
  const keyOf = new Map([["enc", "k1"]]);
  const ring = KeyRing.of({ k1: randomBytes(32), k2: randomBytes(32) });
  const memory = new MemoryLayer({ maxBytes: 1 << 20, maxEntries: 1000 });
  const layer = new SealedLayer(
    memory,
    namespaceEncryption(ring, (ns) => keyOf.get(ns) ?? ""),
  );
  return { keyOf, memory, layer };
}

describe("SealedLayer (encryption.l1)", () => {
  it("keeps an encrypted namespace's values sealed in L1 and answers them in clear", () => {
    const { memory, layer } = setup();
    layer.set("enc", "a", entry("secret"));
    const held = memory.peek("enc", "a") as Entry;
    expect(Buffer.from(held.value).includes("secret")).toBe(false);
    expect(held.flags & EntryFlags.SEALED).toBe(EntryFlags.SEALED);
    const read = layer.get("enc", "a") as Entry;
    expect(Buffer.from(read.value).toString()).toBe("secret");
    expect(read.flags).toBe(EntryFlags.ADMIT);
    expect(read.tags).toEqual(["t"]);
    expect(Buffer.from(layer.getMany("enc", ["a"])[0]?.value ?? []).toString()).toBe("secret");
  });

  it("passes other namespaces through untouched", () => {
    const { memory, layer } = setup();
    layer.set("plain", "a", entry("clear"));
    expect(Buffer.from((memory.peek("plain", "a") as Entry).value).toString()).toBe("clear");
  });

  it("opens entries sealed before a key change and after a TTL change; never serves a changed one", () => {
    const { keyOf, memory, layer } = setup();
    layer.set("enc", "a", entry("old-key"));
    keyOf.set("enc", "k2");
    layer.adjustTtl("enc", "a", Date.now() + 30_000);
    expect(Buffer.from((layer.get("enc", "a") as Entry).value).toString()).toBe("old-key");

    layer.set("enc", "b", entry("v"));
    const held = memory.peek("enc", "b") as Entry;
    const tampered = Buffer.from(held.value);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1;
    memory.set("enc", "b", { ...held, value: tampered, version: 2n });
    expect(layer.get("enc", "b")).toBeUndefined();
    expect(layer.counters("enc").unreadable).toBe(1);
    expect(layer.counters().unreadable).toBe(1);
  });
});
