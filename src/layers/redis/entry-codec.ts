import type { Encryption } from "../../crypto/key-ring.js";
import { type Entry, EntryFlags } from "../../engine/entry.js";
import { decodeEntry, encodeEntry, UNREADABLE } from "./envelope.js";

/**
 * Entries to and from the envelopes Redis stores, sealed with the namespace's key when it has
 * one (see envelope.ts for the format).
 */
export class EntryCodec {
  /**
   * @param onUnreadable told of each sealed value that does not open (its key is not in the
   *   ring, or it was tampered with): it reads as absent.
   */
  constructor(
    private readonly encryption: Encryption | undefined,
    private readonly onUnreadable: (namespace: string) => void,
  ) {}

  /**
   * A decoded entry, or undefined for anything that is not a live value (tombstones included).
   * A sealed value that does not open is reported as unreadable and read as absent.
   */
  live(namespace: string, key: string, bytes: Buffer | null | undefined): Entry | undefined {
    if (!bytes) return undefined;
    const entry = decodeEntry(bytes, this.encryption?.ring, namespace, key);
    if (entry === UNREADABLE) {
      this.onUnreadable(namespace);
      return undefined;
    }
    return entry && (entry.flags & EntryFlags.TOMBSTONE) === 0 ? entry : undefined;
  }

  /** The envelope of an entry, sealed with the namespace's key when it has one. */
  envelope(namespace: string, key: string, entry: Entry): Buffer {
    const keyId = this.encryption?.keyFor(namespace);
    if (keyId === undefined || !this.encryption) return encodeEntry(entry);
    return encodeEntry(entry, { keyId, ring: this.encryption.ring, namespace, key });
  }
}
