import { Cluster, type Redis } from "ioredis";
import type { Encryption } from "../../crypto/key-ring.js";
import type { Clock } from "../../engine/clock.js";
import type { EntryCodec } from "./entry-codec.js";
import { encodeEntry, sealedKeyId } from "./envelope.js";
import type { GuardedClient } from "./guarded-client.js";
import type { RedisKeys } from "./keys.js";
import { OP_CODES, VERSIONED_WRITES } from "./versioned-writes.js";

/** What one step of {@link resealStep} did. */
export interface ResealStep {
  /** Where the next step starts; "0" once the scan is complete. */
  cursor: string;
  /** Keys the step looked at. */
  scanned: number;
  /** Values rewritten under the target key. */
  resealed: number;
  /** Values already under the target key. */
  current: number;
  /** Tombstones, expired or unreadable values, and values a newer write replaced meanwhile. */
  skipped: number;
}

/** What a reseal step works with: the layer's client, key names, codec, ring and clock. */
export interface ResealContext {
  guard: GuardedClient;
  keys: RedisKeys;
  codec: EntryCodec;
  encryption: Encryption | undefined;
  clock: Clock;
}

/**
 * One bounded step of re-encrypting a namespace (an operator command, never the request
 * path): SCANs about `count` keys from `cursor` and rewrites each live value not sealed with
 * `keyId` (older keys, or clear) under it, through the versioned write, so a newer version or
 * a tombstone written meanwhile wins. Resume with the cursor it answers; "0" when done.
 */
export async function resealStep(
  context: ResealContext,
  namespace: string,
  keyId: string,
  cursor: string,
  count: number,
): Promise<ResealStep> {
  const { guard, keys, codec, encryption, clock } = context;
  if (!encryption?.ring.has(keyId)) throw new Error(`encryption key "${keyId}" is not in the key ring`);
  const client = guard.client;
  const [next, dataKeys] = await scanStep(guard, keys.dataPattern(namespace), cursor, count);
  const step: ResealStep = { cursor: next, scanned: dataKeys.length, resealed: 0, current: 0, skipped: 0 };
  if (dataKeys.length === 0) return step;
  // The keys of one MGET must share a slot on a cluster: there, one GET each (pipelined).
  const replies = await guard.call(() =>
    client instanceof Cluster
      ? Promise.all(dataKeys.map((dataKey) => client.getBuffer(dataKey)))
      : client.mgetBuffer(...dataKeys),
  );
  const now = clock.now();
  for (const [i, dataKey] of dataKeys.entries()) {
    const bytes = replies[i];
    const key = keys.keyOf(namespace, dataKey);
    if (bytes && sealedKeyId(bytes) === keyId) {
      step.current++;
      continue;
    }
    const entry = codec.live(namespace, key, bytes);
    const ttl = entry ? Math.ceil(entry.staleUntil - now) : 0;
    if (!entry || ttl <= 0) {
      step.skipped++; // gone, a tombstone, or unreadable here: nothing to carry over
      continue;
    }
    const sealed = encodeEntry(entry, { keyId, ring: encryption.ring, namespace, key });
    const [stored] = (await guard.call(() =>
      VERSIONED_WRITES.runKeys(client, [dataKey], [OP_CODES.set, sealed, ttl]),
    )) as (number | string)[];
    if (stored === 1) step.resealed++;
    else step.skipped++;
  }
  return step;
}

/**
 * One SCAN step over the keys matching `match`. On a cluster every master scans its own
 * keys, in the order of their addresses, and the cursor says where: "<master>:<its cursor>"
 * ("0" starts at the first master and ends after the last).
 */
async function scanStep(
  guard: GuardedClient,
  match: string,
  cursor: string,
  count: number,
): Promise<[string, string[]]> {
  const client = guard.client;
  if (!(client instanceof Cluster)) return guard.call(() => client.scan(cursor, "MATCH", match, "COUNT", count));
  const address = (node: Redis) => `${node.options.host}:${node.options.port}`;
  const masters = client.nodes("master").sort((a, b) => address(a).localeCompare(address(b)));
  const parsed = cursor === "0" ? ["0", "0"] : /^(\d+):(\d+)$/.exec(cursor)?.slice(1);
  const index = Number(parsed?.[0]);
  const master = masters[index];
  if (!parsed || !master) {
    throw new Error(
      `cursor "${cursor}" does not fit this cluster (${masters.length} masters): it takes "<master>:<cursor>" from an earlier step, or "0" to start over`,
    );
  }
  const [next, found] = await guard.call(() => master.scan(parsed[1] as string, "MATCH", match, "COUNT", count));
  if (next !== "0") return [`${index}:${next}`, found];
  return [index + 1 < masters.length ? `${index + 1}:0` : "0", found];
}
