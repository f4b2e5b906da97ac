package dev.mlcache.client;

import dev.mlcache.v1.InvalidateRequest;
import java.util.List;

/** What to drop: {@code Invalidation.keys("a", "b")}, {@code Invalidation.tags("t")}, {@code Invalidation.prefix("p:")}. */
public record Invalidation(List<String> keyList, List<String> tagList, String keyPrefix) {
  public static Invalidation keys(String... keys) {
    return new Invalidation(List.of(keys), List.of(), null);
  }

  public static Invalidation tags(String... tags) {
    return new Invalidation(List.of(), List.of(tags), null);
  }

  /** Every key starting with {@code prefix}; "" drops the whole namespace. */
  public static Invalidation prefix(String prefix) {
    return new Invalidation(List.of(), List.of(), prefix);
  }

  InvalidateRequest toRequest(String namespace) {
    InvalidateRequest.Builder request =
        InvalidateRequest.newBuilder().setNamespace(namespace).addAllKeys(keyList).addAllTags(tagList);
    if (keyPrefix != null) request.setPrefix(keyPrefix);
    return request.build();
  }
}
