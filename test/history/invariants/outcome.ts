// What a failed write's answer says about its outcome, one rule for every invariant.

/** Statuses the service answers before it changes anything. */
const REFUSED = new Set([
  "INVALID_ARGUMENT",
  "PERMISSION_DENIED",
  "UNAUTHENTICATED",
  "FAILED_PRECONDITION",
  "RESOURCE_EXHAUSTED",
  "NOT_FOUND",
]);

/**
 * What the service's other refusals say (UNAVAILABLE, mostly): the instance is starting, Redis
 * could not tell the key's version, Kafka did not take the write or its transaction was aborted —
 * each answer says that nothing changed — or the client never reached an instance.
 */
const NOTHING_CHANGED =
  /No connection established|nothing (was |will be )?(changed|applied|sent|published|cached)|is starting|transaction is aborted/i;

/**
 * Whether a failed write may have changed something: it did unless the service said it did not
 * (a refusal status, or an answer saying nothing changed) or the call never reached it. Anything
 * else leaves the outcome open: the connection dropped or was reset under the call (its instance
 * was killed after applying it), the client gave up waiting, the instance shut down mid-call, an
 * answer this rule does not know. An allowlist of what the service claims, so that a failure
 * worded in a new way is never taken for a refusal.
 */
export function mayHaveChanged(op: { status: string; message?: string | undefined }): boolean {
  if (op.status === "OK") return true;
  if (REFUSED.has(op.status)) return false;
  return !NOTHING_CHANGED.test(op.message ?? "");
}
