import { describeOp } from "../describe.js";
import { type Op, readItems, type SetOp } from "../history.js";
import type { HistoryIndex } from "./history-index.js";
import { mayHaveChanged } from "./outcome.js";
import type { Violation } from "./violation.js";

/** A version the service acknowledged for a key: a Set's answer, or a read's. */
interface Acknowledged {
  op: Op;
  version: bigint;
  valueId: string | undefined;
}

/**
 * Set versions:
 * 1. A Set answered `applied: true` is never older than a version already acknowledged for
 *    its key — by an applied Set or a read that completed before it was invoked — unless that
 *    version may have been removed in between (HistoryIndex.mayHaveBeenRemoved over
 *    [acknowledging call invoked − B, Set completed]: an Invalidate, a TTL, a Redis outage). Explicit versions
 *    (small integers) are the interesting case; automatic ones are checked the same way (the
 *    contract: greater than every copy the instance can see).
 * 2. The value of a Set answered `applied: false`, or refused by the service (outcome.ts), is
 *    never served ("nothing changed").
 */
export function checkSetVersions(index: HistoryIndex): Violation[] {
  return [...olderSetsApplied(index), ...refusedSetsServed(index)];
}

function olderSetsApplied(index: HistoryIndex): Violation[] {
  const { history } = index;
  const bound = history.propagationBoundMs;
  const acknowledged = new Map<string, Acknowledged[]>();
  const remember = (namespace: string, key: string, ack: Acknowledged) => {
    const id = `${namespace}\u0000${key}`;
    const list = acknowledged.get(id) ?? [];
    list.push(ack);
    acknowledged.set(id, list);
  };
  for (const op of history.ops) {
    if (op.kind === "set" && op.status === "OK" && op.applied && op.version !== undefined) {
      remember(op.namespace, op.key, { op, version: op.version, valueId: op.valueId });
    }
  }
  for (const { op, item } of readItems(history)) {
    if (item.status === "OK" && item.found && item.version > 0n) {
      remember(op.namespace, item.key, { op, version: item.version, valueId: item.valueId });
    }
  }
  const setsByKey = new Map<string, SetOp[]>();
  for (const op of history.ops) {
    if (op.kind !== "set" || op.status !== "OK" || !op.applied || op.version === undefined) continue;
    const id = `${op.namespace}\u0000${op.key}`;
    const list = setsByKey.get(id) ?? [];
    list.push(op);
    setsByKey.set(id, list);
  }
  const violations: Violation[] = [];
  for (const [id, sets] of setsByKey) {
    // Sets in the order they began, acknowledgements in the order they completed: for each Set,
    // the acknowledgements that completed before it began, kept as the latest one per version
    // (an earlier acknowledgement of the same version has a wider window, so it is excused
    // whenever the latest is), checked from the highest version down.
    sets.sort((a, b) => a.invokedAt - b.invokedAt);
    const acks = (acknowledged.get(id) ?? []).sort((a, b) => a.op.completedAt - b.op.completedAt);
    const latestByVersion = new Map<bigint, Acknowledged>();
    let next = 0;
    for (const set of sets) {
      while (next < acks.length && (acks[next] as Acknowledged).op.completedAt < set.invokedAt) {
        const ack = acks[next++] as Acknowledged;
        const known = latestByVersion.get(ack.version);
        if (!known || ack.op.invokedAt > known.op.invokedAt) latestByVersion.set(ack.version, ack);
      }
      const applied = set.version as bigint;
      const higher = [...latestByVersion.values()]
        .filter((ack) => ack.version > applied)
        .sort((a, b) => (a.version > b.version ? -1 : 1));
      const newest = higher.find(
        (ack) =>
          !index.mayHaveBeenRemoved(
            set.namespace,
            set.key,
            index.value(ack.valueId),
            ack.op.invokedAt - bound,
            set.completedAt,
          ),
      );
      if (!newest) continue;
      const kind = set.requestedVersion === undefined ? "automatic" : "explicit";
      violations.push({
        invariant: "set-versions",
        summary: `${set.id} (${kind} version) was applied at v${applied} on ${set.instance} although v${newest.version} of ${set.key} was already acknowledged by ${newest.op.id}`,
        ops: [newest.op.id, set.id],
        evidence: [
          `acknowledged: ${describeOp(history, newest.op, set.key)}`,
          `applied:      ${describeOp(history, set)}`,
        ],
      });
    }
  }
  return violations;
}

function refusedSetsServed(index: HistoryIndex): Violation[] {
  const { history } = index;
  const violations: Violation[] = [];
  const reported = new Set<string>();
  for (const { op, item } of readItems(history)) {
    if (item.status !== "OK" || !item.found) continue;
    const set: SetOp | undefined = index.value(item.valueId)?.set;
    if (!set || reported.has(set.id)) continue;
    const refused = set.status === "OK" ? set.applied === false : !mayHaveChanged(set);
    if (!refused) continue;
    reported.add(set.id);
    const answer = set.status === "OK" ? "applied: false" : `${set.status} (${set.message ?? ""})`;
    violations.push({
      invariant: "set-versions",
      summary: `${op.instance} served ${set.valueId}, written by ${set.id} which answered ${answer} (nothing should have changed)`,
      ops: [set.id, op.id],
      evidence: [`set:  ${describeOp(history, set)}`, `read: ${describeOp(history, op, item.key)}`],
    });
  }
  return violations;
}
