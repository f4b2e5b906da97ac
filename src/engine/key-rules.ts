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
  /** Only `enabled`: the refresher's budget (top keys, rate, concurrency) is the namespace's. */
  priorityRefresh?: { enabled?: boolean };
  promotion?: Partial<NamespaceSettings["promotion"]>;
  writeMode?: WriteMode;
  maxValueBytes?: number;
  negativeTtlMs?: number;
  /** The load timeouts of the rule's keys (with a loader of the rule's own, its timeouts). */
  loadTimeouts?: Partial<NamespaceSettings["loadTimeouts"]>;
  /** The static value answered when a load of the rule's keys fails and nothing stale exists. */
  fallbackValue?: Uint8Array;
}

/**
 * A rule of a namespace: the keys it matches get the namespace's settings with its overrides.
 * A rule may also name origins (loader, writer, fallback) of its own; the engine asks for them
 * by the rule's name (`loaderFor(namespace, rule)`), whoever built them keeps them.
 */
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
    priorityRefresh: { ...base.priorityRefresh, ...o.priorityRefresh },
    promotion: { ...base.promotion, ...o.promotion },
    writeMode: o.writeMode ?? base.writeMode,
    maxValueBytes: o.maxValueBytes ?? base.maxValueBytes,
    negativeTtlMs: o.negativeTtlMs ?? base.negativeTtlMs,
    loadTimeouts: { ...base.loadTimeouts, ...o.loadTimeouts },
    fallbackValue: o.fallbackValue ?? base.fallbackValue,
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

/** A node of the prefix trie: children by UTF-16 code unit; the first rule whose prefix ends here. */
interface PrefixNode {
  children: Map<number, PrefixNode>;
  index: number;
}

/**
 * A node of the glob automaton, one per distinct leading run of segments. Children by what
 * the next segment must be: a literal, a partial pattern (`user-*`), any segment (`*`), or any
 * number of segments (`**`, a node that loops on every segment).
 */
interface GlobNode {
  /**
   * Literal children grouped by segment length: a segment of a length no literal has costs one
   * number lookup, and none is cut out of the key unless a group is large (then a map by text).
   */
  literal: Map<number, LiteralGroup>;
  /** Sticky expressions tried at the segment's start, ending at a ':' or the key's end. */
  partial: { regex: RegExp; pattern: string; node: GlobNode }[];
  any: GlobNode | undefined;
  globstar: GlobNode | undefined;
  /** True for the node after a `**`: it consumes any segment and stays. */
  loops: boolean;
  /** The first rule whose glob ends here. */
  index: number;
  /** The step of the automaton run that last added this node (dedupes states without a set). */
  mark: number;
}

const NONE = Number.POSITIVE_INFINITY;
/** Literals of one length beyond which a map by text beats comparing each in place. */
const LINEAR_LITERALS = 16;

interface LiteralGroup {
  list: { text: string; node: GlobNode }[];
  byText: Map<string, GlobNode> | undefined;
}

function globNode(loops = false): GlobNode {
  return { literal: new Map(), partial: [], any: undefined, globstar: undefined, loops, index: NONE, mark: 0 };
}

/**
 * A namespace's rules compiled for lookup, once per policy change: exact keys in a map,
 * prefixes in a character trie, globs in one automaton over `:`-separated segments (a trie of
 * their segments, run as an NFA so `**` may take any number of them). Each structure yields the
 * index of the earliest rule of its kind that matches, and the lowest index wins: the first
 * rule in the list that matches, whatever its kind. A key costs one map probe, a walk of the
 * trie as far as the key follows a prefix, and one step per segment for each automaton state
 * alive (bounded by the globs' distinct segment runs) — not one test per rule.
 */
export class CompiledRules {
  private readonly exact = new Map<string, number>();
  private readonly prefixes: PrefixNode = { children: new Map(), index: NONE };
  private readonly globs = globNode();
  private readonly hasPrefixes: boolean;
  private readonly hasGlobs: boolean;
  readonly entries: readonly RuleSettings[];

  /** `rules` must be valid ({@link ruleProblems} empty). */
  constructor(namespace: NamespaceSettings, rules: readonly KeyRule[]) {
    this.entries = rules.map((rule) => ({ rule, settings: withOverrides(namespace, rule.overrides) }));
    let prefixes = false;
    let globs = false;
    rules.forEach((rule, index) => {
      const { kind, pattern } = rule.match;
      if (kind === "exact") {
        if (!this.exact.has(pattern)) this.exact.set(pattern, index);
      } else if (kind === "prefix") {
        prefixes = true;
        let node = this.prefixes;
        for (let i = 0; i < pattern.length; i++) {
          const code = pattern.charCodeAt(i);
          let next = node.children.get(code);
          if (!next) {
            next = { children: new Map(), index: NONE };
            node.children.set(code, next);
          }
          node = next;
        }
        node.index = Math.min(node.index, index);
      } else {
        if (typeof compileGlob(pattern) === "string") throw new Error(`rule ${rule.name}: invalid glob`);
        globs = true;
        this.addGlob(pattern, index);
      }
    });
    this.hasPrefixes = prefixes;
    this.hasGlobs = globs;
  }

  /** The first rule matching the key, or undefined. */
  match(key: string): RuleSettings | undefined {
    let best = this.exact.get(key) ?? NONE;
    if (this.hasPrefixes) best = Math.min(best, this.prefixIndex(key));
    if (this.hasGlobs) best = Math.min(best, this.globIndex(key, best));
    return best === NONE ? undefined : this.entries[best];
  }

  /** Walks the trie as far as the key follows it: every prefix of the key that is a rule's is met. */
  private prefixIndex(key: string): number {
    let node: PrefixNode | undefined = this.prefixes;
    let found = node.index;
    for (let i = 0; i < key.length; i++) {
      node = node.children.get(key.charCodeAt(i));
      if (!node) break;
      if (node.index < found) found = node.index;
    }
    return found;
  }

  private addGlob(glob: string, index: number): void {
    const segments = glob.split(":").filter((s, i, all) => !(s === "**" && all[i - 1] === "**"));
    let node = this.globs;
    for (const segment of segments) {
      if (segment === "**") {
        node.globstar ??= globNode(true);
        node = node.globstar;
      } else if (segment === "*") {
        node.any ??= globNode();
        node = node.any;
      } else if (segment.includes("*")) {
        let child = node.partial.find((p) => p.pattern === segment);
        if (!child) {
          const literal = segment.replace(/[.+^$()|]/g, "\\$&").replaceAll("*", "[^:]*");
          child = { regex: new RegExp(`${literal}(?=:|$)`, "y"), pattern: segment, node: globNode() };
          node.partial.push(child);
        }
        node = child.node;
      } else {
        let group = node.literal.get(segment.length);
        if (!group) {
          group = { list: [], byText: undefined };
          node.literal.set(segment.length, group);
        }
        let child = group.list.find((l) => l.text === segment)?.node;
        if (!child) {
          child = globNode();
          group.list.push({ text: segment, node: child });
          if (group.list.length > LINEAR_LITERALS) group.byText = new Map(group.list.map((l) => [l.text, l.node]));
        }
        node = child;
      }
    }
    node.index = Math.min(node.index, index);
  }

  /** Runs the glob automaton over the key's segments (states: the nodes alive, `**` closures included). */
  private globIndex(key: string, best: number): number {
    // Two state arrays reused across calls (with counts, never truncated), and a mark per node
    // instead of a set: no allocation per key.
    let states = this.current;
    let next = this.following;
    let generation = ++this.generation;
    let count = addState(states, 0, this.globs, generation);
    let start = 0;
    while (count > 0) {
      const end = key.indexOf(":", start);
      const length = (end === -1 ? key.length : end) - start;
      generation = ++this.generation;
      let nextCount = 0;
      for (let i = 0; i < count; i++) {
        const state = states[i] as GlobNode;
        if (state.loops) nextCount = addState(next, nextCount, state, generation);
        const group = state.literal.get(length);
        if (group) {
          if (group.byText) {
            const child = group.byText.get(key.slice(start, start + length));
            if (child) nextCount = addState(next, nextCount, child, generation);
          } else {
            for (const literal of group.list) {
              if (key.startsWith(literal.text, start)) nextCount = addState(next, nextCount, literal.node, generation);
            }
          }
        }
        if (state.any) nextCount = addState(next, nextCount, state.any, generation);
        for (const partial of state.partial) {
          partial.regex.lastIndex = start;
          if (partial.regex.test(key)) nextCount = addState(next, nextCount, partial.node, generation);
        }
      }
      const done = states;
      states = next;
      next = done;
      count = nextCount;
      if (end === -1) break;
      start = end + 1;
    }
    let found = best;
    for (let i = 0; i < count; i++) {
      const index = (states[i] as GlobNode).index;
      if (index < found) found = index;
    }
    return found;
  }
  private readonly current: GlobNode[] = [];
  private readonly following: GlobNode[] = [];
  private generation = 0;
}

/**
 * Adds a state once per step at `states[count]` and, where it is followed by `**`, the state
 * after it (which may take no segment). Answers the new count.
 */
function addState(states: GlobNode[], count: number, node: GlobNode, generation: number): number {
  if (node.mark === generation) return count;
  node.mark = generation;
  states[count] = node;
  return node.globstar ? addState(states, count + 1, node.globstar, generation) : count + 1;
}
