package dev.mlcache.client;

import dev.mlcache.v1.Item;
import java.util.Optional;

/**
 * The outcome of one key of a bulk get: the item (empty when not found), or the error that key
 * failed with.
 */
public record KeyResult(Optional<Item> item, CacheException error) {
  public boolean failed() {
    return error != null;
  }
}
