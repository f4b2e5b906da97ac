package dev.mlcache.client;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS to the server: the CAs to trust (default: the JDK's), and a client certificate for mutual
 * TLS. PEM files or bytes, as the CLI's {@code --ca}, {@code --cert}, {@code --cert-key}.
 *
 * <pre>{@code
 * CacheClient.builder("cache.internal:50051").tls(Tls.trusting(Path.of("ca.pem"))).token(token).build();
 * }</pre>
 */
public final class Tls {
  private final byte[] ca;
  private final byte[] cert;
  private final byte[] key;

  private Tls(byte[] ca, byte[] cert, byte[] key) {
    this.ca = ca;
    this.cert = cert;
    this.key = key;
  }

  /** TLS trusting the JDK's root CAs. */
  public static Tls systemRoots() {
    return new Tls(null, null, null);
  }

  /** TLS trusting the CAs in this PEM file instead of the JDK's. */
  public static Tls trusting(Path caPem) {
    return new Tls(read(caPem), null, null);
  }

  /** TLS trusting these PEM CAs instead of the JDK's. */
  public static Tls trusting(byte[] caPem) {
    return new Tls(caPem.clone(), null, null);
  }

  /** The same, presenting this client certificate and key (PEM, PKCS#8 key) for mutual TLS. */
  public Tls withClientCertificate(Path certPem, Path keyPem) {
    return new Tls(ca, read(certPem), read(keyPem));
  }

  /** The same, presenting this client certificate and key (PEM bytes) for mutual TLS. */
  public Tls withClientCertificate(byte[] certPem, byte[] keyPem) {
    return new Tls(ca, certPem.clone(), keyPem.clone());
  }

  ChannelCredentials credentials() {
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    try {
      if (ca != null) builder.trustManager(new ByteArrayInputStream(ca));
      if (cert != null) builder.keyManager(new ByteArrayInputStream(cert), new ByteArrayInputStream(key));
    } catch (IOException e) {
      throw new IllegalArgumentException("TLS: the CA or the client certificate is not PEM: " + e.getMessage(), e);
    }
    return builder.build();
  }

  private static byte[] read(Path path) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("TLS: cannot read " + path, e);
    }
  }
}
