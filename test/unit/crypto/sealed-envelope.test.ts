import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KeyRing } from "../../../src/crypto/key-ring.js";
import type { Entry } from "../../../src/engine/entry.js";
import {
  decodeEntry,
  ENVELOPE_FORMAT_SEALED,
  encodeEntry,
  sealedKeyId,
  UNREADABLE,
} from "../../../src/layers/redis/envelope.js";

const ring = KeyRing.of({ k1: randomBytes(32), k2: randomBytes(32) });
const entry: Entry = {
  value: Buffer.from("secret value"),
  createdAt: 1_700_000_000_000,
  freshUntil: 1_700_000_010_000,
  expiresAt: 1_700_000_020_000,
  staleUntil: 1_700_000_030_000,
  version: 42n,
  tags: ["tag-one"],
  flags: 0,
  loadMs: 3,
};
const sealed = (keyId = "k1", namespace = "ns", key = "a") => encodeEntry(entry, { keyId, ring, namespace, key });

describe("sealed envelope (format 2)", () => {
  it("keeps the header readable, hides value and tags, and opens where it was written", () => {
    const bytes = sealed();
    expect(bytes[1]).toBe(ENVELOPE_FORMAT_SEALED);
    expect(bytes.readBigUInt64BE(2)).toBe(42n); // the Lua scripts still compare versions
    expect(bytes.readDoubleBE(11)).toBe(entry.createdAt);
    expect(sealedKeyId(bytes)).toBe("k1");
    expect(bytes.includes("secret value")).toBe(false);
    expect(bytes.includes("tag-one")).toBe(false);
    const opened = decodeEntry(bytes, ring, "ns", "a") as Entry;
    expect(Buffer.from(opened.value).toString()).toBe("secret value");
    expect(opened).toMatchObject({ version: 42n, tags: ["tag-one"], createdAt: entry.createdAt, loadMs: 3 });
  });

  it("does not open under another key, namespace, ring, or with any byte changed", () => {
    const bytes = sealed();
    expect(decodeEntry(bytes, ring, "ns", "b")).toBe(UNREADABLE);
    expect(decodeEntry(bytes, ring, "other", "a")).toBe(UNREADABLE);
    expect(decodeEntry(bytes, undefined, "ns", "a")).toBe(UNREADABLE);
    expect(decodeEntry(bytes, KeyRing.of({ k1: randomBytes(32) }), "ns", "a")).toBe(UNREADABLE);
    for (let i = 2; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] as number) ^ 1;
      expect(decodeEntry(tampered, ring, "ns", "a"), `byte ${i}`).toBe(UNREADABLE);
    }
  });

  it("reads clear (format 1) envelopes as before", () => {
    const opened = decodeEntry(encodeEntry(entry), ring, "ns", "a") as Entry;
    expect(Buffer.from(opened.value).toString()).toBe("secret value");
  });

  it("uses a fresh IV for every seal", () => {
    expect(sealed().equals(sealed())).toBe(false);
  });
});

describe("KeyRing.load", () => {
  const dir = mkdtempSync(join(tmpdir(), "mlc-keys-"));
  const hexFile = join(dir, "hex");
  const key = randomBytes(32);
  writeFileSync(hexFile, `${key.toString("hex")}\n`);

  it("reads base64 and hex keys from files and env", () => {
    const loaded = KeyRing.load(
      [
        { id: "a", file: hexFile },
        { id: "b", env: "K_B" },
      ],
      { K_B: randomBytes(32).toString("base64") },
    );
    expect(loaded.ids).toEqual(["a", "b"]);
    const aad = Buffer.from("x");
    expect(
      KeyRing.of({ a: key })
        .open("a", loaded.seal("a", Buffer.from("v"), aad), aad)
        ?.toString(),
    ).toBe("v");
  });

  it("refuses bad keys with a message that names the key and never its bytes", () => {
    const short = randomBytes(16).toString("hex");
    const attempt = () => KeyRing.load([{ id: "short", env: "K" }], { K: short });
    expect(attempt).toThrow(/encryption.keys\[short\]: the key must be 32 bytes/);
    expect(() => attempt()).not.toThrow(new RegExp(short));
    expect(() => KeyRing.load([{ id: "m", env: "MISSING" }], {})).toThrow(/\$MISSING is not set/);
    expect(() => KeyRing.load([{ id: "f", file: join(dir, "nope") }], {})).toThrow(/cannot read .*ENOENT/);
    expect(() => KeyRing.load(Array.from({ length: 17 }, (_, i) => ({ id: `k${i}`, file: hexFile })))).toThrow(
      /at most 16 keys/,
    );
  });
});
