// The consistency contract (DESIGN.md §9, notes/contract.md) as pure functions of a history.

import type { History } from "../history.js";
import { HistoryIndex } from "./history-index.js";
import { checkInvalidation } from "./invalidation.js";
import { checkMonotonicReads } from "./monotonic-reads.js";
import { checkPolicy } from "./policy.js";
import { checkSetVersions } from "./set-versions.js";
import { checkSingleLoad } from "./single-load.js";
import type { InvariantName, Violation } from "./violation.js";
import { checkWriteBehind } from "./write-behind.js";

export type { InvariantName, Violation } from "./violation.js";

/** Every invariant by name, each a function of an indexed history. */
export const INVARIANTS: Readonly<Record<InvariantName, (index: HistoryIndex) => Violation[]>> = {
  invalidation: checkInvalidation,
  "monotonic-reads": checkMonotonicReads,
  "set-versions": checkSetVersions,
  "single-load": checkSingleLoad,
  policy: checkPolicy,
  "write-behind": checkWriteBehind,
};

/** Every violation of the history, invariant by invariant (all of them unless `only` says). */
export function checkHistory(history: History, only?: readonly InvariantName[]): Violation[] {
  const index = new HistoryIndex(history);
  const names = only ?? (Object.keys(INVARIANTS) as InvariantName[]);
  return names.flatMap((name) => INVARIANTS[name](index));
}
