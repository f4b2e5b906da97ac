import { describeOp } from "../describe.js";
import type { GetPolicyOp, UpdatePolicyOp } from "../history.js";
import type { HistoryIndex } from "./history-index.js";
import { mayHaveChanged } from "./outcome.js";
import type { Violation } from "./violation.js";

/**
 * Policies: an acknowledged UpdatePolicy is in force on every instance within B. A GetPolicy
 * (on any instance) invoked later than the update's completion + B shows its marker (the L1
 * TTL it wrote), or the marker of another update that was not over before it began (a later
 * or concurrent change, whatever that one's outcome: one that failed with its outcome open,
 * e.g. its instance was killed after the policy log took it, may be in force too).
 */
export function checkPolicy(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const updates = history.ops
    .filter((op): op is UpdatePolicyOp => op.kind === "updatePolicy" && op.status === "OK")
    .sort((a, b) => a.completedAt - b.completedAt);
  // Per namespace and marker, the latest completion of an update that may have written it.
  const latestWith = new Map<string, number>();
  for (const update of history.ops) {
    if (update.kind !== "updatePolicy" || !mayHaveChanged(update)) continue;
    const id = `${update.namespace}\u0000${update.l1TtlSeconds}`;
    latestWith.set(id, Math.max(latestWith.get(id) ?? Number.NEGATIVE_INFINITY, update.completedAt));
  }
  const violations: Violation[] = [];
  for (const read of history.ops) {
    if (read.kind !== "getPolicy" || read.status !== "OK") continue;
    // The last update due on this instance by the read's start: the read must show it, or a
    // later or concurrent one (any earlier update is then covered too).
    let due: UpdatePolicyOp | undefined;
    for (const update of updates) {
      if (update.completedAt + bound >= read.invokedAt) break;
      if (update.namespace === read.namespace) due = update;
    }
    if (!due || shows(read, due, latestWith)) continue;
    violations.push({
      invariant: "policy",
      summary: `${read.instance} showed l1.ttl=${read.l1TtlSeconds}s ${Math.round(read.invokedAt - due.completedAt)} ms after ${due.id} set it to ${due.l1TtlSeconds}s (bound ${bound} ms)`,
      ops: [due.id, read.id],
      evidence: [`update: ${describeOp(history, due)}`, `read:   ${describeOp(history, read)}`],
    });
  }
  return violations;
}

/** Whether the read shows the update's marker, or that of an update that completed after it began. */
function shows(read: GetPolicyOp, update: UpdatePolicyOp, latestWith: ReadonlyMap<string, number>): boolean {
  if (read.l1TtlSeconds === update.l1TtlSeconds) return true;
  const shown = latestWith.get(`${update.namespace}\u0000${read.l1TtlSeconds}`);
  return shown !== undefined && shown >= update.invokedAt;
}
