type Generation<V> = Map<string, Map<string, V>>;

/**
 * A value for each of at most `capacity` keys (nested by namespace, so no key string is built),
 * the recently used ones kept, so memory stays bounded however many keys clients touch.
 * Recency is approximated with two generations (as in quick-lru): a touch finds the key in the
 * current generation with one lookup; a key found only in the previous generation moves up;
 * when the current generation holds capacity / 2 keys it becomes the previous one and the old
 * previous one is dropped. So the keys dropped are ones not touched for at least capacity / 2
 * touches of other keys, and the read path never reorders a list.
 *
 *   const rings = new RecentKeys<number[]>(1000, () => []); rings.touch("products", "42")?.push(now);
 */
export class RecentKeys<V> {
  private current: Generation<V> = new Map();
  private previous: Generation<V> = new Map();
  private currentSize = 0;
  private previousSize = 0;
  private readonly generationSize: number;

  /**
   * @param create makes the value of a key touched for the first time, or says (undefined)
   *   that the key is not to be kept; made once, so a touch allocates nothing for it.
   */
  constructor(
    readonly capacity: number,
    private readonly create: (namespace: string, key: string) => V | undefined,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError("capacity must be an integer of at least 2");
    this.generationSize = Math.floor(capacity / 2);
  }

  /** Keys held now (at most `capacity`). */
  get size(): number {
    return this.currentSize + this.previousSize;
  }

  /** The value of a key, created when new (unless `create` declines); marks it recently used. */
  touch(namespace: string, key: string): V | undefined {
    const found = this.current.get(namespace)?.get(key);
    if (found !== undefined) return found;
    const older = this.previous.get(namespace);
    const value = older?.get(key) ?? this.create(namespace, key);
    if (value === undefined) return undefined;
    if (older?.delete(key)) this.previousSize--;
    if (this.currentSize >= this.generationSize) {
      this.previous = this.current;
      this.previousSize = this.currentSize;
      this.current = new Map();
      this.currentSize = 0;
    }
    let keys = this.current.get(namespace);
    if (!keys) {
      keys = new Map();
      this.current.set(namespace, keys);
    }
    keys.set(key, value);
    this.currentSize++;
    return value;
  }

  /** The value of a key without marking it recent. */
  get(namespace: string, key: string): V | undefined {
    return this.current.get(namespace)?.get(key) ?? this.previous.get(namespace)?.get(key);
  }

  /** Keys and values of one namespace (or all), the current generation first. */
  *entries(namespace?: string): Generator<[namespace: string, key: string, value: V]> {
    for (const generation of [this.current, this.previous]) {
      for (const [ns, keys] of generation) {
        if (namespace !== undefined && ns !== namespace) continue;
        for (const [key, value] of keys) yield [ns, key, value];
      }
    }
  }
}
