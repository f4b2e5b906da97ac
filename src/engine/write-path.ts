import { CacheError, Status } from "../errors.js";
import type { EngineCore } from "./core.js";
import type { WriteBehindEvent } from "./events.js";
import type { LoadResult } from "./loader.js";
import type { NamespaceState, Namespaces } from "./namespaces.js";
import type { Placement } from "./placement.js";
import { explicitTtlLimitMs, type NamespaceSettings } from "./policy.js";
import type { WriteOptions, WriteResult } from "./types.js";
import type { Writer } from "./writer.js";

/** Rounds a write may lose to concurrent writes or invalidations before it gives up (ABORTED). */
const WRITE_ATTEMPTS = 3;

/**
 * Writes: bounds checked, versions ordered against the copies L1 and L2 hold, the origin
 * first (write-through) or Kafka first (write-behind), then the layers, then a notice so other
 * instances drop their older copies.
 */
export class WritePath {
  constructor(
    private readonly core: EngineCore,
    private readonly namespaces: Namespaces,
    private readonly placement: Placement,
  ) {}

  /**
   * Writes one key through the layers. With an explicit version older than a copy L1 or L2
   * holds, nothing changes and the answer says `applied: false` with the newer version;
   * without one, the write gets a version above every copy this instance can see. A write to
   * the origin (write-through) or Kafka (write-behind) goes out at every version the cache will
   * hold: when a newer copy got in first, out again above it. With an explicit version it is
   * applied once out: a concurrent write of a newer version then keeps its copy, at the origin
   * too (the sink keeps the highest version per key).
   */
  async set(namespace: string, key: string, value: Uint8Array, options: WriteOptions = {}): Promise<WriteResult> {
    const ns = this.namespaces.get(namespace);
    const { policies, events, versions, time } = this.core;
    const rule = policies.ruleFor(namespace, key);
    const settings = rule?.settings ?? policies.get(namespace);
    const writeMode = options.writeMode ?? settings.writeMode;
    if (value.byteLength > settings.maxValueBytes) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `value is ${value.byteLength} bytes; namespace ${namespace} accepts at most ${settings.maxValueBytes}`,
      );
    }
    const ttlLimit = explicitTtlLimitMs(settings);
    if (options.ttlMs !== undefined && options.ttlMs > ttlLimit) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `ttl ${options.ttlMs} ms is longer than namespace ${namespace} allows (${Math.floor(ttlLimit)} ms); raise the namespace's maxTtl to allow it`,
      );
    }
    const writer = writeMode === "write-through" ? this.core.writerFor(namespace, rule?.rule.name) : undefined;
    if (writeMode === "write-through" && !writer) {
      throw new CacheError(
        Status.FAILED_PRECONDITION,
        `namespace ${namespace} has no writer configured, so write mode ${writeMode} cannot be used`,
      );
    }
    if (writeMode === "write-behind" && !events?.writeBehind) {
      throw new CacheError(
        Status.FAILED_PRECONDITION,
        `write-behind for namespace ${namespace} needs Kafka (set kafka.brokers or MLCACHE_KAFKA_BROKERS)`,
      );
    }
    const requested = options.version ?? 0n;
    // A write that leaves the cache (to the origin, or Kafka for the sink) is versioned against
    // the shared copy too (from L1's alone when Redis does not answer and no version was asked
    // for: the Set still works through an outage), so that it rarely has to go out twice.
    const external = writer !== undefined || writeMode === "write-behind";
    const newest = await this.newestVersion(ns, settings, key, requested > 0n || external, requested === 0n);
    if (requested > 0n && newest > requested) return { version: newest, applied: false, writeMode };
    let version = requested > 0n ? requested : versions.next(newest);
    const tags = options.tags ?? [];
    // Out to the origin or Kafka before anything changes here (an acknowledged write is never
    // lost), at every version the cache will hold (the cache never holds one they did not get).
    const sendOut = external
      ? async (at: bigint) => {
          if (writer) await writeThrough(writer, namespace, key, value, at, tags);
          if (writeMode === "write-behind" && events?.writeBehind) {
            await writeBehind(events.writeBehind.bind(events), {
              namespace,
              key,
              value,
              version: at,
              tags,
              ttlMs: options.ttlMs,
            });
          }
        }
      : undefined;
    await sendOut?.(version);
    const result: LoadResult = { found: true, value, tags };
    if (options.ttlMs !== undefined) result.ttlMs = options.ttlMs;
    // A few rounds at most: each refusal means another writer just stored a newer version.
    for (let attempt = 1; ; attempt++) {
      const at = time.next();
      const entries = this.placement.entriesFor(ns, settings, key, result, at, 0, options.freshForMs, version);
      if ((await this.placement.store(ns, settings, key, entries)) !== "refused") break;
      const shared = await this.newestVersion(ns, settings, key, true);
      if (requested > 0n && shared >= requested) {
        // Out already at the asked version: ordered before the concurrent write of a version at
        // least as new, which the cache keeps, and so does the sink (the highest version wins).
        if (external) return { version, applied: true, writeMode };
        return { version: shared, applied: false, writeMode };
      }
      if (attempt === WRITE_ATTEMPTS) {
        throw new CacheError(
          Status.ABORTED,
          external
            ? `the write of ${namespace}/${key} went out at v${version} (the system of record may get it) but kept losing here to concurrent writes or invalidations; try again`
            : `the write of ${namespace}/${key} kept losing to concurrent writes or invalidations; try again`,
        );
      }
      // A newer copy (another Set, or a load that began after this Set chose its version): this
      // write is the later one, so it goes above it — out again first when it leaves the cache.
      // Refused by an invalidation's tombstone only: the same version again, at a later time.
      if (requested === 0n && (!external || shared >= version)) {
        const previous = version;
        version = versions.next(shared);
        await sendOut?.(version).catch((error: unknown) => {
          throw new CacheError(
            Status.ABORTED,
            `the write of ${namespace}/${key} went out at v${previous} (the system of record may get it), but a newer copy (v${shared}) was cached meanwhile and sending it again at v${version} failed (${(error as Error).message}); try again`,
          );
        });
      }
    }
    // Other instances drop their older copies of the key.
    void events
      ?.invalidated(namespace, { keys: [key], tags: [], version, cause: "set", at: time.next() })
      .catch(() => {});
    return { version, applied: true, writeMode };
  }

  /**
   * The newest version of a key this instance can see: L1's copy, and L2's when `askL2` (an
   * explicit version must be checked against the shared copy, so an unreachable L2 fails the
   * write with UNAVAILABLE rather than let an older version through).
   */
  private newestVersion(
    ns: NamespaceState,
    settings: NamespaceSettings,
    key: string,
    askL2: boolean,
    localWhenL2Fails = false,
  ): bigint | Promise<bigint> {
    const { l1, l2 } = this.core;
    const local = l1?.peek(ns.name, key)?.version ?? 0n;
    // No promise when L2 is not asked: this sits on every Set.
    if (!askL2 || !l2 || !settings.l2.enabled) return local;
    const shared = l2.currentVersion?.(ns.name, key) ?? l2.peek(ns.name, key).then((e) => e?.version ?? 0n);
    return shared.then(
      (version) => (version > local ? version : local),
      (error: unknown) => {
        if (localWhenL2Fails) return local;
        throw error;
      },
    );
  }
}

/** Commits a write-behind event to Kafka before the cache takes it; a failure fails the Set. */
async function writeBehind(send: (event: WriteBehindEvent) => Promise<void>, event: WriteBehindEvent): Promise<void> {
  try {
    await send(event);
  } catch (error) {
    if (error instanceof CacheError) throw error;
    throw new CacheError(
      Status.UNAVAILABLE,
      `write-behind of ${event.namespace}/${event.key} was not accepted by Kafka, nothing was changed: ${(error as Error).message}`,
    );
  }
}

/** Applies a write at the origin before the cache takes it; a failure fails the Set. */
async function writeThrough(
  writer: Writer,
  namespace: string,
  key: string,
  value: Uint8Array,
  version: bigint,
  tags: readonly string[],
): Promise<void> {
  let failed: Error | undefined;
  try {
    failed = (await writer.store(namespace, [{ key, value, version, tags, deleted: false }]))?.get(key);
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
  }
  if (!failed) return;
  if (failed instanceof CacheError) throw failed;
  throw new CacheError(
    Status.UNAVAILABLE,
    `write-through of ${namespace}/${key} failed, nothing was cached: ${failed.message}`,
  );
}
