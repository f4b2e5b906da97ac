import { describeFault, describeLoad, describeOp } from "../describe.js";
import type { Op, OriginLoad } from "../history.js";
import { couldTarget } from "../keys.js";
import type { HistoryIndex } from "./history-index.js";
import type { Violation } from "./violation.js";

/**
 * One origin load per key per fleet for concurrent misses (Get, BulkGet, refresh): two loads
 * of one key whose intervals at the origin overlap are a violation, unless
 * - an Invalidate that could target the key (a key, a prefix of it, or any tag: the loading
 *   value's tags are not known yet) was invoked before the second load started and completed
 *   less than B before the first started or later — it detaches the flight in progress, and
 *   readers after it start a new load;
 * - Redis (the lease store) was out of reach during them and they came from different
 *   instances: then one load per key per instance is the promise.
 */
export function checkSingleLoad(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const byKey = new Map<string, OriginLoad[]>();
  for (const load of history.origin.loads) {
    const id = `${load.namespace}\u0000${load.key}`;
    byKey.set(id, [...(byKey.get(id) ?? []), load]);
  }
  const violations: Violation[] = [];
  for (const loads of byKey.values()) {
    loads.sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 0; i < loads.length; i++) {
      const first = loads[i] as OriginLoad;
      for (let j = i + 1; j < loads.length; j++) {
        const second = loads[j] as OriginLoad;
        if (second.startedAt >= first.endedAt) break;
        const detaching = index
          .invalidations(first.namespace)
          .filter(
            (inv) =>
              inv.invokedAt < second.startedAt &&
              inv.completedAt + bound > first.startedAt &&
              couldTarget(inv, first.key),
          );
        if (detaching.length > 0) continue;
        const outage = index.redisOutageBetween(first.startedAt, second.endedAt);
        if (outage && first.instance !== second.instance) continue;
        const askers = nearbyOps(index, first, second);
        violations.push({
          invariant: "single-load",
          summary: `${first.key} was loaded twice at once, by ${first.instance} and ${second.instance}${outage ? " (Redis was out of reach, but one instance loaded it twice)" : ""}`,
          ops: askers.map((op) => op.id),
          evidence: [
            `load:  ${describeLoad(history, first)}`,
            `load:  ${describeLoad(history, second)}`,
            ...(outage ? [`fault: ${describeFault(history, outage)}`] : []),
            ...askers.map((op) => `op:    ${describeOp(history, op, first.key)}`),
          ],
        });
      }
    }
  }
  return violations;
}

/** The key's operations that ran while the two loads did (what asked for them). */
function nearbyOps(index: HistoryIndex, first: OriginLoad, second: OriginLoad): Op[] {
  const from = Math.min(first.startedAt, second.startedAt) - 50;
  const to = Math.max(first.endedAt, second.endedAt);
  return index.history.ops
    .filter(
      (op) =>
        op.namespace === first.namespace &&
        op.invokedAt < to &&
        op.completedAt > from &&
        ((op.kind === "get" && op.key === first.key) || (op.kind === "bulkGet" && op.keys.includes(first.key))),
    )
    .slice(0, 6);
}
