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
    const reads = byInstanceKey.get(id) ?? [];
    reads.push(read);
    byInstanceKey.set(id, reads);
  }
  const violations: Violation[] = [];
  for (const reads of byInstanceKey.values()) {
    for (const [later, worst] of lowered(index, reads, bound)) {
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

/**
 * The reads of one instance and key that went below an earlier one, each with the highest such
 * earlier read. Each read is compared with the reads that completed before it started but not
 * before the start of the latest of them (the frontier): older reads were compared with that
 * one already, and a decrease across several reads shows as a decrease between two of them —
 * so a long history is judged in near-linear time instead of comparing every pair.
 */
function lowered(index: HistoryIndex, reads: Read[], bound: number): [Read, Read][] {
  const byInvoke = [...reads].sort((a, b) => a.op.invokedAt - b.op.invokedAt);
  const byCompletion = [...reads].sort((a, b) => a.op.completedAt - b.op.completedAt);
  const found: [Read, Read][] = [];
  let completed = 0; // reads of byCompletion that completed before the current read started
  for (const later of byInvoke) {
    while (completed < byCompletion.length && (byCompletion[completed] as Read).op.completedAt < later.op.invokedAt) {
      completed++;
    }
    if (completed === 0) continue;
    let frontier = Number.NEGATIVE_INFINITY;
    for (let i = completed - 1; i >= 0 && i >= completed - 64; i--) {
      frontier = Math.max(frontier, (byCompletion[i] as Read).op.invokedAt);
    }
    let worst: Read | undefined;
    for (let i = completed - 1; i >= 0; i--) {
      const earlier = byCompletion[i] as Read;
      if (earlier.op.completedAt < frontier) break;
      if (earlier.item.version <= later.item.version) continue;
      if (excused(index, earlier, later, bound)) continue;
      if (!worst || earlier.item.version > worst.item.version) worst = earlier;
    }
    if (worst) found.push([later, worst]);
  }
  return found;
}

function excused(index: HistoryIndex, earlier: Read, later: Read, bound: number): boolean {
  const { op, item } = earlier;
  const value = index.value(item.valueId);
  return index.mayHaveBeenRemoved(op.namespace, item.key, value, op.invokedAt - bound, later.op.completedAt);
}
