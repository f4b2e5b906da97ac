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
 * see HistoryIndex.mayHaveBeenRemoved over [first invoked − B, second completed] — B because
 * an invalidation may reach this instance that much later. In short: an Invalidate of it (or of
 * a newer Set's value that replaced it), a TTL of either running out, or a Redis outage.
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
  return index.mayHaveBeenRemoved(op.namespace, item.key, value, op.invokedAt - bound, later.op.completedAt);
}
