package io.mysimbdp.node.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import akka.actor.Address;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which shards a rebalance moves: those running elsewhere than their location, where a region can take them. */
class IndexedExternalAllocationTest {
  private static final Address A = new Address("akka", "mysimbdp", "10.0.0.1", 2552);
  private static final Address B = new Address("akka", "mysimbdp", "10.0.0.2", 2552);
  private static final Address GONE = new Address("akka", "mysimbdp", "10.0.0.9", 2552);

  @Test
  void movesOnlyShardsRunningAwayFromTheirLocationToANodeWithARegion() {
    Map<Address, List<String>> current = Map.of(A, List.of("t1", "t2", "t3", "t4"), B, List.of("t5"));
    Map<String, Address> desired = Map.of(
        "t1", A, // where it runs
        "t2", B, // elsewhere: moves
        "t3", B, // elsewhere, but already moving
        "t4", GONE, // to a node without a region: stays
        "t5", A, // elsewhere: moves
        "t6", B); // not running anywhere yet: allocated there when it starts, nothing to move
    assertEquals(Set.of("t2", "t5"), IndexedExternalAllocation.shardsToMove(current, desired, Set.of("t3")));
  }

  @Test
  void tenThousandShardsAreComparedOnceEach() {
    Map<Address, List<String>> current = new HashMap<>();
    Map<String, Address> desired = new HashMap<>();
    List<String> onA = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      onA.add("t" + i);
      desired.put("t" + i, i % 1000 == 0 ? B : A);
    }
    current.put(A, onA);
    current.put(B, List.of());
    assertEquals(10, IndexedExternalAllocation.shardsToMove(current, desired, Set.of()).size());
  }

  @Test
  void locationsAreParsedOnceAndOnlyWhenTheyChange() {
    IndexedExternalAllocation.LocationCache cache = new IndexedExternalAllocation.LocationCache();
    Map<String, String> locations = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      locations.put("t" + i, A.toString());
    }
    assertEquals(1000, cache.update(locations));
    assertEquals(A, cache.get("t7"));
    assertEquals(null, cache.get("t-none"));
    scala.collection.immutable.Map<String, Address> all = cache.snapshot();
    assertEquals(1000, all.size());

    assertEquals(0, cache.update(locations), "unchanged: nothing parsed");
    assertSame(all, cache.snapshot(), "unchanged: the same snapshot");

    locations.put("t7", B.toString());
    locations.put("t1000", B.toString());
    assertEquals(2, cache.update(locations));
    assertEquals(B, cache.get("t7"));
    assertEquals(B, cache.snapshot().apply("t1000"));
    assertEquals(1001, cache.snapshot().size());
  }
}
