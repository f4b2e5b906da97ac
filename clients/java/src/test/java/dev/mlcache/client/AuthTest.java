package dev.mlcache.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mlcache.v1.ReadOptions;
import dev.mlcache.v1.WatchStatsRequest;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Credentials against the servers scripts/clients/run-suites.mjs starts: the plaintext one
 * (MLCACHE_SERVER) knows MLCACHE_TOKEN (every right everywhere) and MLCACHE_READ_TOKEN (read in
 * MLCACHE_READ_NAMESPACE only); the TLS one (MLCACHE_TLS_SERVER, mutual TLS, certificates made by
 * openssl for this run) trusts client certificates signed by MLCACHE_CA and knows the identity
 * MLCACHE_TLS_IDENTITY (MLCACHE_CERT / MLCACHE_CERT_KEY), which may read and write in tls-*.
 */
class AuthTest {
  static final String RUN = Long.toString(System.nanoTime());

  /** A variable the runner sets; the test fails without it. */
  static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) {
      String why = name.startsWith("MLCACHE_TLS") ? System.getenv("MLCACHE_TLS_ERROR") : null;
      fail(name + " is not set: run `npm run test:clients`" + (why != null ? " (" + why + ")" : ""));
    }
    return value;
  }

  static Tls tls() {
    return Tls.trusting(Path.of(env("MLCACHE_CA")))
        .withClientCertificate(Path.of(env("MLCACHE_CERT")), Path.of(env("MLCACHE_CERT_KEY")));
  }

  @Test
  void withoutATokenIsUnauthenticated() {
    for (String token : new String[] {null, "not-a-token-of-this-server"}) {
      try (CacheClient cache = CacheClient.builder(env("MLCACHE_SERVER")).token(token).build()) {
        CacheException error = assertThrows(CacheException.class, () -> cache.get(RUN + ":a"));
        assertEquals(Status.Code.UNAUTHENTICATED, error.code(), String.valueOf(token));
      }
    }
  }

  @Test
  void theTokenTravelsWithStreamsAndFutures() {
    try (CacheClient cache = CacheClient.builder(env("MLCACHE_SERVER")).token(env("MLCACHE_TOKEN")).build()) {
      assertTrue(cache.getAsync(RUN + ":async").join().isEmpty());
      try (StatsWatch watch = cache.watchStats(WatchStatsRequest.getDefaultInstance())) {
        assertTrue(watch.next().hasSnapshot());
      }
    }
  }

  @Test
  void aReadOnlyTokenReadsButMayNotSet() {
    try (CacheClient cache = CacheClient.builder(env("MLCACHE_SERVER"))
        .namespace(env("MLCACHE_READ_NAMESPACE"))
        .token(env("MLCACHE_READ_TOKEN"))
        .build()) {
      assertTrue(cache.get(RUN + ":ro", ReadOptions.newBuilder().setSkipLoader(true).build()).isEmpty());
      CacheException error = assertThrows(CacheException.class, () -> cache.set(RUN + ":ro", "x"));
      assertEquals(Status.Code.PERMISSION_DENIED, error.code());
      assertTrue(error.getMessage().contains("write"), error.getMessage());
    }
  }

  @Test
  void aTokenWithASpaceIsRefusedWithoutRepeatingIt() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> CacheClient.builder("127.0.0.1:1").token("two words"));
    assertFalse(error.getMessage().contains("two words"));
  }

  @Test
  void mutualTlsTheCertificateIsTheIdentity() {
    try (CacheClient cache = CacheClient.builder(env("MLCACHE_TLS_SERVER")).namespace("tls-java").tls(tls()).build()) {
      cache.set(RUN + ":tls", "over TLS");
      assertEquals("over TLS", cache.getString(RUN + ":tls").orElseThrow());
    }
    // The identity's rights, nothing more: no writes outside tls-*.
    try (CacheClient elsewhere = CacheClient.builder(env("MLCACHE_TLS_SERVER")).namespace("elsewhere").tls(tls()).build()) {
      CacheException error = assertThrows(CacheException.class, () -> elsewhere.set(RUN + ":tls", "x"));
      assertEquals(Status.Code.PERMISSION_DENIED, error.code());
      assertTrue(error.getMessage().contains(env("MLCACHE_TLS_IDENTITY")), error.getMessage());
    }
  }

  @Test
  void mutualTlsFromPemBytes() throws IOException {
    Tls tls = Tls.trusting(Files.readAllBytes(Path.of(env("MLCACHE_CA"))))
        .withClientCertificate(
            Files.readAllBytes(Path.of(env("MLCACHE_CERT"))), Files.readAllBytes(Path.of(env("MLCACHE_CERT_KEY"))));
    try (CacheClient cache = CacheClient.builder(env("MLCACHE_TLS_SERVER")).namespace("tls-java").tls(tls).build()) {
      assertTrue(cache.get(RUN + ":absent", ReadOptions.newBuilder().setSkipLoader(true).build()).isEmpty());
    }
  }

  @Test
  void withoutTheCaTheServerIsNotTrusted() {
    Tls untrusted = Tls.systemRoots()
        .withClientCertificate(Path.of(env("MLCACHE_CERT")), Path.of(env("MLCACHE_CERT_KEY")));
    try (CacheClient cache = CacheClient.builder(env("MLCACHE_TLS_SERVER"))
        .tls(untrusted)
        .timeout(Duration.ofSeconds(3))
        .retry(1, Duration.ofMillis(50), Duration.ofMillis(50))
        .build()) {
      CacheException error = assertThrows(CacheException.class, () -> cache.get(RUN + ":a"));
      assertEquals(Status.Code.UNAVAILABLE, error.code());
    }
  }
}
