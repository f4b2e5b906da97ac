package dev.mlcache.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import dev.mlcache.v1.InspectRequest;
import dev.mlcache.v1.InspectResponse;
import dev.mlcache.v1.Item;
import dev.mlcache.v1.SetResponse;
import dev.mlcache.v1.Source;
import dev.mlcache.v1.StatsSnapshot;
import dev.mlcache.v1.WatchStatsRequest;
import io.grpc.Status;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java client against a real server (MLCACHE_SERVER, started by scripts/clients/run-suites.mjs,
 * with MLCACHE_TOKEN: every right on every namespace).
 */
class CacheClientTest {
  static final String NAMESPACE = "client-java";
  static final String RUN = Long.toString(System.nanoTime());
  static CacheClient cache;

  static String key(String name) {
    return RUN + ":" + name;
  }

  @BeforeAll
  static void connect() {
    String server = System.getenv("MLCACHE_SERVER");
    if (server == null || server.isEmpty()) {
      fail("MLCACHE_SERVER must name a running server: run `npm run test:clients`");
    }
    cache = CacheClient.builder(server).namespace(NAMESPACE).token(AuthTest.env("MLCACHE_TOKEN")).build();
  }

  @AfterAll
  static void close() {
    if (cache != null) cache.close();
  }

  @Test
  void setThenGet() {
    SetResponse written =
        cache.set(key("a"), "hello", WriteOptions.ttl(java.time.Duration.ofMinutes(1)).tags("t1"));
    assertTrue(written.getApplied());
    Item item = cache.get(key("a")).orElseThrow();
    assertEquals("hello", item.getValue().toStringUtf8());
    assertEquals(Source.SOURCE_L1, item.getSource());
    assertEquals(written.getVersion(), item.getVersion());
    assertEquals(List.of("t1"), item.getTagsList());
    assertEquals("hello", cache.getString(key("a")).orElseThrow());
  }

  @Test
  void getMissingIsEmpty() {
    assertTrue(cache.get(key("missing")).isEmpty());
  }

  @Test
  void bulkGet() {
    cache.set(key("b1"), "one");
    Map<String, KeyResult> results = cache.bulkGet(List.of(key("b1"), key("b2")));
    assertEquals(2, results.size());
    assertEquals("one", results.get(key("b1")).item().orElseThrow().getValue().toStringUtf8());
    assertTrue(results.get(key("b2")).item().isEmpty());
    assertFalse(results.get(key("b2")).failed());
  }

  @Test
  void invalidateByKeyTagAndPrefix() {
    String tag = "tag-" + RUN;
    for (String name : List.of("i1", "i2", "p:1")) cache.set(key(name), "x", WriteOptions.DEFAULT.tags(tag));
    assertEquals(1, cache.invalidate(Invalidation.keys(key("i1"))).getKeysRemoved());
    cache.invalidate(Invalidation.tags(tag));
    cache.invalidate(Invalidation.prefix(key("p:")));
    for (String name : List.of("i1", "i2", "p:1")) assertTrue(cache.get(key(name)).isEmpty(), name);
  }

  @Test
  void getOrSetCallsTheFallbackOnce() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<ByteString>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit(() -> cache.getOrSet(key("gos"), () -> {
          calls.incrementAndGet();
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return ByteString.copyFromUtf8("computed");
        }, WriteOptions.DEFAULT)));
      }
      for (Future<ByteString> result : results) assertEquals("computed", result.get().toStringUtf8());
    } finally {
      pool.shutdown();
    }
    assertEquals(1, calls.get());
  }

  @Test
  void watchStats() {
    cache.set(key("w"), "x");
    cache.get(key("w"));
    WatchStatsRequest request = WatchStatsRequest.newBuilder()
        .setInterval(Duration.newBuilder().setNanos(100_000_000))
        .addNamespaces(NAMESPACE)
        .build();
    List<StatsSnapshot> snapshots = new ArrayList<>();
    try (StatsWatch watch = cache.watchStats(request)) {
      while (snapshots.size() < 2 && watch.hasNext()) snapshots.add(watch.next().getSnapshot());
    }
    assertEquals(2, snapshots.size());
    assertEquals(NAMESPACE, snapshots.get(1).getNamespaces(0).getNamespace());
    assertTrue(snapshots.get(1).getNamespaces(0).getRequests() > 0);
  }

  @Test
  void inspect() {
    cache.set(key("insp"), "v");
    InspectResponse response = cache.inspect(
        InspectRequest.newBuilder().setNamespace(NAMESPACE).addKeys(key("insp")).setHotKeys(10).build());
    assertEquals(key("insp"), response.getKeyStats(0).getKey());
    assertTrue(response.getKeyStats(0).getLayersList().stream().anyMatch(l -> l.getPresent()));
  }

  @Test
  void asyncStubs() throws Exception {
    cache.setAsync(key("async"), ByteString.copyFromUtf8("v"), WriteOptions.DEFAULT).get();
    assertEquals("v", cache.getAsync(key("async")).get().orElseThrow().getValue().toStringUtf8());
    assertEquals(1, cache.bulkGetAsync(List.of(key("async"))).get().size());
    assertEquals(1, cache.invalidateAsync(Invalidation.keys(key("async"))).get().getKeysRemoved());
    assertTrue(cache.inspectAsync(InspectRequest.getDefaultInstance()).get().getKeyStatsList().isEmpty());
  }

  @Test
  void errorsCarryGrpcCodes() {
    assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(CacheException.class, () -> cache.get("")).code());
    assertEquals(
        Status.Code.INVALID_ARGUMENT,
        assertThrows(CacheException.class, () -> cache.invalidate(Invalidation.keys())).code());
    CompletionException async = assertThrows(CompletionException.class, () -> cache.getAsync("").join());
    assertEquals(Status.Code.INVALID_ARGUMENT, ((CacheException) async.getCause()).code());
    WatchStatsRequest tooFast = WatchStatsRequest.newBuilder().setInterval(Duration.newBuilder().setNanos(1_000_000)).build();
    try (StatsWatch watch = cache.watchStats(tooFast)) {
      assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(CacheException.class, watch::hasNext).code());
    }
  }

  @Test
  void deadlineExceeded() throws Exception {
    // A listener that accepts (in the backlog) and never answers: a hung server.
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        CacheClient client = CacheClient.builder("127.0.0.1:" + silent.getLocalPort())
            .timeout(java.time.Duration.ofMillis(200))
            .build()) {
      assertEquals(Status.Code.DEADLINE_EXCEEDED, assertThrows(CacheException.class, () -> client.get("k")).code());
    }
  }

  @Test
  void unavailableAfterRetries() throws Exception {
    int port;
    try (ServerSocket closed = new ServerSocket(0)) {
      port = closed.getLocalPort();
    }
    try (CacheClient client = CacheClient.builder("127.0.0.1:" + port)
        .retry(4, java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(50))
        .build()) {
      assertEquals(Status.Code.UNAVAILABLE, assertThrows(CacheException.class, () -> client.get("k")).code());
    }
  }
}
