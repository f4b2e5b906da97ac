// Shrinking a failing run: delta debugging (Zeller's ddmin) over the planned operations, after
// trying the cheap cuts first (a prefix, no faults), and fewer clients at the end. Every attempt re-runs the fleet, and
// concurrency makes a failure come and go, so the search is bounded in attempts and time and
// returns the smallest plan that failed, not a proven minimum.

import { now } from "./clock.js";
import type { PlannedFault, PlannedOp } from "./plan.js";

/** What a shrinking attempt runs. */
export interface Subject {
  ops: PlannedOp[];
  faults: PlannedFault[];
}

/** Limits of a search. */
export interface Budget {
  /** Time (on ./clock.ts's clock) after which no attempt starts. */
  deadline: number;
  maxAttempts: number;
}

/** Runs a subject; true when it still fails the way we are shrinking for. */
export type Reproduces = (subject: Subject) => Promise<boolean>;

/** The outcome of a search. */
export interface ShrinkResult {
  subject: Subject;
  attempts: number;
}

/**
 * ddmin over `items`: the smallest sublist (keeping order) for which `fails` holds, found by
 * trying chunks and their complements at doubling granularity, within `budget` (counted in
 * `attempts.count`). Assumes `fails(items)` holds.
 */
export async function ddmin<T>(
  items: readonly T[],
  fails: (subset: T[]) => Promise<boolean>,
  budget: Budget,
  attempts: { count: number },
): Promise<T[]> {
  let current = [...items];
  let granularity = 2;
  const spent = () => attempts.count >= budget.maxAttempts || now() >= budget.deadline;
  while (current.length >= 2 && !spent()) {
    const size = Math.ceil(current.length / granularity);
    const chunks: T[][] = [];
    for (let i = 0; i < current.length; i += size) chunks.push(current.slice(i, i + size));
    let reduced = false;
    for (const chunk of chunks) {
      if (spent()) break;
      attempts.count++;
      if (await fails(chunk)) {
        current = chunk;
        granularity = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && chunks.length > 2) {
      for (const chunk of chunks) {
        if (spent()) break;
        const complement = current.filter((item) => !chunk.includes(item));
        attempts.count++;
        if (await fails(complement)) {
          current = complement;
          granularity = Math.max(granularity - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (!reduced) {
      if (granularity >= current.length) break;
      granularity = Math.min(granularity * 2, current.length);
    }
  }
  return current;
}

/**
 * Shrinks a failing subject: first the `hints` (cheap guesses such as "only the operations up
 * to the violation"), the first that still fails is kept; then without faults; then ddmin
 * over the operations (its first halves are the run's halves in time, so attempts get short
 * fast); then without whole clients.
 */
export async function shrink(
  initial: Subject,
  reproduces: Reproduces,
  budget: Budget,
  hints: readonly Subject[] = [],
): Promise<ShrinkResult> {
  const attempts = { count: 0 };
  const spent = () => attempts.count >= budget.maxAttempts || now() >= budget.deadline;
  let subject: Subject = { ops: [...initial.ops], faults: [...initial.faults] };
  const tryCandidate = async (candidate: Subject) => {
    if (spent()) return false;
    attempts.count++;
    if (!(await reproduces(candidate))) return false;
    subject = candidate;
    return true;
  };
  for (const hint of hints) {
    if (hint.ops.length < subject.ops.length && (await tryCandidate(hint))) break;
  }
  if (subject.faults.length > 0) await tryCandidate({ ops: subject.ops, faults: [] });
  const faults = subject.faults;
  subject = {
    ops: await ddmin(subject.ops, (subset) => reproduces({ ops: subset, faults }), budget, attempts),
    faults,
  };
  for (const client of [...new Set(subject.ops.map((op) => op.client))]) {
    const rest = subject.ops.filter((op) => op.client !== client);
    if (rest.length > 0) await tryCandidate({ ops: rest, faults: subject.faults });
  }
  return { subject, attempts: attempts.count };
}
