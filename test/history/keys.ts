// The workload's small, hierarchical key space (collisions are the point), its tags, and
// which keys an invalidation targets.

/** Keys `c:<category>:p:<product>`: categories × products of them. */
export function keySpace(categories = 3, products = 10): string[] {
  const keys: string[] = [];
  for (let c = 0; c < categories; c++) for (let p = 0; p < products; p++) keys.push(`c:${c}:p:${p}`);
  return keys;
}

/** The tag the origin attaches to every value of a key: its category, `cat:<c>`. */
export function categoryTag(key: string): string {
  const category = /^c:(\d+):/.exec(key)?.[1];
  return category === undefined ? "cat:none" : `cat:${category}`;
}

/** Tags Sets may attach (besides the category tag). */
export const SET_TAGS = ["t:0", "t:1", "t:2", "t:3"] as const;

/** What an invalidation names. */
export interface InvalidationTarget {
  keys: readonly string[];
  tags: readonly string[];
  prefix?: string | undefined;
}

/** Whether an invalidation removes a key's value that carries `valueTags`. */
export function targets(target: InvalidationTarget, key: string, valueTags: readonly string[]): boolean {
  if (target.keys.includes(key)) return true;
  if (target.prefix !== undefined && key.startsWith(target.prefix)) return true;
  return target.tags.some((tag) => valueTags.includes(tag));
}

/**
 * Whether an invalidation could remove a key whose value's tags are not known yet (a load in
 * flight): any tag could be the value's.
 */
export function couldTarget(target: InvalidationTarget, key: string): boolean {
  return target.tags.length > 0 || targets(target, key, []);
}
