import { describeOp, describeWrite } from "../describe.js";
import type { SetOp, WriterWrite } from "../history.js";
import type { HistoryIndex } from "./history-index.js";
import { mayHaveChanged } from "./outcome.js";
import type { Violation } from "./violation.js";

/**
 * Write-behind (judged after the run went quiet):
 * - a Set acknowledged OK reaches the writer at least once: the writer received its value, or
 *   a value of another write-behind Set of the key that was not over before it began (the
 *   sink keeps only the last write of a key in a batch, and that one may be ordered after);
 * - a Set the service refused (outcome.ts: UNAVAILABLE saying nothing changed, …) never reaches it;
 * - the writer ends where the cache does: the last write it received for a key is not older than
 *   the newest acknowledged write-behind Set of the key (the cache keeps the highest version, so
 *   must the system of record, whatever order Kafka logged concurrent Sets in).
 * Other failures (DEADLINE_EXCEEDED, a connection that dropped under the call …) may or may not
 * have been applied: no claim.
 */
export function checkWriteBehind(index: HistoryIndex): Violation[] {
  return [...reached(index), ...converged(index)];
}

function converged(index: HistoryIndex): Violation[] {
  const { history } = index;
  const newest = new Map<string, SetOp>();
  for (const op of history.ops) {
    if (op.kind !== "set" || op.writeMode !== "write-behind" || op.status !== "OK" || !op.applied) continue;
    if (op.version === undefined) continue;
    const id = `${op.namespace}\u0000${op.key}`;
    const known = newest.get(id);
    if (!known || (known.version as bigint) < op.version) newest.set(id, op);
  }
  const last = new Map<string, WriterWrite>();
  for (const write of [...history.origin.writes].sort((a, b) => a.at - b.at)) {
    last.set(`${write.namespace}\u0000${write.key}`, write);
  }
  const violations: Violation[] = [];
  for (const [id, set] of newest) {
    const write = last.get(id);
    // Never reached at all: reported by reached().
    if (!write || write.version >= (set.version as bigint)) continue;
    violations.push({
      invariant: "write-behind",
      summary: `the writer ended at v${write.version} of ${set.key}, older than v${set.version} acknowledged by ${set.id}`,
      ops: [set.id],
      evidence: [`set:    ${describeOp(history, set)}`, `writer: ${describeWrite(history, write)}`],
    });
  }
  return violations;
}

function reached(index: HistoryIndex): Violation[] {
  const { history } = index;
  const sets = history.ops.filter((op): op is SetOp => op.kind === "set" && op.writeMode === "write-behind");
  const received = new Set(history.origin.writes.map((w) => w.valueId));
  const violations: Violation[] = [];
  for (const set of sets) {
    if (set.status === "OK") {
      if (received.has(set.valueId)) continue;
      const covering = history.origin.writes.find((write) => {
        const other = index.value(write.valueId)?.set;
        return other && other !== set && other.key === set.key && other.completedAt >= set.invokedAt;
      });
      if (covering) continue;
      violations.push({
        invariant: "write-behind",
        summary: `${set.id} was acknowledged but its write never reached the writer`,
        ops: [set.id],
        evidence: [
          `set:    ${describeOp(history, set)}`,
          ...history.origin.writes
            .filter((w) => w.namespace === set.namespace && w.key === set.key)
            .slice(-3)
            .map((w) => `writer: ${describeWrite(history, w)}`),
        ],
      });
    } else if (!mayHaveChanged(set) && received.has(set.valueId)) {
      const write = history.origin.writes.find((w) => w.valueId === set.valueId);
      violations.push({
        invariant: "write-behind",
        summary: `${set.id} answered ${set.status} (nothing changed) but its write reached the writer`,
        ops: [set.id],
        evidence: [
          `set:    ${describeOp(history, set)}`,
          ...(write ? [`writer: ${describeWrite(history, write)}`] : []),
        ],
      });
    }
  }
  return violations;
}
