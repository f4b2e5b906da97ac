import { describeFault, describeOp } from "../describe.js";
import { type BulkGetOp, type GetOp, type ReadItem, readItems } from "../history.js";
import type { HistoryIndex } from "./history-index.js";
import type { Violation } from "./violation.js";

interface Read {
  op: GetOp | BulkGetOp;
  item: ReadItem;
}

/**
 * Monotonic reads per instance: for two reads of one key on one instance that do not overlap
 * (the second invoked after the first completed), the second does not return a lower version.
 *
 * A lower version is legitimate only when the first value may have been removed in between,
 * and then reloaded (the origin's versions are small, below any Set's automatic version):
 * - an Invalidate targeting the key (any outcome: a failed one may have applied in part)
 *   overlaps [first invoked − B, second completed] — B because it may reach this instance
 *   that much later;
 * - the first value carried a TTL that may have run out before the second read completed;
 * - Redis was out of reach between the first value's write (or the first read) − B and the
 *   second read: no shared copy, and an instance that stopped trusting its L1 (or restarted)
 *   may reload from the origin.
 * An instance restart alone does not excuse it: L2 still holds the newer version.
 * Not-found answers, fallbacks and values without a version are not compared.
 */
export function checkMonotonicReads(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const byInstanceKey = new Map<string, Read[]>();
  for (const read of readItems(history)) {
    const { op, item } = read;
    if (item.status !== "OK" || !item.found || item.version === 0n || item.source === "SOURCE_FALLBACK") continue;
    const id = `${op.instance}\u0000${op.namespace}\u0000${item.key}`;
    byInstanceKey.set(id, [...(byInstanceKey.get(id) ?? []), read]);
  }
  const violations: Violation[] = [];
  for (const reads of byInstanceKey.values()) {
    for (const later of reads) {
      let worst: Read | undefined;
      for (const earlier of reads) {
        if (earlier.op.completedAt >= later.op.invokedAt || earlier.item.version <= later.item.version) continue;
        if (excused(index, earlier, later, bound)) continue;
        if (!worst || earlier.item.version > worst.item.version) worst = earlier;
      }
      if (!worst) continue;
      violations.push({
        invariant: "monotonic-reads",
        summary: `${later.op.instance} served ${later.item.key} at v${later.item.version} after serving v${worst.item.version}, with nothing in between that removed it`,
        ops: [worst.op.id, later.op.id],
        evidence: [
          `first:  ${describeOp(history, worst.op, worst.item.key)}`,
          `then:   ${describeOp(history, later.op, later.item.key)}`,
          ...history.faults
            .filter((f) => f.startedAt < later.op.completedAt && f.endedAt > worst.op.invokedAt - bound)
            .map((f) => `fault:  ${describeFault(history, f)}`),
        ],
      });
    }
  }
  return violations;
}

function excused(index: HistoryIndex, earlier: Read, later: Read, bound: number): boolean {
  const { op, item } = earlier;
  const value = index.value(item.valueId);
  const tags = value?.tags ?? [];
  const from = op.invokedAt - bound;
  const to = later.op.completedAt;
  if (index.invalidationsBetween(op.namespace, item.key, tags, from, to).length > 0) return true;
  // A value we cannot identify could carry any tag.
  if (!value && index.invalidations(op.namespace).some((inv) => inv.invokedAt < to && inv.completedAt > from)) {
    return true;
  }
  if ((value?.mayExpireAt ?? Number.POSITIVE_INFINITY) < to) return true;
  const writtenAt = value?.set?.invokedAt ?? op.invokedAt;
  return index.redisOutageBetween(Math.min(writtenAt, op.invokedAt) - bound, to) !== undefined;
}
