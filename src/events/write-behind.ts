import { createHash, randomUUID } from "node:crypto";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, timestampNow } from "@bufbuild/protobuf/wkt";
import type { Context } from "@opentelemetry/api";
import type { Consumer, EachBatchPayload } from "kafkajs";
import { type Encryption, type KeyRing, valuePlace } from "../crypto/key-ring.js";
import type { WriteBehindEvent } from "../engine/events.js";
import type { StoreItemInput, Writer } from "../engine/writer.js";
import {
  DeadLetterEventSchema,
  DeadLetterKind,
  type WriteEvent,
  WriteEventSchema,
} from "../gen/mlcache/v1/events_pb.js";
import type { Logger } from "../logger.js";
import {
  ATTR,
  consumerSpan,
  contextFromKafkaHeaders,
  type KafkaHeaders,
  type TracingOptions,
  withTraceContext,
} from "../telemetry/tracing.js";
import type { KafkaConnection } from "./kafka.js";
import type { TransactionalPublisher } from "./transactions.js";

/**
 * Publishes a write-behind write in a Kafka transaction (gathered with the other writes of the
 * moment); resolves once it is committed, durable in Kafka. Rejects with a CacheError:
 * UNAVAILABLE when it was not committed and never will be (the sink reads committed records
 * only), DEADLINE_EXCEEDED when the commit was sent but its outcome is unknown.
 */
export async function publishWrite(
  publisher: TransactionalPublisher,
  topic: string,
  event: WriteBehindEvent,
  instanceId: string,
  encryption?: Encryption,
): Promise<void> {
  const keyId = encryption?.keyFor(event.namespace);
  const message = create(WriteEventSchema, {
    namespace: event.namespace,
    key: event.key,
    value:
      keyId && encryption
        ? encryption.ring.seal(keyId, event.value, valuePlace(event.namespace, event.key, event.version))
        : event.value,
    ...(keyId ? { encryptionKeyId: keyId } : {}),
    version: event.version,
    tags: [...event.tags],
    ...(event.ttlMs !== undefined ? { ttl: durationFromMs(event.ttlMs) } : {}),
    originInstance: instanceId,
    time: timestampNow(),
    eventId: randomUUID(),
  });
  // Keyed by namespace/key: the writes of one key stay in order in one partition. The Set's
  // trace goes along in the record's headers (none while tracing is off), for the sink to continue.
  const headers = withTraceContext<Record<string, string>>({});
  await publisher.publish([
    {
      topic,
      key: `${event.namespace}/${event.key}`,
      value: toBinary(WriteEventSchema, message),
      ...(headers.traceparent ? { headers } : {}),
    },
  ]);
}

/** Options of the write-behind sink. */
export interface SinkOptions {
  connection: KafkaConnection;
  /** The writer of a key: its key rule's when the rule names one, else its namespace's. */
  writerFor: (namespace: string, key: string) => Writer | undefined;
  /** Consumer group of all sink processes (default "mlcache-sink"). */
  groupId?: string;
  /** Attempts per batch before its writes are dead-lettered (default 5). */
  maxAttempts?: number;
  /** Backoff between attempts: from this (ms), doubling, at most 5 s (default 200). */
  initialBackoffMs?: number;
  /** Last-applied fingerprints remembered for de-duplication (default 100,000 keys). */
  rememberKeys?: number;
  logger?: Logger;
  instanceId?: string;
  /** Opens the values of encrypted namespaces' events (their `encryption_key_id`). */
  keyRing?: KeyRing | undefined;
  /** Tracing on: each writer call runs under a span continuing the Sets' traces (record headers). */
  tracing?: TracingOptions | undefined;
}

/** What the sink has done so far. */
export interface SinkCounters {
  /** Write events read from Kafka. */
  received: number;
  /** Items handed to writers. */
  applied: number;
  /** Events dropped because a newer write of the same key (higher version, or same version later in the log) was in the same batch. */
  supersededInBatch: number;
  /** Events skipped because a higher version of the key was already applied (a concurrent Set that Kafka logged first). */
  olderThanApplied: number;
  /** Events skipped because the same value was the last one applied for the key. */
  unchanged: number;
  /** Writer calls that failed (each retried). */
  failedAttempts: number;
  /** Writes sent to the dead-letter topic. */
  deadLettered: number;
  /** Batches committed. */
  batches: number;
  /** Sealed events whose value did not open (key not in the ring, tampered, moved): dead-lettered, never written. */
  unreadable: number;
}

/** What the sink remembers of the write it last applied for a key. */
interface Applied {
  print: string;
  version: bigint;
}

/**
 * Whether a key's write `kept` (in this batch, or applied before) wins over `event`, read after
 * it: a higher version wins, as it does in the cache (L2 keeps the highest version). Kafka's
 * order is the order the Sets' records were appended, which two concurrent Sets can take in
 * either order whatever their versions; writing the log's last would leave the system of record
 * at the older one while the cache serves the newer. Same version, or no version (0): the log's
 * order.
 */
function supersedes(kept: { version: bigint }, event: WriteEvent): boolean {
  return kept.version > 0n && event.version > 0n && kept.version > event.version;
}

function fingerprint(event: WriteEvent, value: Uint8Array): string {
  return `${event.deleted ? "d" : "w"}:${createHash("sha1").update(value).digest("base64")}`;
}

/**
 * `mlcache sink`: applies write-behind events to each key's writer (its key rule's, else its
 * namespace's). Per batch of a partition it keeps only the newest write per key (highest
 * version; the log's last among equals), skips a write older than the one last applied for that
 * key or identical to it, sends each writer's items in key order in one call, and commits the
 * offsets only after the writer succeeded. A batch that keeps failing is retried with backoff,
 * then its writes go to the dead-letter topic with the reason, and the sink moves on. After a
 * crash, uncommitted batches are applied again (at-least-once: duplicates are possible, loss
 * is not). It reads records of committed Kafka transactions only (read_committed), so a write
 * whose Set was answered UNAVAILABLE (its transaction aborted) never reaches a writer.
 */
export class WriteBehindSink {
  readonly counters: SinkCounters = {
    received: 0,
    applied: 0,
    supersededInBatch: 0,
    olderThanApplied: 0,
    unchanged: 0,
    failedAttempts: 0,
    deadLettered: 0,
    batches: 0,
    unreadable: 0,
  };
  private consumer: Consumer | undefined;
  /** Opened values of sealed events (the events keep their sealed bytes, dead letters too). */
  private readonly opened = new WeakMap<WriteEvent, Uint8Array>();
  /** The trace each event's Set ran in (its record's `traceparent`), while tracing is on. */
  private readonly traces = new WeakMap<WriteEvent, Context>();
  /** Per key, the fingerprint and version of the write last applied (bounded: `rememberKeys`). */
  private readonly lastApplied = new Map<string, Applied>();

  constructor(private readonly options: SinkOptions) {}

  async start(): Promise<void> {
    const { connection } = this.options;
    const consumer = connection.kafka.consumer({
      groupId: this.options.groupId ?? "mlcache-sink",
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // Committed transactions only: a write whose Set was answered UNAVAILABLE was aborted.
      readUncommitted: false,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: connection.settings.topics.writes, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.applyBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private async applyBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    const latest = new Map<string, WriteEvent>();
    const unreadable: WriteEvent[] = [];
    for (const message of batch.messages) {
      if (!message.value) continue;
      this.counters.received++;
      let event: WriteEvent;
      try {
        const bytes = message.value;
        event = fromBinary(WriteEventSchema, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      } catch (error) {
        this.options.logger?.warn({ err: error, offset: message.offset }, "skipping a record that is not a WriteEvent");
        continue;
      }
      if (event.encryptionKeyId) {
        const value = this.options.keyRing?.open(
          event.encryptionKeyId,
          event.value,
          valuePlace(event.namespace, event.key, event.version),
        );
        if (!value) {
          this.counters.unreadable++;
          unreadable.push(event);
          continue;
        }
        this.opened.set(event, value);
      }
      if (this.options.tracing) {
        const trace = contextFromKafkaHeaders(message.headers as KafkaHeaders | undefined);
        if (trace) this.traces.set(event, trace);
      }
      const id = `${event.namespace}\u0000${event.key}`;
      const kept = latest.get(id);
      if (kept) {
        this.counters.supersededInBatch++;
        if (supersedes(kept, event)) continue;
      }
      latest.delete(id); // re-insert: the map keeps the order of each key's kept write
      latest.set(id, event);
    }
    for (const event of unreadable) {
      await this.deadLetter(
        [event],
        `the value does not decrypt with key "${event.encryptionKeyId}" (not in the sink's key ring, or changed bytes); not written`,
      );
    }
    // One group per namespace and writer: keys under a rule with a writer of its own go to it.
    const groups = new Map<string, Map<Writer | undefined, WriteEvent[]>>();
    for (const [id, event] of latest) {
      const applied = this.lastApplied.get(id);
      if (applied && supersedes(applied, event)) {
        this.counters.olderThanApplied++;
        continue;
      }
      if (applied?.print === fingerprint(event, this.valueOf(event))) {
        this.counters.unchanged++;
        continue;
      }
      let byWriter = groups.get(event.namespace);
      if (!byWriter) {
        byWriter = new Map();
        groups.set(event.namespace, byWriter);
      }
      const writer = this.options.writerFor(event.namespace, event.key);
      const list = byWriter.get(writer) ?? [];
      list.push(event);
      byWriter.set(writer, list);
    }
    for (const [namespace, byWriter] of groups) {
      for (const [writer, events] of byWriter) {
        if (!isRunning() || isStale()) return; // rebalanced away: the new owner applies it
        events.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        await this.applyWrites(namespace, writer, events, heartbeat);
      }
    }
    const last = batch.messages[batch.messages.length - 1];
    if (!last) return;
    resolveOffset(last.offset);
    // Committed only now, after every write of the batch was applied (or dead-lettered).
    await this.consumer?.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
    ]);
    this.counters.batches++;
  }

  /** One writer call per namespace, writer and batch, retried with backoff, dead-lettered at last. */
  private async applyWrites(
    namespace: string,
    writer: Writer | undefined,
    events: WriteEvent[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const maxAttempts = this.options.maxAttempts ?? 5;
    let pending = events;
    let lastError = writer ? "" : `namespace ${namespace} has no writer configured`;
    for (let attempt = 1; writer && attempt <= maxAttempts && pending.length > 0; attempt++) {
      const items: StoreItemInput[] = pending.map((e) => ({
        key: e.key,
        value: this.valueOf(e),
        version: e.version,
        tags: e.tags,
        deleted: e.deleted,
      }));
      try {
        const failed = await this.store(writer, namespace, items, pending, attempt);
        const succeeded = pending.filter((e) => !failed?.has(e.key));
        this.counters.applied += succeeded.length;
        for (const e of succeeded) {
          this.remember(`${namespace}\u0000${e.key}`, { print: fingerprint(e, this.valueOf(e)), version: e.version });
        }
        pending = pending.filter((e) => failed?.has(e.key));
        if (pending.length > 0) lastError = [...(failed?.values() ?? [])][0]?.message ?? "per-key failure";
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (pending.length === 0) return;
      this.counters.failedAttempts++;
      await heartbeat();
      if (attempt < maxAttempts) {
        const backoff = Math.min(5_000, (this.options.initialBackoffMs ?? 200) * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, backoff * Math.random()));
      }
    }
    await this.deadLetter(pending, lastError);
  }

  /** One writer call; with tracing, under a span continuing the traces of the events' Sets. */
  private store(writer: Writer, namespace: string, items: StoreItemInput[], events: WriteEvent[], attempt: number) {
    const { tracing } = this.options;
    if (!tracing) return writer.store(namespace, items);
    const parents: Context[] = [];
    for (const event of events) {
      const trace = this.traces.get(event);
      if (trace) parents.push(trace);
    }
    return consumerSpan(
      tracing,
      "mlcache.write_behind.apply",
      parents,
      { [ATTR.namespace]: namespace, [ATTR.keys]: items.length, "mlcache.attempt": attempt },
      () => writer.store(namespace, items),
    );
  }

  /** The event's value in clear: opened when it was sealed. */
  private valueOf(event: WriteEvent): Uint8Array {
    return this.opened.get(event) ?? event.value;
  }

  private async deadLetter(events: WriteEvent[], reason: string): Promise<void> {
    if (events.length === 0) return;
    const { connection } = this.options;
    const now = Date.now();
    const records = events.map((event) => ({
      key: `${event.namespace}/${event.key}`,
      value: toBinary(
        DeadLetterEventSchema,
        create(DeadLetterEventSchema, {
          kind: DeadLetterKind.WRITE,
          namespace: event.namespace,
          key: event.key,
          lastError: reason,
          failures: this.options.maxAttempts ?? 5,
          firstFailure: timestampFromMs(now),
          lastFailure: timestampFromMs(now),
          originInstance: this.options.instanceId ?? "",
          write: event,
        }),
      ),
    }));
    // If even this fails the batch is not committed, so nothing is lost: it is retried.
    await connection.send(connection.settings.topics.deadLetters, records);
    this.counters.deadLettered += events.length;
    this.options.logger?.error({ count: events.length, reason }, "write-behind writes dead-lettered");
  }

  private remember(id: string, applied: Applied): void {
    this.lastApplied.delete(id);
    this.lastApplied.set(id, applied);
    if (this.lastApplied.size > (this.options.rememberKeys ?? 100_000)) {
      const oldest = this.lastApplied.keys().next();
      if (!oldest.done) this.lastApplied.delete(oldest.value);
    }
  }
}
