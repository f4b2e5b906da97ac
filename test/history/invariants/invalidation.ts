import { describeOp, describeOriginVersion } from "../describe.js";
import { type InvalidateOp, readItems } from "../history.js";
import { targets } from "../keys.js";
import type { HistoryIndex, ValueInfo } from "./history-index.js";
import type { Violation } from "./violation.js";

/**
 * Whether `inv` was meant to remove `value`: a value written by a Set that completed before
 * the Invalidate was invoked, or an origin version superseded before it was invoked. (A Set
 * overlapping the Invalidate may survive it; the origin's current version may be reloaded.)
 */
function meantToRemove(inv: InvalidateOp, value: ValueInfo): boolean {
  if (!targets(inv, value.key, value.tags)) return false;
  if (value.set)
    return value.set.status === "OK" && value.set.applied === true && value.set.completedAt < inv.invokedAt;
  return value.supersededAt < inv.invokedAt;
}

/**
 * Invalidation: no read that starts later than an acknowledged Invalidate's completion + B
 * returns a value that Invalidate was meant to remove, on any instance. And an Invalidate
 * answers OK only once its event is durable: an OK answer saying `published: false` (the
 * event only queued) breaks it too.
 */
export function checkInvalidation(index: HistoryIndex): Violation[] {
  return [...unpublished(index), ...removedValuesServed(index)];
}

function unpublished(index: HistoryIndex): Violation[] {
  const { history } = index;
  return history.ops
    .filter((op): op is InvalidateOp => op.kind === "invalidate" && op.status === "OK" && op.published === false)
    .map((op) => ({
      invariant: "invalidation" as const,
      summary: `${op.id} answered OK on ${op.instance} before its InvalidationEvent was in Kafka (published: false)`,
      ops: [op.id],
      evidence: [`invalidate: ${describeOp(history, op)}`],
    }));
}

function removedValuesServed(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const violations: Violation[] = [];
  for (const { op, item } of readItems(history)) {
    if (item.status !== "OK" || !item.found) continue;
    const value = index.value(item.valueId);
    if (!value || value.namespace !== op.namespace) continue;
    // The latest acknowledged Invalidate that should have removed it: the clearest evidence.
    let culprit: InvalidateOp | undefined;
    for (const inv of index.invalidationsTargeting(op.namespace, value.key, value.tags)) {
      if (inv.status !== "OK" || op.invokedAt <= inv.completedAt + bound) continue;
      if (!meantToRemove(inv, value)) continue;
      if (!culprit || inv.completedAt > culprit.completedAt) culprit = inv;
    }
    if (!culprit) continue;
    const lag = op.invokedAt - culprit.completedAt;
    const written = value.set
      ? describeOp(history, value.set)
      : value.origin
        ? `${describeOriginVersion(history, value.origin)}, superseded at ${((value.supersededAt - history.startedAt) / 1000).toFixed(3)}s`
        : value.id;
    violations.push({
      invariant: "invalidation",
      summary: `${op.instance} returned ${value.id} for ${item.key} ${Math.round(lag)} ms after ${culprit.id} removed it (bound ${bound} ms)`,
      ops: [op.id, culprit.id, ...(value.set ? [value.set.id] : [])],
      evidence: [
        `read:       ${describeOp(history, op, item.key)}`,
        `invalidate: ${describeOp(history, culprit)}`,
        `written:    ${written}`,
      ],
    });
  }
  return violations;
}
