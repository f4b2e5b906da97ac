import { configureTextEncoding } from "@bufbuild/protobuf/wire";
import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import { NAMESPACE_PATTERN } from "../engine/policy-store.js";
import { CacheError, Status } from "../errors.js";

/** Limits on request shapes, from the `limits` section of the config. */
export interface RequestLimits {
  maxKeyBytes: number;
  maxBulkKeys: number;
  maxTags: number;
}

const bad = (message: string) => new CacheError(Status.INVALID_ARGUMENT, message);

/** The namespace a request names; empty means "default". */
export function namespaceOf(namespace: string): string {
  return namespace === "" ? "default" : namespace;
}

/** Checks a namespace name (empty means "default"). */
export function checkNamespace(name: string): string {
  const namespace = namespaceOf(name);
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw bad(`namespace "${name}" is not valid: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit`);
  }
  return namespace;
}

/**
 * Strings in requests are decoded leniently (see {@link decodeLeniently}): bytes that are not
 * UTF-8 arrive as U+FFFD, which keys, tags and prefixes refuse.
 */
function checkText(text: string, field: string): void {
  if (text.includes("\uFFFD")) {
    throw bad(`${field} is not valid UTF-8 (or holds U+FFFD, the replacement character, which keys may not)`);
  }
}

/** Checks one key: not empty, not too long, valid UTF-8. */
export function checkKey(key: string, limits: RequestLimits, field = "key"): string {
  if (key.length === 0) throw bad(`${field} must not be empty`);
  checkText(key, field);
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > limits.maxKeyBytes) {
    throw bad(`${field} is ${bytes} bytes; keys may be at most ${limits.maxKeyBytes} bytes`);
  }
  return key;
}

/** Checks a key list: not empty, not more than the bulk limit, every key valid. */
export function checkKeys(keys: readonly string[], limits: RequestLimits, field = "keys"): readonly string[] {
  if (keys.length === 0) throw bad(`${field} must name at least one key`);
  if (keys.length > limits.maxBulkKeys) {
    throw bad(`${field} has ${keys.length} keys; at most ${limits.maxBulkKeys} per call, split the request`);
  }
  for (const [i, key] of keys.entries()) checkKey(key, limits, `${field}[${i}]`);
  return keys;
}

/** Checks tags: at most the limit, none empty, each at most 256 bytes. */
export function checkTags(tags: readonly string[], limits: RequestLimits, field = "tags"): readonly string[] {
  if (tags.length > limits.maxTags) throw bad(`${field} has ${tags.length} tags; at most ${limits.maxTags}`);
  tags.forEach((tag, i) => {
    if (tag.length === 0) throw bad(`${field}[${i}] must not be empty`);
    checkText(tag, `${field}[${i}]`);
    if (Buffer.byteLength(tag, "utf8") > 256) throw bad(`${field}[${i}] is longer than 256 bytes`);
  });
  return tags;
}

/** Checks that an enum value is one of `allowed` (proto3 enums accept unknown numbers on the wire). */
export function checkEnum<T extends number>(
  value: T,
  allowed: readonly T[],
  field: string,
  names: Record<number, string>,
): T {
  if (!allowed.includes(value)) {
    const choices = allowed.map((v) => names[v] ?? String(v)).join(", ");
    throw bad(`${field} has unknown value ${value}; use one of ${choices}`);
  }
  return value;
}

/** A duration in ms, checked to lie within bounds; undefined when not set. */
export function checkDuration(
  duration: Duration | undefined,
  field: string,
  bounds: { min?: number; max?: number } = {},
): number | undefined {
  if (!duration) return undefined;
  const ms = durationMs(duration);
  if (!Number.isFinite(ms) || ms < 0 || duration.nanos < -999_999_999 || duration.nanos > 999_999_999) {
    throw bad(`${field} must be a non-negative duration`);
  }
  if (bounds.min !== undefined && ms < bounds.min) throw bad(`${field} must be at least ${bounds.min} ms`);
  if (bounds.max !== undefined && ms > bounds.max) throw bad(`${field} must be at most ${bounds.max} ms`);
  return ms;
}

/**
 * Makes protobuf decoding of strings lenient: bytes that are not UTF-8 become U+FFFD instead of
 * failing the whole message, which both ports would report as INTERNAL (Connect wraps every
 * parse error so). The fields that matter are then refused with INVALID_ARGUMENT by the checks
 * above; other strings keep the replacement character. Called once at start.
 */
export function decodeLeniently(): void {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const encoder = new TextEncoder();
  configureTextEncoding({
    checkUtf8: (text) => text.isWellFormed(),
    encodeUtf8: (text) => encoder.encode(text),
    encodeUtf8Into: (text, dest) => ({ written: encoder.encodeInto(text, dest).written }),
    decodeUtf8: (bytes) => decoder.decode(bytes),
  });
}
