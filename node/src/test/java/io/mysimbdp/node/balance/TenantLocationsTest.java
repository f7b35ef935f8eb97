package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.actor.Address;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TenantLocationsTest {
  static final Address A = new Address("akka", "mysimbdp", "10.0.0.1", 2552);
  static final Address B = new Address("akka", "mysimbdp", "10.0.0.2", 2552);
  static final Instant T0 = Instant.parse("2026-12-04T08:00:00Z");

  @Test
  void aListingReadBeforeAPlacementWasWrittenDoesNotUndoIt() {
    TenantLocations locations = new TenantLocations();
    long listingBegan = locations.writesSoFar();
    locations.place("t1", B.toString()); // set while the listing is out
    locations.listed(List.of("t1", "t2"), Map.of("t1", A, "t2", A), listingBegan, T0);
    assertEquals(B.toString(), locations.of("t1"), "set after the read began: kept");
    assertEquals(A.toString(), locations.of("t2"));

    // The next listing began after the placement: the read has it, and now rules.
    long next = locations.writesSoFar();
    locations.listed(List.of(), Map.of("t1", A, "t2", A), next, T0.plusSeconds(1));
    assertEquals(A.toString(), locations.of("t1"), "set before the read began: the read is newer");
  }

  @Test
  void locationsNotReadKeepWhatIsKnownAndTheListingStillCounts() {
    TenantLocations locations = new TenantLocations();
    locations.listed(List.of("t1"), Map.of("t1", A), locations.writesSoFar(), T0);
    locations.listed(List.of("t2"), null, locations.writesSoFar(), T0.plusSeconds(10));
    assertEquals(A.toString(), locations.of("t1"));
    assertNull(locations.of("t2"), "not placed yet");
    assertEquals(Set.of("t1", "t2"), locations.known());
    assertEquals(T0.plusSeconds(10).minus(TenantLocations.LISTING_OVERLAP), locations.listingSince());
  }

  @Test
  void theFirstListingIsAFullOneAndLaterOnesReachBackByTheOverlap() {
    TenantLocations locations = new TenantLocations();
    assertNull(locations.listingSince());
    locations.listed(List.of(), Map.of(), 0, T0);
    assertEquals(T0.minus(TenantLocations.LISTING_OVERLAP), locations.listingSince());
  }

  @Test
  void tenantsOnANodeAndAReadOnlyView() {
    TenantLocations locations = new TenantLocations();
    locations.place("t1", A.toString());
    locations.place("t2", B.toString());
    locations.place("t3", A.toString());
    locations.know("t1");
    assertEquals(Set.of("t1", "t3"), locations.on(A.toString()));
    assertEquals(Map.of("t1", A.toString(), "t2", B.toString(), "t3", A.toString()), locations.placedOn());
    assertThrows(UnsupportedOperationException.class, () -> locations.placedOn().put("t4", A.toString()));
    assertThrows(UnsupportedOperationException.class, () -> locations.known().add("t4"));
    assertEquals(Set.of("t1"), locations.known());
  }
}
