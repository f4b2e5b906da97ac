/** Segment of the policy an entry lives in. */
export const Segment = {
  /** Admission window (LRU). */
  Window: 0,
  /** Main space, probation part of the segmented LRU. */
  Probation: 1,
  /** Main space, protected part of the segmented LRU. */
  Protected: 2,
  /** Free slot, or a list sentinel. */
  Removed: 3,
} as const;

/** One of the {@link Segment} values. */
export type Segment = (typeof Segment)[keyof typeof Segment];

/** `expiresAt` of an entry that never expires. */
export const NEVER = Number.POSITIVE_INFINITY;

/** "No slot" in links and lookups. */
export const NONE = -1;

/**
 * Entry storage as parallel arrays indexed by slot ("struct of arrays"). A JS object per
 * entry costs 24 bytes of header plus 8 per field on Node's default (uncompressed-pointer)
 * V8, over 100 bytes for the ten fields an entry needs; here an entry costs about 45 bytes
 * of arrays. Each slot carries two pairs of intrusive links: access order (`prev`/`next`)
 * and timer wheel (`timerPrev`/`timerNext`). The first `reserved` slots are list sentinels.
 * Free slots are chained through `next`. Arrays grow by doubling up to `maxSlots`.
 */
export class EntryTable<V> {
  keys: string[];
  values: (V | undefined)[];
  /** 30-bit key hash, computed once on insertion and reused for every sketch access. */
  hashes: Int32Array;
  /** Policy weight in bytes: value size + key size + fixed per-entry overhead. */
  weights: Uint32Array;
  segments: Uint8Array;
  /** Absolute expiry in clock ms, or {@link NEVER}. */
  expiresAt: Float64Array;
  prev: Int32Array;
  next: Int32Array;
  timerPrev: Int32Array;
  timerNext: Int32Array;
  private capacity: number;
  private readonly maxSlots: number;
  private freeHead = NONE;
  private used: number;

  constructor(reserved: number, maxEntries: number) {
    this.maxSlots = reserved + maxEntries + 1;
    this.capacity = Math.min(this.maxSlots, reserved + 1024);
    this.keys = new Array<string>(this.capacity).fill("");
    this.values = new Array<V | undefined>(this.capacity).fill(undefined);
    this.hashes = new Int32Array(this.capacity);
    this.weights = new Uint32Array(this.capacity);
    this.segments = new Uint8Array(this.capacity).fill(Segment.Removed);
    this.expiresAt = new Float64Array(this.capacity).fill(NEVER);
    this.prev = new Int32Array(this.capacity);
    this.next = new Int32Array(this.capacity);
    this.timerPrev = new Int32Array(this.capacity).fill(NONE);
    this.timerNext = new Int32Array(this.capacity).fill(NONE);
    for (let i = 0; i < reserved; i++) {
      this.prev[i] = i;
      this.next[i] = i;
      this.timerPrev[i] = i;
      this.timerNext[i] = i;
    }
    this.used = reserved;
  }

  /** Takes a free slot and fills it; links are left to the caller. */
  allocate(key: string, value: V, hash: number, weight: number, segment: Segment, expiresAt: number): number {
    let slot = this.freeHead;
    if (slot !== NONE) {
      this.freeHead = this.next[slot]!;
    } else {
      if (this.used === this.capacity) this.grow();
      slot = this.used++;
    }
    this.keys[slot] = key;
    this.values[slot] = value;
    this.hashes[slot] = hash;
    this.weights[slot] = weight;
    this.segments[slot] = segment;
    this.expiresAt[slot] = expiresAt;
    this.timerPrev[slot] = NONE;
    this.timerNext[slot] = NONE;
    return slot;
  }

  /** Returns an unlinked slot to the free list, dropping its key and value references. */
  free(slot: number): void {
    this.keys[slot] = "";
    this.values[slot] = undefined;
    this.segments[slot] = Segment.Removed;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
  }

  private grow(): void {
    const capacity = Math.min(this.maxSlots, this.capacity * 2);
    if (capacity <= this.capacity) throw new Error("EntryTable: capacity exceeded");
    const extend = <T extends Int32Array | Uint32Array | Uint8Array | Float64Array>(array: T, fill: number): T => {
      const grown = new (array.constructor as new (n: number) => T)(capacity);
      grown.set(array);
      grown.fill(fill, this.capacity);
      return grown;
    };
    for (let i = this.capacity; i < capacity; i++) {
      this.keys.push("");
      this.values.push(undefined);
    }
    this.hashes = extend(this.hashes, 0);
    this.weights = extend(this.weights, 0);
    this.segments = extend(this.segments, Segment.Removed);
    this.expiresAt = extend(this.expiresAt, NEVER);
    this.prev = extend(this.prev, 0);
    this.next = extend(this.next, 0);
    this.timerPrev = extend(this.timerPrev, NONE);
    this.timerNext = extend(this.timerNext, NONE);
    this.capacity = capacity;
  }
}

/**
 * An intrusive circular doubly linked list of table slots in access order (head = least
 * recently used, tail = most recently used) with running entry and weight totals.
 */
export class AccessList<V> {
  /** Entries in the list. */
  count = 0;
  /** Sum of the entries' weights. */
  weight = 0;
  private readonly table: EntryTable<V>;
  /** Sentinel slot: `next[sentinel]` is the LRU entry, `prev[sentinel]` the MRU entry. */
  private readonly sentinel: number;

  constructor(table: EntryTable<V>, sentinel: number) {
    this.table = table;
    this.sentinel = sentinel;
  }

  /** The least recently used slot, or NONE when empty. */
  first(): number {
    const slot = this.table.next[this.sentinel]!;
    return slot === this.sentinel ? NONE : slot;
  }

  /** The slot after `slot` towards the MRU end, or NONE at the end. */
  after(slot: number): number {
    const next = this.table.next[slot]!;
    return next === this.sentinel ? NONE : next;
  }

  /** Appends `slot` at the MRU end. */
  push(slot: number): void {
    const { prev, next } = this.table;
    const sentinel = this.sentinel;
    const tail = prev[sentinel]!;
    prev[slot] = tail;
    next[slot] = sentinel;
    next[tail] = slot;
    prev[sentinel] = slot;
    this.count++;
    this.weight += this.table.weights[slot]!;
  }

  /** Unlinks `slot`, which must be in this list. */
  remove(slot: number): void {
    const { prev, next } = this.table;
    const before = prev[slot]!;
    const after = next[slot]!;
    next[before] = after;
    prev[after] = before;
    this.count--;
    this.weight -= this.table.weights[slot]!;
  }

  /** Moves `slot`, which must be in this list, to the MRU end. */
  moveToBack(slot: number): void {
    const { prev, next } = this.table;
    const sentinel = this.sentinel;
    const tail = prev[sentinel]!;
    if (tail === slot) return;
    const before = prev[slot]!;
    const after = next[slot]!;
    next[before] = after;
    prev[after] = before;
    prev[slot] = tail;
    next[slot] = sentinel;
    next[tail] = slot;
    prev[sentinel] = slot;
  }

  /** Forgets all entries (the caller frees their slots). */
  reset(): void {
    this.table.next[this.sentinel] = this.sentinel;
    this.table.prev[this.sentinel] = this.sentinel;
    this.count = 0;
    this.weight = 0;
  }
}
