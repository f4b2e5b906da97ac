import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";

/** Where one key of the ring comes from: a file or an environment variable, never the API. */
export interface KeySource {
  /** The id written next to every value sealed with the key (1–64 of `A-Za-z0-9_.-`). */
  id: string;
  /** A file holding the 32-byte key, base64 or hex (surrounding whitespace ignored). */
  file?: string | undefined;
  /** An environment variable holding it, base64 or hex. */
  env?: string | undefined;
}

/** Key ids: short, printable, safe in logs and in one length byte of the envelope. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Most keys a ring holds: a ring is rotated, not grown. */
export const MAX_KEYS = 16;

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes sealing adds to a plaintext: the IV in front, the GCM tag behind. */
export const SEAL_OVERHEAD = IV_BYTES + TAG_BYTES;

/** A key ring that cannot be used; the message says which key and why, never its bytes. */
export class KeyRingError extends Error {
  override name = "KeyRingError";
}

/**
 * AES-256-GCM keys by id. `seal` writes a fresh random 96-bit IV, the ciphertext and the
 * 128-bit tag; `open` answers undefined for anything that does not authenticate (another key,
 * other authenticated data, changed bytes). Key bytes never leave this object.
 */
export class KeyRing {
  private readonly keys = new Map<string, Buffer>();
  /** Random IVs drawn 1,024 at a time: one CSPRNG call per IV costs more than the sealing. */
  private readonly ivPool = Buffer.allocUnsafe(IV_BYTES * 1024);
  private ivNext = this.ivPool.length;

  /** Loads every key from its file or variable; throws a KeyRingError naming the first bad one. */
  static load(sources: readonly KeySource[], env: NodeJS.ProcessEnv = process.env): KeyRing {
    if (sources.length > MAX_KEYS) throw new KeyRingError(`encryption.keys: at most ${MAX_KEYS} keys`);
    const ring = new KeyRing();
    for (const source of sources) {
      const where = `encryption.keys[${source.id}]`;
      if (!KEY_ID_PATTERN.test(source.id)) throw new KeyRingError(`${where}: ids use 1-64 of A-Z a-z 0-9 _ . -`);
      if (ring.keys.has(source.id)) throw new KeyRingError(`${where}: the id appears twice`);
      if ((source.file === undefined) === (source.env === undefined)) {
        throw new KeyRingError(`${where}: set exactly one of file, env`);
      }
      let text: string;
      if (source.file !== undefined) {
        try {
          text = readFileSync(source.file, "utf8");
        } catch (error) {
          throw new KeyRingError(`${where}: cannot read ${source.file}: ${(error as NodeJS.ErrnoException).code}`);
        }
      } else {
        const value = env[source.env as string];
        if (value === undefined || value === "") throw new KeyRingError(`${where}: $${source.env} is not set`);
        text = value;
      }
      const key = decodeKey(text.trim());
      if (!key) {
        throw new KeyRingError(`${where}: the key must be 32 bytes written as base64 (44 chars) or hex (64 chars)`);
      }
      ring.keys.set(source.id, key);
    }
    return ring;
  }

  /** A ring of keys given in code (tests, benchmarks, embedding). */
  static of(keys: Record<string, Uint8Array>): KeyRing {
    const ring = new KeyRing();
    for (const [id, key] of Object.entries(keys)) {
      if (!KEY_ID_PATTERN.test(id) || key.byteLength !== 32) throw new KeyRingError(`key ${id}: needs 32 bytes`);
      ring.keys.set(id, Buffer.from(key));
    }
    return ring;
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  /** IV ‖ ciphertext ‖ tag of `plaintext` under key `id`, binding `aad`. Throws for an unknown id. */
  seal(id: string, plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new KeyRingError(`encryption key "${id}" is not in this instance's key ring`);
    const iv = this.nextIv();
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    return Buffer.concat([iv, head, tail, cipher.getAuthTag()], IV_BYTES + head.length + tail.length + TAG_BYTES);
  }

  private nextIv(): Buffer {
    if (this.ivNext === this.ivPool.length) {
      randomFillSync(this.ivPool);
      this.ivNext = 0;
    }
    const iv = this.ivPool.subarray(this.ivNext, this.ivNext + IV_BYTES);
    this.ivNext += IV_BYTES;
    return iv;
  }

  /** The plaintext, or undefined when the key is unknown or the bytes or `aad` do not authenticate. */
  open(id: string, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
    const key = this.keys.get(id);
    if (!key || sealed.byteLength < SEAL_OVERHEAD) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES));
      const head = decipher.update(sealed.subarray(IV_BYTES, sealed.byteLength - TAG_BYTES));
      const tail = decipher.final(); // throws when the tag does not match
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      return undefined;
    }
  }
}

function decodeKey(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    const key = Buffer.from(text, "base64");
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

/**
 * Which key seals a namespace's new values, and the ring that opens old ones. The edges (L2
 * envelope, write-behind events) use it; the engine never sees keys.
 */
export interface Encryption {
  /** The key id new values of the namespace are sealed with; undefined: the namespace is not encrypted. */
  keyFor(namespace: string): string | undefined;
  readonly ring: KeyRing;
}

/** An Encryption whose namespace keys come from `keyIdOf` (the policy's `encryptionKeyId`; "" = none). */
export function namespaceEncryption(ring: KeyRing, keyIdOf: (namespace: string) => string): Encryption {
  return { ring, keyFor: (namespace) => keyIdOf(namespace) || undefined };
}

/**
 * The authenticated data that binds a sealed value to where it belongs: namespace, key and
 * version. A value copied under another key, namespace or version does not open.
 */
export function valuePlace(namespace: string, key: string, version: bigint): Buffer {
  const head = Buffer.from(`${namespace}\u0000${key}\u0000`, "utf8");
  const out = Buffer.allocUnsafe(head.length + 8);
  head.copy(out);
  out.writeBigUInt64BE(BigInt.asUintN(64, version), head.length);
  return out;
}
