package dev.mlcache.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;

/** Call credentials sending {@code authorization: Bearer <token>} with every call. */
final class BearerToken extends CallCredentials {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  // Printable ASCII without spaces: what metadata carries intact and the server reads as one token.
  private static final Pattern TOKEN = Pattern.compile("[!-~]+");

  private final String authorization;

  BearerToken(String token) {
    if (token == null || !TOKEN.matcher(token).matches()) {
      // The message does not repeat the token.
      throw new IllegalArgumentException("a bearer token must be printable ASCII without spaces");
    }
    this.authorization = "Bearer " + token;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    // Sent over plaintext too (loopback, sidecars): use TLS beyond this machine.
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, authorization);
    applier.apply(headers);
  }

  @Override
  public String toString() {
    return "BearerToken(<redacted>)";
  }
}
