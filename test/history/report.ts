// What a person reads after a run: violations grouped by invariant with a few examples each,
// and a (short) history printed operation by operation.

import { describeFault, describeOp, describeOriginVersion } from "./describe.js";
import type { History } from "./history.js";
import type { InvariantName, Violation } from "./invariants/index.js";

/** Violation counts by invariant, e.g. "invalidation 12, policy 3". */
export function countByInvariant(violations: readonly Violation[]): Map<InvariantName, number> {
  const counts = new Map<InvariantName, number>();
  for (const v of violations) counts.set(v.invariant, (counts.get(v.invariant) ?? 0) + 1);
  return counts;
}

/** Every invariant's violations: the count and the first `examples`, with their evidence. */
export function formatViolations(violations: readonly Violation[], examples = 3): string {
  if (violations.length === 0) return "no violations";
  const lines: string[] = [];
  for (const [invariant, count] of countByInvariant(violations)) {
    lines.push(`${invariant}: ${count} violation${count === 1 ? "" : "s"}`);
    for (const v of violations.filter((x) => x.invariant === invariant).slice(0, examples)) {
      lines.push(`  - ${v.summary}`);
      for (const line of v.evidence) lines.push(`      ${line}`);
    }
  }
  return lines.join("\n");
}

/** Numbers of a history: operations by kind and outcome, loads, writes, faults. */
export function formatStats(history: History): string {
  const byKind = new Map<string, { ok: number; failed: number }>();
  for (const op of history.ops) {
    const entry = byKind.get(op.kind) ?? { ok: 0, failed: 0 };
    if (op.status === "OK") entry.ok++;
    else entry.failed++;
    byKind.set(op.kind, entry);
  }
  const kinds = [...byKind].map(([kind, n]) => `${kind} ${n.ok}${n.failed ? ` (+${n.failed} failed)` : ""}`);
  const failures = new Map<string, number>();
  for (const op of history.ops) if (op.status !== "OK") failures.set(op.status, (failures.get(op.status) ?? 0) + 1);
  const slowest = history.ops.reduce((max, op) => Math.max(max, op.completedAt - op.invokedAt), 0);
  const seconds = ((history.endedAt - history.startedAt) / 1000).toFixed(1);
  return [
    `${history.ops.length} operations in ${seconds} s on ${history.instances.length} instances: ${kinds.join(", ")}`,
    `failures: ${failures.size ? [...failures].map(([status, n]) => `${status} ${n}`).join(", ") : "none"}; slowest call ${Math.round(slowest)} ms`,
    `origin: ${history.origin.versions.length} versions, ${history.origin.loads.length} loads, ${history.origin.writes.length} writes received`,
    `faults: ${history.faults.length ? history.faults.map((f) => describeFault(history, f)).join("; ") : "none"}`,
  ].join("\n");
}

/**
 * A history as lines: every operation in invocation order (all of them up to `limit`, else
 * those involved in a violation), the faults, and the origin versions of the keys involved.
 */
export function formatHistory(history: History, violations: readonly Violation[], limit = 80): string {
  const involved = new Set(violations.flatMap((v) => v.ops));
  const ops = history.ops.length <= limit ? history.ops : history.ops.filter((op) => involved.has(op.id));
  const keys = new Set<string>();
  for (const op of ops) {
    if (!involved.has(op.id) && history.ops.length > limit) continue;
    if (op.kind === "get" || op.kind === "set") keys.add(op.key);
    if (op.kind === "bulkGet") for (const key of op.keys) keys.add(key);
  }
  const lines = [
    history.ops.length <= limit
      ? `history (${history.ops.length} operations):`
      : `history: the ${ops.length} of ${history.ops.length} operations involved in violations:`,
    ...ops.map((op) => `  ${involved.has(op.id) ? "*" : " "} ${describeOp(history, op)}`),
    ...history.faults.map((f) => `    fault: ${describeFault(history, f)}`),
    ...history.origin.versions
      .filter((v) => v.generation > 1 && keys.has(v.key))
      .map((v) => `    ${describeOriginVersion(history, v)}`),
  ];
  return lines.join("\n");
}
