import type { Clock } from "../../engine/clock.js";
import type { StampSet } from "../../engine/layer.js";
import type { GuardedClient } from "./guarded-client.js";
import type { RedisKeys } from "./keys.js";
import { LuaScript } from "./lua-script.js";

// Stamps of one namespace: raise the named fields to ARGV[1] (never lower), drop fields older
// than ARGV[2], bump the version readers poll, and let both keys expire with the retention.
const STAMP = new LuaScript(
  2,
  `
local at = tonumber(ARGV[1])
for i = 4, #ARGV do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  if not current or tonumber(current) < at then redis.call('HSET', KEYS[1], ARGV[i], ARGV[1]) end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) < tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i]) end
end
local version = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return version`,
);

/**
 * Invalidation stamps shared through Redis: a hash per namespace (field "t:<tag>", "p:<prefix>"
 * or "*" for all of it, value the time of the stamp) and a version number bumped with every
 * stamp. Reads fetch the version with their values; when it moved, the hash is fetched and
 * handed to the {@link watch} listeners (the engine, which hides what the stamps cover).
 */
export class StampSync {
  /** The version of each namespace's stamps the listeners were last given. */
  private readonly versions = new Map<string, string>();
  private readonly listeners: ((namespace: string, stamps: StampSet) => void)[] = [];

  constructor(
    private readonly guard: GuardedClient,
    private readonly keys: RedisKeys,
    private readonly clock: Clock,
  ) {}

  /** The hash fields of stamps on tags and a prefix ("" stamps the whole namespace). */
  static fields(stamps: { tags: readonly string[]; prefix?: string }): string[] {
    return [
      ...stamps.tags.map((tag) => `t:${tag}`),
      ...(stamps.prefix === undefined ? [] : [stamps.prefix === "" ? "*" : `p:${stamps.prefix}`]),
    ];
  }

  watch(listener: (namespace: string, stamps: StampSet) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The stamp command: raises `fields` to `at` and drops fields older than the retention. Not
   * guarded: the caller sends it through the guard (as a write, or in a replay).
   */
  write(namespace: string, fields: readonly string[], at: number, retainMs: number): Promise<unknown> {
    const retain = Math.max(1000, Math.ceil(retainMs));
    return STAMP.run(
      this.guard.client,
      this.keys.stamps(namespace),
      this.keys.stampVersion(namespace),
      at,
      this.clock.now() - retain,
      retain,
      ...fields,
    );
  }

  /** Fetches the namespace's stamps when Redis holds a newer version of them; else undefined. */
  ifChanged(namespace: string, version: string | null): Promise<void> | undefined {
    const current = version ?? "0";
    return current === (this.versions.get(namespace) ?? "0") ? undefined : this.sync(namespace, current);
  }

  private async sync(namespace: string, version: string): Promise<void> {
    let fields: Record<string, string>;
    try {
      fields = (await this.guard.call(() => this.guard.client.hgetall(this.keys.stamps(namespace)))) as Record<
        string,
        string
      >;
    } catch {
      return; // the breaker counted it; the next read with this version tries again
    }
    this.versions.set(namespace, version);
    const stamps: StampSet = { tags: new Map(), prefixes: new Map(), all: Number.NEGATIVE_INFINITY };
    for (const [field, value] of Object.entries(fields)) {
      const at = Number(value);
      if (field === "*") stamps.all = at;
      else if (field.startsWith("t:")) stamps.tags.set(field.slice(2), at);
      else if (field.startsWith("p:")) stamps.prefixes.set(field.slice(2), at);
    }
    for (const listener of this.listeners) listener(namespace, stamps);
  }
}
