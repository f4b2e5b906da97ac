import { CacheError, Status } from "../../errors.js";

/**
 * Error replies Redis gives while it cannot serve for now (loading its data set, running a
 * script, failing over, out of memory until keys expire, a cluster being resharded): the same
 * command may succeed later. Every other error reply (ERR, WRONGTYPE, NOPERM …) is Redis
 * refusing the command itself, and sending it again changes nothing.
 */
const PASSING_REFUSALS = new Set([
  "LOADING",
  "BUSY",
  "TRYAGAIN",
  "CLUSTERDOWN",
  "MASTERDOWN",
  "READONLY",
  "OOM",
  "MISCONF",
  "NOREPLICAS",
  "NOSCRIPT",
  "MOVED",
  "ASK",
]);

/**
 * True when Redis answered the command with an error reply that will not change on a retry.
 * Connection errors, timeouts and an open breaker are not refusals: Redis never judged the command.
 */
export function isPermanentRefusal(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "ReplyError") return false;
  const code = /^[A-Z]+/.exec(error.message)?.[0];
  return code !== undefined && !PASSING_REFUSALS.has(code);
}

/** The error of a write or delete Redis did not take: queued, replayed when it is back. */
export function queuedError(what: string, cause: string): CacheError {
  return new CacheError(
    Status.UNAVAILABLE,
    `redis did not take the ${what} (${cause || "not connected"}); it is queued and replayed when redis is back`,
  );
}
