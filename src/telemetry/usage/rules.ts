import { type AdviceBounds, type AdviceContext, adviseFor, type TtlAdvice } from "./advice.js";
import type { UsageEvidence, UsagePattern } from "./classify.js";

/** One analysed key. */
export interface KeyUsage {
  key: string;
  pattern: UsagePattern;
  evidence: UsageEvidence;
  advice: TtlAdvice;
}

/** The advice for a family of keys (keys equal but for their numeric or id segments). */
export interface FamilyAdvice {
  /** The family as a glob (`user:*:profile`), or a key of its own. */
  family: string;
  /** The pattern most of its classified keys show. */
  pattern: UsagePattern;
  /** Keys analysed, and how many showed each pattern. */
  keys: number;
  counts: Partial<Record<UsagePattern, number>>;
  /** The median of each figure over the keys of the majority pattern. */
  evidence: UsageEvidence;
  advice: TtlAdvice;
}

/** How a proposed rule picks its keys (the shape of a namespace policy's key rules). */
export type RuleMatch =
  | { kind: "exact"; value: string }
  | { kind: "prefix"; value: string }
  | { kind: "glob"; value: string };

/** A key rule the advice would add: a match and the overrides for the keys it matches. */
export interface ProposedRule {
  name: string;
  match: RuleMatch;
  pattern: UsagePattern;
  ttlMs: number;
  freshForMs: number;
  earlyRefresh: boolean;
  admission: boolean;
  reason: string;
}

/** A family's majority pattern needs this share of its classified keys to get a family rule. */
export const FAMILY_MAJORITY = 0.6;

/** Patterns whose advice changes something (the others keep the namespace policy). */
const ACTIONABLE: ReadonlySet<UsagePattern> = new Set(["regular", "bursty", "steady-hot", "one-hit", "declining"]);

const VARIABLE = /\d|^[0-9a-f]{8,}$/i;

/** Longest match a key rule takes. */
const MAX_MATCH = 512;

/**
 * The family of a key: segments (split at `:`, `/`, `.`, `-`, `_`, `|`, `#`, `=`) holding a digit
 * or a long hex id become `*`, so `user:42:profile` and `user:7:profile` are both
 * `user:*:profile` (a `*` never spans a `:`, as in key-rule globs). A key with characters that
 * globs reserve (`* ? [ ] { } \`) is a family of one.
 */
export function keyFamily(key: string): string {
  if (/[*?[\]{}\\]/.test(key)) return key;
  return key
    .split(/([:/.\-_|#=])/)
    .map((segment, i) => (i % 2 === 0 && VARIABLE.test(segment) ? "*" : segment))
    .join("");
}

/**
 * The match for a family: exact for a key, else a glob (a prefix would also take keys of other
 * families that merely start alike, `session:*:log` under `session:`).
 */
export function matchFor(family: string): RuleMatch {
  return family.includes("*") && !/[?[\]{}\\]/.test(family)
    ? { kind: "glob", value: family }
    : { kind: "exact", value: family };
}

/** Every proposed rule's name starts with it: applying advice again, or reverting it, replaces only these. */
export const ADVICE_RULE_PREFIX = "advice.";

/** A key rule's name for a pattern and a family or key: [A-Za-z0-9_.-], at most 64, unique among `taken`. */
function ruleName(pattern: UsagePattern, subject: string, taken: Set<string>): string {
  const base = `${ADVICE_RULE_PREFIX}${pattern}.${subject.replace(/\*/g, "x").replace(/[^A-Za-z0-9_.-]+/g, "-")}`.slice(
    0,
    58,
  );
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}.${n}`;
  taken.add(name);
  return name;
}

/**
 * Groups analysed keys into families, advises each family by its majority pattern (when one
 * has at least {@link FAMILY_MAJORITY} of the classified keys), and proposes a rule per family
 * whose advice differs from the current policy; keys of a family that behave otherwise get
 * exact rules of their own. At most `maxRules`, families with most keys first.
 */
export function adviseFamilies(
  keys: readonly KeyUsage[],
  context: AdviceContext,
  bounds: AdviceBounds,
  maxRules: number,
): { families: FamilyAdvice[]; rules: ProposedRule[] } {
  const byFamily = new Map<string, KeyUsage[]>();
  for (const usage of keys) {
    const family = keyFamily(usage.key);
    const members = byFamily.get(family);
    if (members) members.push(usage);
    else byFamily.set(family, [usage]);
  }
  const families: FamilyAdvice[] = [];
  const rules: ProposedRule[] = [];
  const exceptions: ProposedRule[] = [];
  const names = new Set<string>();
  const ordered = [...byFamily].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [family, members] of ordered) {
    const counts: Partial<Record<UsagePattern, number>> = {};
    for (const m of members) counts[m.pattern] = (counts[m.pattern] ?? 0) + 1;
    const classified = members.filter((m) => m.pattern !== "unknown");
    let majority: UsagePattern = "unknown";
    for (const [pattern, count] of Object.entries(counts) as [UsagePattern, number][]) {
      if (pattern !== "unknown" && count >= FAMILY_MAJORITY * classified.length) majority = pattern;
    }
    const like = members.filter((m) => m.pattern === majority);
    const evidence = medianEvidence(like.length > 0 ? like : members);
    const advice = adviseFor(majority, evidence, context, bounds);
    families.push({ family, pattern: majority, keys: members.length, counts, evidence, advice });
    if (ACTIONABLE.has(majority) && changes(advice, context) && family.length <= MAX_MATCH) {
      // A family that is a key of its own (nothing varied) is matched exactly, `*` in it or not.
      const match: RuleMatch = members[0]?.key === family ? { kind: "exact", value: family } : matchFor(family);
      rules.push(ruleOf(ruleName(majority, family, names), match, majority, advice));
    }
    if (members.length > 1) {
      for (const m of members) {
        if (
          m.pattern !== majority &&
          ACTIONABLE.has(m.pattern) &&
          m.pattern !== "one-hit" &&
          changes(m.advice, context) &&
          m.key.length <= MAX_MATCH
        ) {
          exceptions.push(
            ruleOf(ruleName(m.pattern, m.key, names), { kind: "exact", value: m.key }, m.pattern, m.advice),
          );
        }
      }
    }
  }
  // Exact exceptions first: a key rule list is read in order, the first match wins.
  return { families, rules: [...exceptions, ...rules].slice(0, Math.max(0, maxRules)) };
}

function ruleOf(name: string, match: RuleMatch, pattern: UsagePattern, advice: TtlAdvice): ProposedRule {
  return {
    name,
    match,
    pattern,
    ttlMs: advice.ttlMs,
    freshForMs: advice.freshForMs,
    earlyRefresh: advice.refresh === "early",
    admission: advice.admit,
    reason: advice.reason,
  };
}

function changes(advice: TtlAdvice, context: AdviceContext): boolean {
  return (
    advice.ttlMs !== context.ttlMs ||
    advice.freshForMs !== context.freshForMs ||
    (advice.refresh === "early") !== context.earlyRefresh ||
    !advice.admit
  );
}

function medianEvidence(members: readonly KeyUsage[]): UsageEvidence {
  const first = members[0]?.evidence;
  if (!first) throw new Error("a family has at least one key");
  const out = { ...first };
  for (const field of Object.keys(first) as (keyof UsageEvidence)[]) {
    const values = members.map((m) => m.evidence[field]).sort((a, b) => a - b);
    out[field] = values[values.length >> 1] as number;
  }
  return out;
}
