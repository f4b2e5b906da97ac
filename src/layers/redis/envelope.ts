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
 */
export const ENVELOPE_MAGIC = 0x4d;
export const ENVELOPE_FORMAT = 1;
const HEADER = 47;
/** The tags of every untagged entry: most have none, and the read path allocates less. */
const NO_TAGS: readonly string[] = Object.freeze([]);

/** Encodes an entry for Redis. */
export function encodeEntry(entry: Entry): Buffer {
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

/** Decodes an entry, or undefined when the bytes are not an envelope this code understands. */
export function decodeEntry(bytes: Buffer): Entry | undefined {
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
