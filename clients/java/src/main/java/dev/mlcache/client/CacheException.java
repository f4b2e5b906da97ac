package dev.mlcache.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** A failed call: {@link #code()} is the gRPC status code (INVALID_ARGUMENT, UNAVAILABLE, …). */
public final class CacheException extends RuntimeException {
  private final Status.Code code;

  public CacheException(Status.Code code, String message, Throwable cause) {
    super(code + ": " + message, cause);
    this.code = code;
  }

  static CacheException from(Throwable error) {
    Status status = Status.fromThrowable(error);
    return error instanceof CacheException cacheError
        ? cacheError
        : new CacheException(status.getCode(), String.valueOf(status.getDescription()), error);
  }

  static CacheException of(StatusRuntimeException error) {
    return from(error);
  }

  public Status.Code code() {
    return code;
  }
}
