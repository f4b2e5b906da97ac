import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";

/**
 * A Lua script sent by its SHA1 (EVALSHA), and in full (EVAL, which also caches it) only when
 * Redis answers that it does not know it. Not ioredis' `defineCommand`: that copies every
 * defined command onto each pipeline the client creates, auto-pipelines included, about 1.5 µs
 * added to every read that does not share its pipeline with others.
 *
 *   const release = new LuaScript(1, "return redis.call('DEL', KEYS[1])");
 *   await release.run(client, "lease:42");
 */
export class LuaScript {
  /** The SHA1 Redis knows the script by. */
  readonly sha: string;

  /** @param numberOfKeys how many of a call's values are keys; "any" for scripts run with {@link runKeys}. */
  constructor(
    private readonly numberOfKeys: number | "any",
    private readonly lua: string,
  ) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /** Runs the script: its keys first, then its arguments. */
  run(client: Redis | Cluster, ...keysAndArgs: (string | Buffer | number)[]): Promise<unknown> {
    if (this.numberOfKeys === "any") throw new Error("a script with any number of keys runs through runKeys");
    return this.send(client, this.numberOfKeys, keysAndArgs);
  }

  /** Runs a script that takes any number of keys on these keys and arguments. */
  runKeys(
    client: Redis | Cluster,
    keys: readonly string[],
    args: readonly (string | Buffer | number)[],
  ): Promise<unknown> {
    return this.send(client, keys.length, [...keys, ...args]);
  }

  private send(client: Redis | Cluster, keyCount: number, keysAndArgs: (string | Buffer | number)[]): Promise<unknown> {
    return client.evalsha(this.sha, keyCount, ...keysAndArgs).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
      return client.eval(this.lua, keyCount, ...keysAndArgs);
    });
  }
}
