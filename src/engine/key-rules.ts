import type { LayerSettings, NamespaceSettings, WriteMode } from "./policy.js";

/** How a rule picks its keys: the key itself, a prefix of it, or a glob over its `:` segments. */
export type RuleMatch = { kind: "exact" | "prefix" | "glob"; pattern: string };

/** The settings a rule replaces; everything it leaves out is the namespace's. Times in ms. */
export interface SettingsOverrides {
  l1?: Partial<LayerSettings>;
  l2?: Partial<LayerSettings>;
  failSafe?: Partial<NamespaceSettings["failSafe"]>;
  earlyRefresh?: Partial<NamespaceSettings["earlyRefresh"]>;
  adaptiveTtl?: Partial<NamespaceSettings["adaptiveTtl"]>;
  promotion?: Partial<NamespaceSettings["promotion"]>;
  writeMode?: WriteMode;
  maxValueBytes?: number;
  negativeTtlMs?: number;
}

/** A rule of a namespace: the keys it matches get the namespace's settings with its overrides. */
export interface KeyRule {
  name: string;
  match: RuleMatch;
  overrides: SettingsOverrides;
}

/** Most rules a namespace may have. */
export const MAX_RULES = 1000;
/** Longest pattern of a rule. */
export const MAX_PATTERN_LENGTH = 512;
const RULE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const RESERVED = /[[\]{}?\\]/;

/** The namespace's settings with a rule's overrides on top. */
export function withOverrides(base: NamespaceSettings, o: SettingsOverrides): NamespaceSettings {
  return {
    ...base,
    l1: { ...base.l1, ...o.l1 },
    l2: { ...base.l2, ...o.l2 },
    failSafe: { ...base.failSafe, ...o.failSafe },
    earlyRefresh: { ...base.earlyRefresh, ...o.earlyRefresh },
    adaptiveTtl: { ...base.adaptiveTtl, ...o.adaptiveTtl },
    promotion: { ...base.promotion, ...o.promotion },
    writeMode: o.writeMode ?? base.writeMode,
    maxValueBytes: o.maxValueBytes ?? base.maxValueBytes,
    negativeTtlMs: o.negativeTtlMs ?? base.negativeTtlMs,
    // A rule's settings hold no rules of their own.
    rules: [],
  };
}

/**
 * The regular expression of a glob, or a message saying what is wrong with it. Grammar: the
 * pattern is split at `:` into segments; a segment that is exactly `**` matches any number of
 * key segments (none included); in any other segment `*` matches any run of characters other
 * than `:`; every other character matches itself, except the reserved `[ ] { } ? \`.
 */
export function compileGlob(glob: string): RegExp | string {
  if (RESERVED.test(glob)) return "the characters [ ] { } ? \\ are reserved in globs";
  const segments = glob.split(":");
  // Consecutive `**` segments mean the same as one.
  const collapsed = segments.filter((s, i) => !(s === "**" && segments[i - 1] === "**"));
  if (collapsed.length === 1 && collapsed[0] === "**") return /^[\s\S]*$/;
  let source = "^";
  let separatorNeeded = false;
  for (const segment of collapsed) {
    if (segment === "**") {
      // Between segments: (":" segment)*; at the start: (segment ":")*, the next one adds no ":".
      source += separatorNeeded ? "(?::[^:]*)*" : "(?:[^:]*:)*";
      continue;
    }
    if (segment.includes("**")) return `"**" must be a whole segment (between ':'), not part of "${segment}"`;
    const literal = segment.replace(/[.+^$()|]/g, "\\$&").replaceAll("*", "[^:]*");
    source += (separatorNeeded ? ":" : "") + literal;
    separatorNeeded = true;
  }
  return new RegExp(`${source}$`);
}

/** Problems with a namespace's rules (names, patterns, bounds), each naming the rule. */
export function ruleProblems(rules: readonly KeyRule[]): string[] {
  const problems: string[] = [];
  if (rules.length > MAX_RULES) problems.push(`rules: ${rules.length} rules, at most ${MAX_RULES} are allowed`);
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    const where = `rules[${i}]`;
    if (!RULE_NAME.test(rule.name)) {
      problems.push(`${where}.name "${rule.name.slice(0, 80)}" must be 1–64 characters of A-Z a-z 0-9 _ . -`);
    } else if (names.has(rule.name)) problems.push(`${where}.name "${rule.name}" is used by an earlier rule`);
    names.add(rule.name);
    const { kind, pattern } = rule.match;
    if (pattern.length > MAX_PATTERN_LENGTH) {
      problems.push(`${where}.${kind} is ${pattern.length} characters, at most ${MAX_PATTERN_LENGTH} are allowed`);
    } else if (pattern === "" && kind !== "prefix") problems.push(`${where}.${kind} must not be empty`);
    else if (kind === "glob") {
      const compiled = compileGlob(pattern);
      if (typeof compiled === "string") problems.push(`${where}.glob "${pattern}": ${compiled}`);
    }
  });
  return problems;
}

/** A rule ready to use: its position and its settings, the namespace's with its overrides. */
export interface RuleSettings {
  readonly rule: KeyRule;
  readonly settings: NamespaceSettings;
}

/**
 * A namespace's rules compiled for lookup, once per policy change: exact patterns in a map,
 * prefixes in a map probed once per distinct prefix length, globs as regular expressions tried
 * in order. The first rule in the list that matches wins, whatever its kind: each structure
 * gives the index of its earliest match and the lowest index is taken; globs stop as soon as
 * their index passes the best found. A key costs one map probe, one probe per distinct prefix
 * length, and at most one regular-expression test per glob.
 */
export class CompiledRules {
  private readonly exact = new Map<string, number>();
  private readonly prefixes = new Map<string, number>();
  private readonly prefixLengths: number[];
  private readonly globs: { index: number; regex: RegExp }[] = [];
  readonly entries: readonly RuleSettings[];

  /** `rules` must be valid ({@link ruleProblems} empty). */
  constructor(namespace: NamespaceSettings, rules: readonly KeyRule[]) {
    this.entries = rules.map((rule) => ({ rule, settings: withOverrides(namespace, rule.overrides) }));
    const lengths = new Set<number>();
    rules.forEach((rule, index) => {
      const { kind, pattern } = rule.match;
      if (kind === "exact") {
        if (!this.exact.has(pattern)) this.exact.set(pattern, index);
      } else if (kind === "prefix") {
        if (!this.prefixes.has(pattern)) this.prefixes.set(pattern, index);
        lengths.add(pattern.length);
      } else {
        const regex = compileGlob(pattern);
        if (typeof regex === "string") throw new Error(`rule ${rule.name}: ${regex}`);
        this.globs.push({ index, regex });
      }
    });
    this.prefixLengths = [...lengths].sort((a, b) => a - b);
  }

  /** The first rule matching the key, or undefined. */
  match(key: string): RuleSettings | undefined {
    let best = this.exact.get(key) ?? Number.POSITIVE_INFINITY;
    for (const length of this.prefixLengths) {
      if (length > key.length) break;
      const index = this.prefixes.get(length === key.length ? key : key.slice(0, length));
      if (index !== undefined && index < best) best = index;
    }
    for (const glob of this.globs) {
      if (glob.index > best) break;
      if (glob.regex.test(key)) {
        best = glob.index;
        break;
      }
    }
    return best === Number.POSITIVE_INFINITY ? undefined : this.entries[best];
  }
}
