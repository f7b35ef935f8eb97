package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.BalancerDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A move is in flight from its decision until its tenant runs on its node, or given up after the hand-off timeout. */
class MovesInFlightTest {
  private static final Instant T0 = Instant.parse("2026-12-04T10:00:00Z");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SETTLE = Duration.ofSeconds(30);

  private static BalancerDecision move(String tenant, String to) {
    return new BalancerDecision("id-" + tenant, tenant, "load", "node-a", to, "lagging", T0, null, null, null);
  }

  @Test
  void aMoveIsDoneWhenItsTenantConsumesOnItsNodeAndTheBalancerSettlesAfterIt() {
    MovesInFlight moves = new MovesInFlight();
    moves.begin(move("t1", "node-b"));
    assertTrue(moves.isMoving("t1"));
    assertEquals(java.util.Set.of("t1"), moves.tenants());
    assertEquals(Optional.empty(), moves.to("t1", "node-a"), "a report from elsewhere is not the move's end");
    assertTrue(moves.settling(T0.plus(Duration.ofHours(1)), SETTLE), "in flight: no other load move");

    BalancerDecision move = moves.to("t1", "node-b").orElseThrow();
    Instant consuming = T0.plusMillis(1500);
    BalancerDecision done = moves.complete(move, consuming, 42L, consuming);
    assertEquals(1500L, done.handOffMillis());
    assertEquals(42L, done.backlogAtResume());
    assertEquals(consuming, done.consumingAt());
    assertFalse(moves.isMoving("t1"));
    assertTrue(moves.settling(consuming.plus(SETTLE).minusMillis(1), SETTLE), "its effect is not in the reports yet");
    assertFalse(moves.settling(consuming.plus(SETTLE), SETTLE));
  }

  @Test
  void pastTheTimeoutAMoveWhoseTenantStartedIsDoneAndOneNeverSeenIsGivenUp() {
    MovesInFlight moves = new MovesInFlight();
    moves.begin(move("started", "node-b"));
    moves.begin(move("unseen", "node-c"));
    moves.begin(move("recent", "node-b"));
    moves.started("started", T0.plusSeconds(2));

    assertEquals(new MovesInFlight.Expired(List.of(), List.of()), moves.expire(T0.plus(TIMEOUT), TIMEOUT), "not past the timeout yet");
    moves.abandon("recent");
    MovesInFlight.Expired expired = moves.expire(T0.plus(TIMEOUT).plusSeconds(1), TIMEOUT);
    assertEquals(List.of("started"), expired.done().stream().map(BalancerDecision::tenant).toList());
    assertEquals(2000L, expired.done().get(0).handOffMillis());
    assertEquals(List.of("unseen"), expired.unseen().stream().map(BalancerDecision::tenant).toList());
    assertTrue(moves.isEmpty());
  }
}
