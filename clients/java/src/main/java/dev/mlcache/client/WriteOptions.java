package dev.mlcache.client;

import com.google.protobuf.Duration;
import dev.mlcache.v1.SetRequest;
import dev.mlcache.v1.WriteMode;
import java.util.List;

/**
 * Options of a write: {@code WriteOptions.ttl(Duration.ofMinutes(1)).tags("user")}.
 *
 * @param ttl hard TTL, null for the namespace policy
 * @param freshFor soft TTL, null for the namespace policy
 * @param tags tags for invalidation by group
 * @param version the value's version, 0 to let the server assign one
 * @param writeMode UNSPECIFIED for the namespace policy
 */
public record WriteOptions(
    java.time.Duration ttl, java.time.Duration freshFor, List<String> tags, long version, WriteMode writeMode) {
  public static final WriteOptions DEFAULT = new WriteOptions(null, null, List.of(), 0, WriteMode.WRITE_MODE_UNSPECIFIED);

  public static WriteOptions ttl(java.time.Duration ttl) {
    return DEFAULT.withTtl(ttl);
  }

  public WriteOptions withTtl(java.time.Duration ttl) {
    return new WriteOptions(ttl, freshFor, tags, version, writeMode);
  }

  public WriteOptions withFreshFor(java.time.Duration freshFor) {
    return new WriteOptions(ttl, freshFor, tags, version, writeMode);
  }

  public WriteOptions tags(String... tags) {
    return new WriteOptions(ttl, freshFor, List.of(tags), version, writeMode);
  }

  public WriteOptions withVersion(long version) {
    return new WriteOptions(ttl, freshFor, tags, version, writeMode);
  }

  public WriteOptions withWriteMode(WriteMode writeMode) {
    return new WriteOptions(ttl, freshFor, tags, version, writeMode);
  }

  void applyTo(SetRequest.Builder request) {
    request.addAllTags(tags).setVersion(version).setWriteMode(writeMode);
    if (ttl != null) request.setTtl(duration(ttl));
    if (freshFor != null) request.setFreshFor(duration(freshFor));
  }

  static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
