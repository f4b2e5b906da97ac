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

  constructor(
    private readonly numberOfKeys: number,
    private readonly lua: string,
  ) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /** Runs the script: its keys first, then its arguments. */
  run(client: Redis | Cluster, ...keysAndArgs: (string | Buffer | number)[]): Promise<unknown> {
    return client.evalsha(this.sha, this.numberOfKeys, ...keysAndArgs).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.includes("NOSCRIPT")) throw error;
      return client.eval(this.lua, this.numberOfKeys, ...keysAndArgs);
    });
  }
}
