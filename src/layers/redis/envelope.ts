import type { KeyRing } from "../../crypto/key-ring.js";
import type { Entry } from "../../engine/entry.js";

/**
 * The binary form of an entry in Redis. Fixed header first so a Lua script can compare
 * versions without decoding the rest:
 *
 *   0      1 byte   magic 'M' (0x4d)
 *   1      1 byte   format (1)
 *   2      8 bytes  version, unsigned big-endian (byte order = numeric order, so Lua compares
 *                   two versions as strings)
 *   10     1 byte   flags (entry flags)
 *   11     8 bytes  createdAt     float64 BE, ms since epoch
 *   19     8 bytes  freshUntil    float64 BE
 *   27     8 bytes  expiresAt     float64 BE
 *   35     8 bytes  staleUntil    float64 BE
 *   43     4 bytes  loadMs        float32 BE
 *   47     2 bytes  tag count, then per tag: 2-byte length + UTF-8 bytes
 *   ...    4 bytes  value length, then the value bytes
 *
 * Format 2 (an encrypted namespace) keeps the same 47-byte header in clear, so the Lua scripts
 * still compare versions and tombstone times, and seals the rest:
 *
 *   47     1 byte   key id length n (1..64), then the key id (ASCII)
 *   48+n   12 bytes IV, then AES-256-GCM of the format-1 body (tags and value), then 16-byte tag
 *
 * The authenticated data is the clear part (header and key id) followed by the namespace, a
 * zero byte and the key: a value copied under another key or namespace, or with its version,
 * times or flags changed, does not open.
 */
export const ENVELOPE_MAGIC = 0x4d;
export const ENVELOPE_FORMAT = 1;
/** The format of a sealed (encrypted) envelope. */
export const ENVELOPE_FORMAT_SEALED = 2;
const HEADER = 47;
/** What {@link decodeEntry} answers for a sealed envelope that does not open: never served, counted. */
export const UNREADABLE: unique symbol = Symbol("unreadable");

/** How an envelope is sealed: the key id, and the ring and place (namespace, key) it binds. */
export interface Sealing {
  keyId: string;
  ring: KeyRing;
  namespace: string;
  key: string;
}
/** The tags of every untagged entry: most have none, and the read path allocates less. */
const NO_TAGS: readonly string[] = Object.freeze([]);

/** Encodes an entry for Redis: format 1, or sealed (format 2) when `sealing` is given. */
export function encodeEntry(entry: Entry, sealing?: Sealing): Buffer {
  const plain = encodePlain(entry);
  if (!sealing) return plain;
  const keyId = Buffer.from(sealing.keyId, "latin1");
  const clear = Buffer.allocUnsafe(HEADER + 1 + keyId.length);
  plain.copy(clear, 0, 0, HEADER);
  clear[1] = ENVELOPE_FORMAT_SEALED;
  clear[HEADER] = keyId.length;
  keyId.copy(clear, HEADER + 1);
  const sealed = sealing.ring.seal(
    sealing.keyId,
    plain.subarray(HEADER),
    authenticatedData(clear, sealing.namespace, sealing.key),
  );
  return Buffer.concat([clear, sealed], clear.length + sealed.length);
}

/** The key id of a sealed envelope, undefined for a clear one (or bytes that are no envelope). */
export function sealedKeyId(bytes: Buffer): string | undefined {
  if (bytes.length < HEADER + 2 || bytes[0] !== ENVELOPE_MAGIC || bytes[1] !== ENVELOPE_FORMAT_SEALED) return undefined;
  const length = bytes[HEADER] as number;
  return bytes.toString("latin1", HEADER + 1, HEADER + 1 + length);
}

/** Whether the bytes are an envelope of a format this code reads (for the header-only checks). */
export function isEnvelopeHeader(bytes: Uint8Array): boolean {
  return bytes[0] === ENVELOPE_MAGIC && (bytes[1] === ENVELOPE_FORMAT || bytes[1] === ENVELOPE_FORMAT_SEALED);
}

function authenticatedData(clear: Uint8Array, namespace: string, key: string): Buffer {
  return Buffer.concat([clear, Buffer.from(`${namespace}\u0000${key}`, "utf8")]);
}

function encodePlain(entry: Entry): Buffer {
  const tags = entry.tags.map((t) => Buffer.from(t, "utf8"));
  let size = HEADER + 2 + 4 + entry.value.byteLength;
  for (const tag of tags) size += 2 + tag.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = ENVELOPE_MAGIC;
  out[1] = ENVELOPE_FORMAT;
  out.writeBigUInt64BE(entry.version, 2);
  out[10] = entry.flags & 0xff;
  out.writeDoubleBE(entry.createdAt, 11);
  out.writeDoubleBE(entry.freshUntil, 19);
  out.writeDoubleBE(entry.expiresAt, 27);
  out.writeDoubleBE(entry.staleUntil, 35);
  out.writeFloatBE(entry.loadMs, 43);
  let at = HEADER;
  out.writeUInt16BE(tags.length, at);
  at += 2;
  for (const tag of tags) {
    out.writeUInt16BE(tag.length, at);
    tag.copy(out, at + 2);
    at += 2 + tag.length;
  }
  out.writeUInt32BE(entry.value.byteLength, at);
  out.set(entry.value, at + 4);
  return out;
}

/**
 * Decodes an entry: undefined when the bytes are not an envelope this code understands,
 * UNREADABLE when they are sealed and do not open here (no ring, a key not in it, another
 * namespace or key, changed bytes). `namespace` and `key` are where the bytes were read from.
 */
export function decodeEntry(
  bytes: Buffer,
  ring?: KeyRing,
  namespace = "",
  key = "",
): Entry | undefined | typeof UNREADABLE {
  if (bytes[1] === ENVELOPE_FORMAT_SEALED && bytes[0] === ENVELOPE_MAGIC)
    return openSealed(bytes, ring, namespace, key);
  if (bytes.length < HEADER + 6 || bytes[0] !== ENVELOPE_MAGIC || bytes[1] !== ENVELOPE_FORMAT) return undefined;
  // One DataView for every field: its reads are big-endian by default and compile to plain
  // loads, where Buffer's readDoubleBE and readBigUInt64BE go byte by byte.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = HEADER;
  const tagCount = view.getUint16(at);
  at += 2;
  let tags = NO_TAGS;
  if (tagCount > 0) {
    const read: string[] = [];
    for (let i = 0; i < tagCount; i++) {
      const length = view.getUint16(at);
      read.push(bytes.toString("utf8", at + 2, at + 2 + length));
      at += 2 + length;
    }
    tags = read;
  }
  const valueLength = view.getUint32(at);
  at += 4;
  if (at + valueLength > bytes.length) return undefined;
  return {
    version: view.getBigUint64(2),
    flags: bytes[10] as number,
    createdAt: view.getFloat64(11),
    freshUntil: view.getFloat64(19),
    expiresAt: view.getFloat64(27),
    staleUntil: view.getFloat64(35),
    loadMs: view.getFloat32(43),
    tags,
    // A copy-free view: the reply buffer belongs to this entry alone.
    value: new Uint8Array(bytes.buffer, bytes.byteOffset + at, valueLength),
  };
}

function openSealed(
  bytes: Buffer,
  ring: KeyRing | undefined,
  namespace: string,
  key: string,
): Entry | typeof UNREADABLE {
  const keyId = sealedKeyId(bytes);
  if (!ring || keyId === undefined) return UNREADABLE;
  const clearLength = HEADER + 1 + keyId.length;
  if (bytes.length < clearLength) return UNREADABLE;
  const clear = bytes.subarray(0, clearLength);
  const body = ring.open(keyId, bytes.subarray(clearLength), authenticatedData(clear, namespace, key));
  if (!body) return UNREADABLE;
  // The opened body behind the clear header reads as a format-1 envelope.
  const plain = Buffer.allocUnsafe(HEADER + body.length);
  bytes.copy(plain, 0, 0, HEADER);
  plain[1] = ENVELOPE_FORMAT;
  body.copy(plain, HEADER);
  const entry = decodeEntry(plain);
  return entry === undefined ? UNREADABLE : entry;
}
