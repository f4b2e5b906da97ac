import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { abortError } from "./failures.js";

/** Options of a {@link BatchingLoader}. */
export interface BatchingOptions {
  /** How long the first key of a batch waits for others, in ms. Default 2. */
  windowMs?: number;
  /** A batch is sent as soon as it has this many distinct keys. Default 100. */
  maxBatchSize?: number;
}

interface Waiter {
  resolve: (result: LoadResult) => void;
  reject: (error: Error) => void;
}

/** Keys gathered for one `loadMany`, with who waits for each. */
interface Batch {
  readonly namespace: string;
  readonly waiters: Map<string, Waiter[]>;
  /** Aborted when every waiter has left, so the origin call is cancelled. */
  readonly controller: AbortController;
  activeWaiters: number;
  timer: NodeJS.Timeout | undefined;
}

function flightId(namespace: string, key: string): string {
  return `${namespace}\u0000${key}`;
}

/** Counters of a batching loader. */
export interface BatchingCounters {
  /** `load` calls received. */
  loads: number;
  /** `loadMany` calls sent to the inner loader for gathered loads. */
  batches: number;
  /** Keys sent in those batches (distinct per batch). */
  keysBatched: number;
  /** Loads that joined a key already in the open batch or in a sent one. */
  duplicates: number;
}

/**
 * Gathers `load` calls of one namespace into `loadMany` calls on the inner loader: keys that
 * arrive within `windowMs` of the batch's first key, or until `maxBatchSize` distinct keys,
 * go out together. Each caller gets its own key's result or error (a key the origin left out
 * is "not found"); a key asked twice in one window, or while its batch is under way, is
 * requested once. A caller whose signal
 * aborts leaves at once; the batch call is cancelled when nobody waits for it any more.
 * Without `loadMany` on the inner loader, every call passes straight through.
 *
 *   const loader = new BatchingLoader(resilientGrpcOrigin, { windowMs: 2, maxBatchSize: 100 });
 */
export class BatchingLoader implements Loader {
  readonly windowMs: number;
  readonly maxBatchSize: number;
  readonly loadMany?: (
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ) => Promise<Map<string, LoadResult | Error>>;
  private readonly open = new Map<string, Batch>();
  /** Sent batches by `namespace U+0000 key`, until their answer arrives. */
  private readonly sent = new Map<string, Batch>();
  private readonly counts: BatchingCounters = { loads: 0, batches: 0, keysBatched: 0, duplicates: 0 };

  constructor(
    private readonly inner: Loader,
    options: BatchingOptions = {},
  ) {
    this.windowMs = Math.max(0, options.windowMs ?? 2);
    this.maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 100));
    const loadMany = inner.loadMany?.bind(inner);
    if (loadMany) this.loadMany = (namespace, keys, context) => this.loadChunked(loadMany, namespace, keys, context);
  }

  load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    if (!this.inner.loadMany) return this.inner.load(namespace, key, context);
    const { signal } = context;
    if (signal.aborted) return Promise.reject(abortError(signal));
    this.counts.loads++;
    return new Promise<LoadResult>((resolve, reject) => {
      let settled = false;
      const waiter: Waiter & { onAbort: () => void } = {
        onAbort: () => {},
        resolve: (result) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", waiter.onAbort);
          resolve(result);
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", waiter.onAbort);
          reject(error);
        },
      };
      // A key already in the open batch, or in a sent batch still waiting for its answer, is
      // joined rather than asked again.
      const sent = this.sent.get(flightId(namespace, key));
      const target = sent && !sent.controller.signal.aborted ? sent : this.batchFor(namespace);
      target.activeWaiters++;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(abortError(signal));
        if (--target.activeWaiters === 0) this.abandon(target, abortError(signal));
      };
      waiter.onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
      const existing = target.waiters.get(key);
      if (existing) {
        this.counts.duplicates++;
        existing.push(waiter);
      } else {
        target.waiters.set(key, [waiter]);
        if (target.waiters.size >= this.maxBatchSize) this.flush(target);
      }
    });
  }

  /** What the loader has gathered and sent so far. */
  counters(): BatchingCounters {
    return { ...this.counts };
  }

  /** The open batch of a namespace, started (with its timer) if there is none. */
  private batchFor(namespace: string): Batch {
    const current = this.open.get(namespace);
    if (current) return current;
    const batch: Batch = {
      namespace,
      waiters: new Map(),
      controller: new AbortController(),
      activeWaiters: 0,
      timer: undefined,
    };
    batch.timer = setTimeout(() => this.flush(batch), this.windowMs);
    this.open.set(namespace, batch);
    return batch;
  }

  /** Nobody waits for the batch any more: close it if still open, cancel its call if sent. */
  private abandon(batch: Batch, reason: Error): void {
    clearTimeout(batch.timer);
    if (this.open.get(batch.namespace) === batch) this.open.delete(batch.namespace);
    batch.controller.abort(reason);
  }

  /** Closes a batch and sends it; settles every waiter from the answer. */
  private flush(batch: Batch): void {
    clearTimeout(batch.timer);
    if (this.open.get(batch.namespace) === batch) this.open.delete(batch.namespace);
    const keys = [...batch.waiters.keys()];
    if (keys.length === 0 || batch.controller.signal.aborted) return;
    const loadMany = this.inner.loadMany?.bind(this.inner);
    if (!loadMany) return;
    this.counts.batches++;
    this.counts.keysBatched += keys.length;
    for (const key of keys) this.sent.set(flightId(batch.namespace, key), batch);
    const settleAll = (outcome: (key: string) => LoadResult | Error) => {
      for (const key of keys) {
        const id = flightId(batch.namespace, key);
        if (this.sent.get(id) === batch) this.sent.delete(id);
      }
      for (const [key, waiters] of batch.waiters) {
        const result = outcome(key);
        for (const waiter of waiters) {
          if (result instanceof Error) waiter.reject(result);
          else waiter.resolve(result);
        }
      }
    };
    Promise.resolve()
      .then(() => loadMany(batch.namespace, keys, { signal: batch.controller.signal }))
      .then(
        (results) => settleAll((key) => results.get(key) ?? { found: false }),
        (error: unknown) => {
          const reason = error instanceof Error ? error : new Error(String(error));
          settleAll(() => reason);
        },
      );
  }

  /** A direct `loadMany` (e.g. from BulkGet), split into calls of at most `maxBatchSize` keys. */
  private async loadChunked(
    loadMany: NonNullable<Loader["loadMany"]>,
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ): Promise<Map<string, LoadResult | Error>> {
    const distinct = [...new Set(keys)];
    if (distinct.length <= this.maxBatchSize) return loadMany(namespace, distinct, context);
    const chunks: string[][] = [];
    for (let i = 0; i < distinct.length; i += this.maxBatchSize) chunks.push(distinct.slice(i, i + this.maxBatchSize));
    const answers = await Promise.all(
      chunks.map((chunk) =>
        loadMany(namespace, chunk, context).catch((error: unknown) => {
          const reason = error instanceof Error ? error : new Error(String(error));
          return new Map<string, LoadResult | Error>(chunk.map((key) => [key, reason]));
        }),
      ),
    );
    const merged = new Map<string, LoadResult | Error>();
    for (const answer of answers) for (const [key, outcome] of answer) merged.set(key, outcome);
    return merged;
  }
}
