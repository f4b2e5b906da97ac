import { describeOp } from "../describe.js";
import type { GetPolicyOp, UpdatePolicyOp } from "../history.js";
import type { HistoryIndex } from "./history-index.js";
import type { Violation } from "./violation.js";

/**
 * Policies: an acknowledged UpdatePolicy is in force on every instance within B. A GetPolicy
 * (on any instance) invoked later than the update's completion + B shows its marker (the L1
 * TTL it wrote), or the marker of another update that was not over before it began (a later
 * or concurrent change, whatever that one's outcome).
 */
export function checkPolicy(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const updates = history.ops.filter((op): op is UpdatePolicyOp => op.kind === "updatePolicy");
  const violations: Violation[] = [];
  for (const read of history.ops) {
    if (read.kind !== "getPolicy" || read.status !== "OK") continue;
    let missed: UpdatePolicyOp | undefined;
    for (const update of updates) {
      if (update.status !== "OK" || update.namespace !== read.namespace) continue;
      if (read.invokedAt <= update.completedAt + bound) continue;
      if (shows(read, update, updates)) continue;
      if (!missed || update.completedAt > missed.completedAt) missed = update;
    }
    if (!missed) continue;
    violations.push({
      invariant: "policy",
      summary: `${read.instance} showed l1.ttl=${read.l1TtlSeconds}s ${Math.round(read.invokedAt - missed.completedAt)} ms after ${missed.id} set it to ${missed.l1TtlSeconds}s (bound ${bound} ms)`,
      ops: [missed.id, read.id],
      evidence: [`update: ${describeOp(history, missed)}`, `read:   ${describeOp(history, read)}`],
    });
  }
  return violations;
}

function shows(read: GetPolicyOp, update: UpdatePolicyOp, updates: readonly UpdatePolicyOp[]): boolean {
  if (read.l1TtlSeconds === update.l1TtlSeconds) return true;
  return updates.some(
    (other) =>
      other !== update &&
      other.namespace === update.namespace &&
      other.completedAt >= update.invokedAt &&
      other.l1TtlSeconds === read.l1TtlSeconds,
  );
}
