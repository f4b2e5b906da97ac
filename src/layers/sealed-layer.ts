import { type Encryption, valuePlace } from "../crypto/key-ring.js";
import { type Entry, EntryFlags } from "../engine/entry.js";
import type { KeyFrequency, L1Layer, LayerCounters } from "../engine/layer.js";

/**
 * An L1 whose encrypted namespaces keep their values sealed (config `encryption.l1`): a heap
 * dump or a core file shows ciphertext. The value is sealed with the namespace's key, bound to
 * namespace, key and version; timeline and tags stay in clear (the engine reads them on every
 * hit and invalidation). Each hit pays one decryption. Namespaces without a key pass through.
 * A sealed value is the key id's length (1 byte), the key id, then IV, ciphertext and tag; the
 * entry carries `EntryFlags.SEALED`, so entries sealed before a key change still open.
 */
export class SealedLayer implements L1Layer {
  readonly name: string;
  private unreadableTotal = 0;

  constructor(
    private readonly inner: L1Layer,
    private readonly encryption: Encryption,
  ) {
    this.name = inner.name;
  }

  get(namespace: string, key: string): Entry | undefined {
    return this.open(namespace, key, this.inner.get(namespace, key));
  }

  peek(namespace: string, key: string): Entry | undefined {
    return this.open(namespace, key, this.inner.peek(namespace, key));
  }

  getMany(namespace: string, keys: readonly string[]): (Entry | undefined)[] {
    return this.inner.getMany(namespace, keys).map((entry, i) => this.open(namespace, keys[i] as string, entry));
  }

  set(namespace: string, key: string, entry: Entry): boolean {
    const keyId = this.encryption.keyFor(namespace);
    if (keyId === undefined) return this.inner.set(namespace, key, entry);
    const id = Buffer.from(keyId, "latin1");
    const sealed = this.encryption.ring.seal(keyId, entry.value, valuePlace(namespace, key, entry.version));
    const value = Buffer.concat([Buffer.of(id.length), id, sealed]);
    return this.inner.set(namespace, key, { ...entry, value, flags: entry.flags | EntryFlags.SEALED });
  }

  delete(namespace: string, key: string): boolean {
    return this.inner.delete(namespace, key);
  }

  clear(namespace?: string): void {
    this.inner.clear(namespace);
  }

  adjustTtl(namespace: string, key: string, expiresAt: number): boolean {
    return this.inner.adjustTtl(namespace, key, expiresAt);
  }

  frequency(namespace: string, key: string): number {
    return this.inner.frequency(namespace, key);
  }

  recordAccess(namespace: string, key: string): void {
    this.inner.recordAccess(namespace, key);
  }

  topKeys(n: number, namespace?: string): KeyFrequency[] {
    return this.inner.topKeys(n, namespace);
  }

  counters(namespace?: string): LayerCounters {
    const counters = this.inner.counters(namespace);
    return namespace === undefined ? { ...counters, unreadable: this.unreadableTotal } : counters;
  }

  private open(namespace: string, key: string, entry: Entry | undefined): Entry | undefined {
    if (!entry) return undefined;
    if ((entry.flags & EntryFlags.SEALED) === 0) return entry;
    const sealed = Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength);
    const idEnd = 1 + (sealed[0] as number);
    const keyId = sealed.toString("latin1", 1, idEnd);
    const value = this.encryption.ring.open(keyId, sealed.subarray(idEnd), valuePlace(namespace, key, entry.version));
    if (value) return { ...entry, value, flags: entry.flags & ~EntryFlags.SEALED };
    this.inner.counters(namespace).unreadable++;
    this.unreadableTotal++;
    return undefined;
  }
}
