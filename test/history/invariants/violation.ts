/** The invariants the checker judges a history by (see ./index.ts for what each means). */
export type InvariantName =
  | "invalidation"
  | "monotonic-reads"
  | "set-versions"
  | "single-load"
  | "policy"
  | "write-behind";

/** A broken invariant, with the operations and events that show it, each on a readable line. */
export interface Violation {
  invariant: InvariantName;
  /** One sentence: what went wrong. */
  summary: string;
  /** Ids of the history's operations involved (for shrinking and for printing them). */
  ops: string[];
  /** One line per operation or event involved. */
  evidence: string[];
}
