// Every value the workload writes or the origin serves carries its own id, so a read tells
// exactly which write (or which origin version) it returned.

/** Origin generation n is served with version n × this: room for explicit Set versions between. */
export const ORIGIN_VERSION_STEP = 1000n;

/** The id of the value a Set operation writes. */
export function setValueId(opId: string): string {
  return `set:${opId}`;
}

/** The id of a key's origin value at one generation. */
export function originValueId(namespace: string, key: string, generation: number): string {
  return `origin:${namespace}/${key}@${generation}`;
}

/** The bytes of a value: JSON naming its id (and, for reading a dump, its key). */
export function encodeValue(valueId: string, key: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id: valueId, key }));
}

/** The id in a value's bytes, or undefined for bytes that are not one of ours. */
export function decodeValueId(bytes: Uint8Array): string | undefined {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { id?: unknown };
    return typeof parsed.id === "string" ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}
