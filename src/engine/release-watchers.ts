/**
 * Who waits for word of which lease (see {@link Coordination.watchReleases}): per key, the
 * listeners to call when its lease is released while wanted. A watch ends with the wait that
 * made it, so the map holds the leases waited for now and no more.
 */
export class ReleaseWatchers {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Calls `listener` on word of any of `keys`; returns the end of the watch. */
  watch(keys: readonly string[], listener: () => void): () => void {
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (set) set.add(listener);
      else this.byKey.set(key, new Set([listener]));
    }
    return () => {
      for (const key of keys) {
        const set = this.byKey.get(key);
        set?.delete(listener);
        if (set?.size === 0) this.byKey.delete(key);
      }
    };
  }

  /** Word that `key`'s lease was released: every listener watching it now is called. */
  tell(key: string): void {
    const set = this.byKey.get(key);
    if (set) for (const listener of [...set]) listener();
  }

  clear(): void {
    this.byKey.clear();
  }
}
