package dev.mlcache.client;

import dev.mlcache.v1.WatchStatsResponse;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;

/** A running WatchStats stream: iterate it, close it to stop (the call is cancelled). */
public final class StatsWatch implements Iterator<WatchStatsResponse>, AutoCloseable {
  private final Iterator<WatchStatsResponse> responses;
  private final Context.CancellableContext context;

  StatsWatch(Iterator<WatchStatsResponse> responses, Context.CancellableContext context) {
    this.responses = responses;
    this.context = context;
  }

  @Override
  public boolean hasNext() {
    try {
      return responses.hasNext();
    } catch (StatusRuntimeException error) {
      throw CacheException.of(error);
    }
  }

  @Override
  public WatchStatsResponse next() {
    try {
      return responses.next();
    } catch (StatusRuntimeException error) {
      throw CacheException.of(error);
    }
  }

  @Override
  public void close() {
    context.cancel(null);
  }
}
