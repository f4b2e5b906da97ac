import { AccessList, type EntryTable, NEVER, NONE, Segment } from "./entry-table.js";

/** Share of the main space given to the protected segment. */
const PERCENT_MAIN_PROTECTED = 0.8;
/** Largest window share; past the protected segment it takes from probation. */
const MAX_WINDOW_SHARE = 0.99;

/**
 * The three LRU segments of W-TinyLFU over one entry table: a window that new entries enter,
 * and a segmented main space — probation, and protected (80% of the main space) for entries
 * hit again — each bounded in entries and bytes by its share of the capacity. The window share
 * moves (window tuning): growing it takes from protected first, so probation keeps its size,
 * then from probation itself, up to 99%.
 */
export class Segments<V> {
  readonly window: AccessList<V>;
  readonly probation: AccessList<V>;
  readonly protected: AccessList<V>;
  private share: number;
  private protectedShare: number;
  /** Window + protected share: constant while the window is below it (probation keeps its size). */
  private readonly windowAndProtectedShare: number;
  private windowMaxEntries = 0;
  private protectedMaxEntries = 0;
  private protectedMaxBytes = 0;
  /** The window's byte bound (at least its entry's bytes come from it). */
  windowMaxBytes = 0;

  constructor(
    private readonly table: EntryTable<V>,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    windowShare: number,
  ) {
    // Slots 0..2 of the table are the three segments' sentinels.
    this.window = new AccessList(table, 0);
    this.probation = new AccessList(table, 1);
    this.protected = new AccessList(table, 2);
    this.share = windowShare;
    this.protectedShare = PERCENT_MAIN_PROTECTED * (1 - windowShare);
    this.windowAndProtectedShare = this.share + this.protectedShare;
    this.updateLimits();
  }

  /** The window's share of the capacity (0..0.99). */
  get windowShare(): number {
    return this.share;
  }

  /** Bytes resident in all three segments. */
  get weight(): number {
    return this.window.weight + this.probation.weight + this.protected.weight;
  }

  /** The segment list a resident slot is in. */
  listOf(slot: number): AccessList<V> {
    const segment = this.table.segments[slot];
    return segment === Segment.Window ? this.window : segment === Segment.Probation ? this.probation : this.protected;
  }

  /** A new entry enters the window. */
  admitToWindow(slot: number): void {
    this.window.push(slot);
  }

  /** A hit: to the MRU end of its segment; from probation up to protected (when it fits). */
  onAccess(slot: number): void {
    const table = this.table;
    switch (table.segments[slot]) {
      case Segment.Window:
        this.window.moveToBack(slot);
        break;
      case Segment.Probation:
        if (table.weights[slot]! > this.protectedMaxBytes || this.protectedMaxEntries === 0) {
          this.probation.moveToBack(slot);
          break;
        }
        this.probation.remove(slot);
        table.segments[slot] = Segment.Protected;
        this.protected.push(slot);
        this.demoteFromProtected();
        break;
      case Segment.Protected:
        this.protected.moveToBack(slot);
        break;
    }
  }

  /**
   * Moves what overflows the window to probation's MRU end, oldest first; returns the first
   * slot moved (the first admission candidate), or NONE.
   */
  spillWindow(): number {
    const window = this.window;
    let first = NONE;
    while (window.count > this.windowMaxEntries || window.weight > this.windowMaxBytes) {
      const slot = window.first();
      if (slot === NONE) break;
      window.remove(slot);
      this.table.segments[slot] = Segment.Probation;
      this.probation.push(slot);
      if (first === NONE) first = slot;
    }
    return first;
  }

  /** Moves the window to a share of the capacity (capped at 99%). */
  moveWindowTo(share: number): void {
    const target = Math.min(share, MAX_WINDOW_SHARE);
    if (target > this.share) this.growWindow(target - this.share);
    else if (target < this.share) this.shrinkWindow(this.share - target);
  }

  /** Grows the window by a share of the capacity, filling it from the main space's LRU ends. */
  growWindow(amount: number): void {
    const quota = Math.min(amount, MAX_WINDOW_SHARE - this.share);
    if (quota <= 0) return;
    this.share += quota;
    this.protectedShare = Math.max(0, this.windowAndProtectedShare - this.share);
    this.updateLimits();
    this.demoteFromProtected();
    const window = this.window;
    const table = this.table;
    for (;;) {
      let slot = this.probation.first();
      if (slot === NONE) slot = this.protected.first();
      if (slot === NONE) break;
      if (window.count + 1 > this.windowMaxEntries || window.weight + table.weights[slot]! > this.windowMaxBytes) break;
      this.listOf(slot).remove(slot);
      table.segments[slot] = Segment.Window;
      window.push(slot);
    }
  }

  /** Shrinks the window by a share of the capacity; what no longer fits goes to probation. */
  shrinkWindow(amount: number): void {
    const quota = Math.min(amount, this.share);
    if (quota <= 0) return;
    this.share -= quota;
    this.protectedShare = Math.max(0, this.windowAndProtectedShare - this.share);
    this.updateLimits();
    this.spillWindow();
  }

  private demoteFromProtected(): void {
    const list = this.protected;
    while (list.count > this.protectedMaxEntries || list.weight > this.protectedMaxBytes) {
      const slot = list.first();
      if (slot === NONE) break;
      list.remove(slot);
      this.table.segments[slot] = Segment.Probation;
      this.probation.push(slot);
    }
  }

  private updateLimits(): void {
    // The window rounds up (at least one entry), the protected segment rounds down.
    this.windowMaxEntries = Math.max(1, Math.ceil(this.share * this.maxEntries - 1e-9));
    this.protectedMaxEntries = Math.floor(this.protectedShare * this.maxEntries + 1e-9);
    const bytes = this.maxBytes;
    this.windowMaxBytes = Number.isFinite(bytes) ? Math.ceil(this.share * bytes) : NEVER;
    this.protectedMaxBytes = Number.isFinite(bytes) ? Math.floor(this.protectedShare * bytes) : NEVER;
  }
}
