package dev.mlcache.client;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import dev.mlcache.v1.BulkGetRequest;
import dev.mlcache.v1.BulkGetResponse;
import dev.mlcache.v1.BulkGetResult;
import dev.mlcache.v1.CacheServiceGrpc;
import dev.mlcache.v1.GetRequest;
import dev.mlcache.v1.GetResponse;
import dev.mlcache.v1.InspectRequest;
import dev.mlcache.v1.InspectResponse;
import dev.mlcache.v1.InvalidateRequest;
import dev.mlcache.v1.InvalidateResponse;
import dev.mlcache.v1.Item;
import dev.mlcache.v1.ReadOptions;
import dev.mlcache.v1.SetRequest;
import dev.mlcache.v1.SetResponse;
import dev.mlcache.v1.WatchStatsRequest;
import dev.mlcache.v1.WatchStatsResponse;
import io.grpc.CallCredentials;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A MultilayerCache client: blocking methods, and {@code *Async} ones returning
 * CompletableFutures (on the gRPC future stub). Failed calls throw (or complete with) a
 * {@link CacheException} carrying the gRPC code.
 *
 * <pre>{@code
 * try (CacheClient cache = CacheClient.builder("127.0.0.1:50051").namespace("users").build()) {
 *   cache.set("user:1", "{\"name\":\"Ada\"}", WriteOptions.ttl(Duration.ofMinutes(1)));
 *   Optional<String> user = cache.getString("user:1");
 * }
 * }</pre>
 */
public final class CacheClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final String namespace;
  private final Duration timeout;
  private final CacheServiceGrpc.CacheServiceBlockingStub blocking;
  private final CacheServiceGrpc.CacheServiceFutureStub future;
  private final Map<String, CompletableFuture<ByteString>> loads = new ConcurrentHashMap<>();

  private CacheClient(Builder builder, ManagedChannelBuilder<?> channelBuilder) {
    this.channel = channelBuilder.build();
    this.namespace = builder.namespace;
    this.timeout = builder.timeout;
    CacheServiceGrpc.CacheServiceBlockingStub blocking = CacheServiceGrpc.newBlockingStub(channel);
    CacheServiceGrpc.CacheServiceFutureStub future = CacheServiceGrpc.newFutureStub(channel);
    if (builder.token != null) {
      blocking = blocking.withCallCredentials(builder.token);
      future = future.withCallCredentials(builder.token);
    }
    this.blocking = blocking;
    this.future = future;
  }

  /**
   * A builder for a client of {@code target} (host:port of the gRPC port): plaintext unless
   * {@link Builder#tls} says otherwise.
   */
  public static Builder builder(String target) {
    return new Builder(target, null);
  }

  /** A builder on a channel builder of your own (its credentials, interceptors, …). */
  public static Builder builder(ManagedChannelBuilder<?> channel) {
    return new Builder(null, channel);
  }

  /** Configures a {@link CacheClient}. */
  public static final class Builder {
    private final String target;
    private final ManagedChannelBuilder<?> channel;
    private Tls tls;
    private CallCredentials token;
    private String namespace = "";
    private Duration timeout = Duration.ofSeconds(5);
    private int maxAttempts = 3;
    private Duration initialBackoff = Duration.ofMillis(50);
    private Duration maxBackoff = Duration.ofSeconds(1);

    private Builder(String target, ManagedChannelBuilder<?> channel) {
      this.target = target;
      this.channel = channel;
    }

    /**
     * Sends {@code authorization: Bearer <token>} with every call (null or empty: none). The
     * token is never logged or printed.
     */
    public Builder token(String token) {
      this.token = token == null || token.isEmpty() ? null : new BearerToken(token);
      return this;
    }

    /** Connects over TLS (mutual TLS with a client certificate); not with a channel builder of your own. */
    public Builder tls(Tls tls) {
      if (channel != null) throw new IllegalStateException("tls(): the channel builder given sets its own credentials");
      this.tls = tls;
      return this;
    }

    /** Namespace of calls that do not name one (default: the server's "default"). */
    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /** Deadline of each call (default 5 s; zero: none). */
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    /** Retries of UNAVAILABLE (gRPC retries): attempts in total, exponential backoff. */
    public Builder retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
      this.maxAttempts = maxAttempts;
      this.initialBackoff = initialBackoff;
      this.maxBackoff = maxBackoff;
      return this;
    }

    public CacheClient build() {
      ManagedChannelBuilder<?> channel = this.channel != null
          ? this.channel
          : Grpc.newChannelBuilder(target, tls != null ? tls.credentials() : InsecureChannelCredentials.create());
      if (maxAttempts >= 2) {
        Map<String, Object> retryPolicy = Map.of(
            "maxAttempts", (double) maxAttempts,
            "initialBackoff", initialBackoff.toMillis() / 1000.0 + "s",
            "maxBackoff", maxBackoff.toMillis() / 1000.0 + "s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE"));
        Map<String, Object> methodConfig =
            Map.of("name", List.of(Map.of("service", "mlcache.v1.CacheService")), "retryPolicy", retryPolicy);
        channel.enableRetry().defaultServiceConfig(Map.of("methodConfig", List.of(methodConfig)));
      } else {
        channel.disableRetry();
      }
      return new CacheClient(this, channel);
    }
  }

  // ───────────── blocking ─────────────

  /** The item under {@code key}, or empty when no layer (nor the loader) has it. */
  public Optional<Item> get(String key) {
    return get(key, ReadOptions.getDefaultInstance());
  }

  public Optional<Item> get(String key, ReadOptions options) {
    return found(call(() -> blocking().get(getRequest(key, options))));
  }

  /** The value under {@code key} as UTF-8 text. */
  public Optional<String> getString(String key) {
    return get(key).map(item -> item.getValue().toString(StandardCharsets.UTF_8));
  }

  /** The value under {@code key} decoded by {@code decoder} (a JSON mapper, for example). */
  public <T> Optional<T> get(String key, Function<ByteString, T> decoder) {
    return get(key).map(item -> decoder.apply(item.getValue()));
  }

  /** Every distinct key in request order: its item (empty when not found) or its error. */
  public Map<String, KeyResult> bulkGet(List<String> keys) {
    return bulkResults(call(() -> blocking().bulkGet(bulkRequest(keys))));
  }

  public SetResponse set(String key, ByteString value, WriteOptions options) {
    return call(() -> blocking().set(setRequest(key, value, options)));
  }

  public SetResponse set(String key, String value, WriteOptions options) {
    return set(key, ByteString.copyFromUtf8(value), options);
  }

  public SetResponse set(String key, String value) {
    return set(key, value, WriteOptions.DEFAULT);
  }

  /** Drops keys, everything carrying a tag, or everything under a prefix (see {@link Invalidation}). */
  public InvalidateResponse invalidate(Invalidation what) {
    return call(() -> blocking().invalidate(what.toRequest(namespace)));
  }

  /**
   * The cached value, or else {@code fallback}'s, which is stored. Concurrent calls for one key
   * in this process share one fallback call.
   */
  public ByteString getOrSet(String key, Supplier<ByteString> fallback, WriteOptions options) {
    CompletableFuture<ByteString> mine = new CompletableFuture<>();
    CompletableFuture<ByteString> running = loads.putIfAbsent(key, mine);
    if (running != null) return join(running);
    try {
      ByteString value = get(key).map(Item::getValue).orElse(null);
      if (value == null) {
        value = fallback.get();
        set(key, value, options);
      }
      mine.complete(value);
      return value;
    } catch (RuntimeException error) {
      mine.completeExceptionally(error);
      throw error;
    } finally {
      loads.remove(key, mine);
    }
  }

  /**
   * Statistics snapshots as they arrive; close the watch (try-with-resources) to stop.
   *
   * <pre>{@code
   * try (StatsWatch watch = cache.watchStats(WatchStatsRequest.newBuilder().build())) {
   *   while (watch.hasNext()) System.out.println(watch.next().getSnapshot());
   * }
   * }</pre>
   */
  public StatsWatch watchStats(WatchStatsRequest request) {
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      return new StatsWatch(blocking.watchStats(request), context); // no deadline: it runs until closed
    } finally {
      context.detach(previous);
    }
  }

  public InspectResponse inspect(InspectRequest request) {
    return call(() -> blocking().inspect(request));
  }

  // ───────────── async ─────────────

  public CompletableFuture<Optional<Item>> getAsync(String key) {
    return async(future().get(getRequest(key, ReadOptions.getDefaultInstance()))).thenApply(CacheClient::found);
  }

  public CompletableFuture<Map<String, KeyResult>> bulkGetAsync(List<String> keys) {
    return async(future().bulkGet(bulkRequest(keys))).thenApply(CacheClient::bulkResults);
  }

  public CompletableFuture<SetResponse> setAsync(String key, ByteString value, WriteOptions options) {
    return async(future().set(setRequest(key, value, options)));
  }

  public CompletableFuture<InvalidateResponse> invalidateAsync(Invalidation what) {
    return async(future().invalidate(what.toRequest(namespace)));
  }

  public CompletableFuture<InspectResponse> inspectAsync(InspectRequest request) {
    return async(future().inspect(request));
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) channel.shutdownNow();
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // ───────────── helpers ─────────────

  private CacheServiceGrpc.CacheServiceBlockingStub blocking() {
    return timeout.isZero() ? blocking : blocking.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private CacheServiceGrpc.CacheServiceFutureStub future() {
    return timeout.isZero() ? future : future.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private GetRequest getRequest(String key, ReadOptions options) {
    return GetRequest.newBuilder().setNamespace(namespace).setKey(key).setOptions(options).build();
  }

  private BulkGetRequest bulkRequest(List<String> keys) {
    return BulkGetRequest.newBuilder().setNamespace(namespace).addAllKeys(keys).build();
  }

  private SetRequest setRequest(String key, ByteString value, WriteOptions options) {
    SetRequest.Builder request = SetRequest.newBuilder().setNamespace(namespace).setKey(key).setValue(value);
    options.applyTo(request);
    return request.build();
  }

  private static Optional<Item> found(GetResponse response) {
    return response.getItem().getFound() ? Optional.of(response.getItem()) : Optional.empty();
  }

  private static Map<String, KeyResult> bulkResults(BulkGetResponse response) {
    Map<String, KeyResult> out = new LinkedHashMap<>();
    for (BulkGetResult result : response.getResultsList()) {
      if (result.hasError()) {
        Status.Code code = Status.fromCodeValue(result.getError().getCode()).getCode();
        out.put(result.getKey(), new KeyResult(Optional.empty(), new CacheException(code, result.getError().getMessage(), null)));
      } else {
        Item item = result.getItem();
        out.put(result.getKey(), new KeyResult(item.getFound() ? Optional.of(item) : Optional.empty(), null));
      }
    }
    return out;
  }

  private static <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException error) {
      throw CacheException.of(error);
    }
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (java.util.concurrent.CompletionException error) {
      throw CacheException.from(error.getCause());
    }
  }

  private static <T> CompletableFuture<T> async(ListenableFuture<T> call) {
    CompletableFuture<T> out = new CompletableFuture<>() {
      @Override
      public boolean cancel(boolean mayInterruptIfRunning) {
        call.cancel(mayInterruptIfRunning);
        return super.cancel(mayInterruptIfRunning);
      }
    };
    Futures.addCallback(call, new FutureCallback<>() {
      @Override
      public void onSuccess(T result) {
        out.complete(result);
      }

      @Override
      public void onFailure(Throwable error) {
        out.completeExceptionally(CacheException.from(error));
      }
    }, MoreExecutors.directExecutor());
    return out;
  }
}
