package io.mysimbdp.node.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * #13 item 2: a short store outage must not turn good records into dead letters. A category's
 * mapping that was known stays in use while its reload fails; one never loaded fails (the stream
 * then retries and acks nothing) and is tried again at the next get.
 */
class TtlCacheTest {
  private static final IllegalStateException STORE_DOWN = new IllegalStateException("the store is unreachable");

  @Test
  void aFailedReloadKeepsTheLastKnownValue() throws Exception {
    TtlCache<String> cache = new TtlCache<>(10, Duration.ZERO, v -> {});
    assertEquals("identity", cache.get("t1", previous -> CompletableFuture.completedFuture("identity")).toCompletableFuture().get());
    String during = cache.get("t1", previous -> CompletableFuture.failedFuture(STORE_DOWN)).toCompletableFuture().get();
    assertEquals("identity", during, "the last known mapping, not a failure");
    assertEquals("v2", cache.get("t1", previous -> CompletableFuture.completedFuture("v2")).toCompletableFuture().get(),
        "the store is back: reloaded");
  }

  @Test
  void aValueNeverLoadedFailsAndIsTriedAgain() throws Exception {
    TtlCache<String> cache = new TtlCache<>(10, Duration.ofHours(1), v -> {});
    AtomicInteger loads = new AtomicInteger();
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> cache.get("t1", previous -> {
          loads.incrementAndGet();
          return CompletableFuture.failedFuture(STORE_DOWN);
        }).toCompletableFuture().get());
    assertTrue(failed.getCause() == STORE_DOWN);
    assertEquals("identity", cache.get("t1", previous -> {
      loads.incrementAndGet();
      return CompletableFuture.completedFuture("identity");
    }).toCompletableFuture().get());
    assertEquals(2, loads.get());
  }
}
