/** Counters of one namespace, kept by the manager (layers keep their own as well). */
export class NamespaceStats {
  /** Gets answered, whatever the source. */
  requests = 0;
  /** L1 lookups that found a usable entry / found none. */
  l1Hits = 0;
  l1Misses = 0;
  l1Puts = 0;
  /** L2 hits the promotion rule kept out of L1 (never, too few hits, admission would refuse). */
  promotionsRefused = 0;
  /** L2 lookups that found a usable entry / found none. */
  l2Hits = 0;
  l2Misses = 0;
  l2Puts = 0;
  /** Stale values served (stale-while-revalidate and fail-safe). */
  staleServed = 0;
  /** Gets answered with the fallback value. */
  fallbackServed = 0;
  /** Loader calls that returned a value or a definite "not found". */
  loadSuccesses = 0;
  /** Loader calls that failed or timed out. */
  loadFailures = 0;
  /** Requests that waited for another request's load (single-flight). */
  loadsCollapsed = 0;
  /** Keys loaded without the fleet lease: the lease store was unreachable, or the wait for a peer gave up. */
  loadsUncoordinated = 0;
  /** Loads started early by probabilistic (XFetch) refresh. */
  earlyRefreshes = 0;
  /** Loads run in the background (stale-while-revalidate, soft timeout, refresher). */
  backgroundRefreshes = 0;
  /** Recent load durations, for quantiles. */
  readonly loadLatency = new LatencyWindow(1024);
}

/** The last N durations (ms) in a ring, for p50/p95/p99 without unbounded memory. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  /** Quantiles (0..1) of the recorded durations, 0 when none. */
  quantiles(...qs: number[]): number[] {
    if (this.count === 0) return qs.map(() => 0);
    const sorted = this.samples.slice(0, this.count).sort();
    return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  }

  /** The most recent duration, 0 when none. */
  get last(): number {
    if (this.count === 0) return 0;
    return this.samples[(this.next - 1 + this.samples.length) % this.samples.length] ?? 0;
  }
}
