import { CacheError, Status, type StatusCode } from "../errors.js";

/**
 * Why a call was turned away before reaching the origin. Sent as the `rejectedBy` detail so
 * that callers, dead letters and the breaker can tell local refusals from origin failures.
 */
export const RejectedBy = {
  RATE_LIMIT: "rate-limit",
  CONCURRENCY: "concurrency",
  BREAKER: "breaker",
  REFRESH_THROTTLE: "refresh-throttle",
} as const;

/** One of the {@link RejectedBy} values. */
export type RejectedByValue = (typeof RejectedBy)[keyof typeof RejectedBy];

/** Codes worth another attempt: the origin may answer next time. */
const RETRYABLE_CODES: ReadonlySet<number> = new Set<StatusCode>([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.UNKNOWN,
]);

/** Codes that say the request, not the origin, is at fault; they never trip the breaker. */
const CALLER_CODES: ReadonlySet<number> = new Set<StatusCode>([
  Status.CANCELLED,
  Status.INVALID_ARGUMENT,
  Status.NOT_FOUND,
  Status.ALREADY_EXISTS,
  Status.PERMISSION_DENIED,
  Status.FAILED_PRECONDITION,
  Status.OUT_OF_RANGE,
  Status.UNAUTHENTICATED,
]);

/** The local refusal an error stands for, if it is one. */
export function rejectionOf(error: unknown): RejectedByValue | undefined {
  if (!(error instanceof CacheError)) return undefined;
  return error.details.rejectedBy as RejectedByValue | undefined;
}

/**
 * Whether another attempt may succeed: network errors and unknown failures, UNAVAILABLE,
 * DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED from the origin (HTTP 429/5xx map to these).
 * Never NOT_FOUND, INVALID_ARGUMENT or other caller errors, never a local refusal, never a
 * cancellation by the caller.
 */
export function isRetryable(error: unknown): boolean {
  if (rejectionOf(error) !== undefined) return false;
  if (error instanceof CacheError) return RETRYABLE_CODES.has(error.code);
  if (error instanceof Error && error.name === "AbortError") return false;
  return true;
}

/**
 * Whether a failure says something about the origin's health (counted by the breaker and
 * the dead-letter log). Caller errors, "not found" and local refusals do not.
 */
export function isOriginFailure(error: unknown): boolean {
  if (rejectionOf(error) !== undefined) return false;
  if (error instanceof CacheError) return !CALLER_CODES.has(error.code);
  if (error instanceof Error && error.name === "AbortError") return false;
  return true;
}

/** A local refusal: the code, an actionable message, and the `rejectedBy` detail. */
export function rejection(
  code: StatusCode,
  by: RejectedByValue,
  message: string,
  details: Record<string, string> = {},
): CacheError {
  return new CacheError(code, message, { ...details, rejectedBy: by });
}

/** The error to reject with when a signal aborted: its reason if it is one, else CANCELLED. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new CacheError(Status.CANCELLED, "the load was cancelled before the origin answered");
}
