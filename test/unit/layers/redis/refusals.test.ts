import { describe, expect, it } from "vitest";
import { BreakerOpenError } from "../../../../src/layers/redis/breaker.js";
import { RedisTimeoutError } from "../../../../src/layers/redis/pending-calls.js";
import { isPermanentRefusal } from "../../../../src/layers/redis/refusals.js";

/** An error as ioredis makes one from a Redis error reply. */
function reply(message: string): Error {
  const error = new Error(message);
  error.name = "ReplyError";
  return error;
}

describe("isPermanentRefusal", () => {
  it("is true for error replies a retry cannot change", () => {
    expect(isPermanentRefusal(reply("WRONGTYPE Operation against a key holding the wrong kind of value"))).toBe(true);
    expect(isPermanentRefusal(reply("ERR wrong number of arguments for 'set' command"))).toBe(true);
    expect(isPermanentRefusal(reply("NOPERM this user has no permissions to run the 'eval' command"))).toBe(true);
  });

  it("is false for replies of a Redis that cannot serve for now, and for errors Redis never judged", () => {
    for (const code of ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "OOM", "MASTERDOWN"]) {
      expect(isPermanentRefusal(reply(`${code} not now`))).toBe(false);
    }
    expect(isPermanentRefusal(new Error("Connection is closed."))).toBe(false);
    expect(isPermanentRefusal(new RedisTimeoutError("no answer"))).toBe(false);
    expect(isPermanentRefusal(new BreakerOpenError("open"))).toBe(false);
    expect(isPermanentRefusal("WRONGTYPE")).toBe(false);
  });
});
