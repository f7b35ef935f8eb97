package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Many locations set at once go to the allocation map in bounded updates, one after the other. */
class LocationWritesTest {
  static final Address NODE = new Address("akka", "mysimbdp", "10.0.0.1", 2552);

  @Test
  void aNodesTenantsPlacedAtOnceAreWrittenInBoundedPartsOneAfterTheOther() {
    Map<String, Address> moves = new HashMap<>();
    for (int i = 0; i < 3 * LoadBalancer.LOCATIONS_PER_WRITE + 334; i++) {
      moves.put("t" + i, NODE);
    }
    List<Map<String, Address>> parts = new ArrayList<>();
    List<CompletableFuture<Done>> pending = new ArrayList<>();
    CompletionStage<Done> all = LoadBalancer.writeInParts(moves, part -> {
      parts.add(part);
      CompletableFuture<Done> written = new CompletableFuture<>();
      pending.add(written);
      return written;
    });
    for (int i = 0; i < 4; i++) {
      assertEquals(i + 1, parts.size(), "the next update only once the last is written");
      assertFalse(all.toCompletableFuture().isDone());
      pending.get(i).complete(Done.getInstance());
    }
    assertTrue(all.toCompletableFuture().isDone());
    assertTrue(parts.stream().allMatch(p -> p.size() <= LoadBalancer.LOCATIONS_PER_WRITE));
    Map<String, Address> written = new HashMap<>();
    parts.forEach(written::putAll);
    assertEquals(moves, written);
    assertEquals(moves.size(), parts.stream().mapToInt(Map::size).sum(), "each once");
  }

  @Test
  void aFewLocationsAreOneUpdateAndAFailedPartFailsTheWrite() {
    List<Map<String, Address>> parts = new ArrayList<>();
    LoadBalancer.writeInParts(Map.of("a", NODE, "b", NODE), part -> {
      parts.add(part);
      return CompletableFuture.completedFuture(Done.getInstance());
    });
    assertEquals(List.of(Map.of("a", NODE, "b", NODE)), parts);

    Map<String, Address> many = new HashMap<>();
    for (int i = 0; i < LoadBalancer.LOCATIONS_PER_WRITE + 1; i++) {
      many.put("t" + i, NODE);
    }
    CompletionStage<Done> failed = LoadBalancer.writeInParts(many, part -> CompletableFuture.failedFuture(new IllegalStateException("timeout")));
    assertTrue(failed.toCompletableFuture().isCompletedExceptionally());
  }
}
