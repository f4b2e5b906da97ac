/**
 * gRPC status codes, as numbers. The engine speaks in these so that every edge (grpc-js,
 * Connect, the CLI, a library user) can report a failure without translating meanings.
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One of the gRPC status code numbers in {@link Status}. */
export type StatusCode = (typeof Status)[keyof typeof Status];

/** The name of a status code, e.g. `INVALID_ARGUMENT`. */
export function statusName(code: number): string {
  for (const [name, value] of Object.entries(Status)) if (value === code) return name;
  return `CODE_${code}`;
}

/**
 * A failure with a gRPC status code and a message a person can act on.
 *
 *   throw new CacheError(Status.INVALID_ARGUMENT, "key must not be empty");
 */
export class CacheError extends Error {
  constructor(
    readonly code: StatusCode,
    message: string,
    /** Extra facts for the caller (e.g. `breakerState`), sent as response metadata. */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "CacheError";
  }
}

/** Turns anything thrown into a CacheError; unknown errors become INTERNAL. */
export function toCacheError(error: unknown): CacheError {
  if (error instanceof CacheError) return error;
  if (error instanceof Error && error.name === "AbortError") {
    return new CacheError(Status.CANCELLED, "the call was cancelled");
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CacheError(Status.INTERNAL, `internal error: ${message}`);
}

/** Shorthand for an INVALID_ARGUMENT error. */
export function invalidArgument(message: string): CacheError {
  return new CacheError(Status.INVALID_ARGUMENT, message);
}
