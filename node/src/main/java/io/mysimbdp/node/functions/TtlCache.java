package io.mysimbdp.node.functions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A bounded (least recently used out first) cache of asynchronously loaded values that are
 * reloaded when older than the TTL. The loader gets the previous value, so it can keep what did
 * not change (a compiled function, a guard's state, rule counters). A reload that fails answers the
 * previous value (stale rather than failed); a key never loaded fails and is tried again next get.
 */
final class TtlCache<V> {
  private record Entry<V>(CompletableFuture<V> value, long loadedAt) {}

  private final long ttlNanos;
  private final Consumer<V> onEvict;
  private final LinkedHashMap<String, Entry<V>> entries;

  TtlCache(int maxEntries, java.time.Duration ttl, Consumer<V> onEvict) {
    this.ttlNanos = ttl.toNanos();
    this.onEvict = onEvict;
    this.entries =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Entry<V>> eldest) {
            if (size() <= maxEntries) {
              return false;
            }
            done(eldest.getValue()).ifPresent(onEvict);
            return true;
          }
        };
  }

  synchronized CompletionStage<V> get(String key, Function<V, CompletionStage<V>> loader) {
    Entry<V> entry = entries.get(key);
    long now = System.nanoTime();
    if (entry != null && now - entry.loadedAt() < ttlNanos && !entry.value().isCompletedExceptionally()) {
      return entry.value();
    }
    V previous = entry == null ? null : done(entry).orElse(null);
    CompletableFuture<V> loading;
    try {
      loading = loader.apply(previous).toCompletableFuture();
    } catch (RuntimeException e) {
      loading = CompletableFuture.failedFuture(e);
    }
    if (previous != null) {
      // A reload that fails (the store briefly unreachable) keeps the last known value for another
      // TTL rather than failing every caller: only a value that was never loaded fails.
      V last = previous;
      loading = loading.exceptionally(e -> last);
    }
    entries.put(key, new Entry<>(loading, now));
    return loading;
  }

  /** The value if loaded, without loading. */
  synchronized Optional<V> peek(String key) {
    Entry<V> entry = entries.get(key);
    return entry == null ? Optional.empty() : done(entry);
  }

  /** Marks the entries whose key starts with {@code prefix} stale: the next get reloads them. */
  synchronized void expire(String prefix) {
    entries.replaceAll((k, e) -> k.startsWith(prefix) ? new Entry<>(e.value(), e.loadedAt() - ttlNanos - 1) : e);
  }

  synchronized List<V> values() {
    List<V> out = new ArrayList<>();
    for (Entry<V> e : entries.values()) {
      done(e).ifPresent(out::add);
    }
    return out;
  }

  private static <V> Optional<V> done(Entry<V> entry) {
    CompletableFuture<V> f = entry.value();
    return f.isDone() && !f.isCompletedExceptionally() ? Optional.ofNullable(f.join()) : Optional.empty();
  }
}
