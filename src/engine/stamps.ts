/**
 * Invalidation stamps for tags and key prefixes. An entry created at or before the stamp of
 * one of its tags, or of a prefix of its key, counts as gone: invalidating a group costs one
 * map write, never a scan. A stamp is forgotten once every entry it could hide has expired
 * anyway (`retainMs` after it was set), and the number of stamps is capped: past the cap the
 * whole namespace is stamped instead, which hides more than needed but never less.
 */
export class Stamps {
  private readonly tags = new Map<string, number>();
  private readonly prefixes = new Map<string, number>();
  /** Distinct prefix lengths, so a lookup probes one slice per length instead of every prefix. */
  private readonly prefixLengths = new Map<number, number>();
  private namespaceStamp = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxStamps = 100_000) {}

  /** Whether any stamp is set (a fast exit for the read path). */
  get empty(): boolean {
    return this.tags.size === 0 && this.prefixes.size === 0 && this.namespaceStamp === Number.NEGATIVE_INFINITY;
  }

  stampTag(tag: string, at: number): void {
    if (this.tags.size + this.prefixes.size >= this.maxStamps) {
      this.stampAll(at);
      return;
    }
    this.tags.set(tag, Math.max(at, this.tags.get(tag) ?? at));
  }

  stampPrefix(prefix: string, at: number): void {
    if (prefix === "") {
      this.stampAll(at);
      return;
    }
    if (this.tags.size + this.prefixes.size >= this.maxStamps) {
      this.stampAll(at);
      return;
    }
    if (!this.prefixes.has(prefix)) {
      this.prefixLengths.set(prefix.length, (this.prefixLengths.get(prefix.length) ?? 0) + 1);
    }
    this.prefixes.set(prefix, Math.max(at, this.prefixes.get(prefix) ?? at));
  }

  stampAll(at: number): void {
    this.namespaceStamp = Math.max(this.namespaceStamp, at);
  }

  /** Whether an entry with this key, creation time and tags was invalidated. */
  hides(key: string, createdAt: number, tags: readonly string[]): boolean {
    if (createdAt <= this.namespaceStamp) return true;
    if (this.tags.size > 0) {
      for (const tag of tags) {
        const stamp = this.tags.get(tag);
        if (stamp !== undefined && createdAt <= stamp) return true;
      }
    }
    if (this.prefixes.size > 0) {
      for (const length of this.prefixLengths.keys()) {
        if (length > key.length) continue;
        const stamp = this.prefixes.get(key.slice(0, length));
        if (stamp !== undefined && createdAt <= stamp) return true;
      }
    }
    return false;
  }

  /** Forgets stamps older than `before`: no live entry can be older than that. */
  prune(before: number): void {
    for (const [tag, stamp] of this.tags) if (stamp < before) this.tags.delete(tag);
    for (const [prefix, stamp] of this.prefixes) {
      if (stamp >= before) continue;
      this.prefixes.delete(prefix);
      const left = (this.prefixLengths.get(prefix.length) ?? 1) - 1;
      if (left === 0) this.prefixLengths.delete(prefix.length);
      else this.prefixLengths.set(prefix.length, left);
    }
    if (this.namespaceStamp < before) this.namespaceStamp = Number.NEGATIVE_INFINITY;
  }

  get size(): number {
    return this.tags.size + this.prefixes.size;
  }
}
