package io.mysimbdp.node.balance;

import io.mysimbdp.protocol.BalancerDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The balancer's moves from their decision until the tenant runs on its new node: a move is in
 * flight once its location is being set, done when the tenant consumes there (or, if nothing was
 * flowing, starts there), and given up after the hand-off timeout if it was never seen there. No
 * load move is decided while one is in flight nor within the settle time after the last one.
 * Not thread-safe: the balancer's own.
 */
final class MovesInFlight {
  private final Map<String, BalancerDecision> moves = new LinkedHashMap<>();
  private final Map<String, Instant> startedAt = new HashMap<>();
  private final Set<String> tenants = Collections.unmodifiableSet(moves.keySet());
  private Instant lastSettledAt = Instant.EPOCH;

  /** What {@link #expire} found: moves done (their tenant started, never consumed) and moves given up. */
  record Expired(List<BalancerDecision> done, List<BalancerDecision> unseen) {}

  void begin(BalancerDecision move) {
    moves.put(move.tenant(), move);
  }

  /** The location could not be set: the move never started. */
  void abandon(String tenant) {
    moves.remove(tenant);
    startedAt.remove(tenant);
  }

  boolean isMoving(String tenant) {
    return moves.containsKey(tenant);
  }

  boolean isEmpty() {
    return moves.isEmpty();
  }

  /** The moving tenants: a live, read-only view. */
  Set<String> tenants() {
    return tenants;
  }

  List<BalancerDecision> all() {
    return List.copyOf(moves.values());
  }

  /** The tenant's move, if it is moving to {@code node}. */
  Optional<BalancerDecision> to(String tenant, String node) {
    BalancerDecision move = moves.get(tenant);
    return move != null && node.equals(move.to()) ? Optional.of(move) : Optional.empty();
  }

  /** The tenant's entity runs on the move's node since {@code at}. */
  void started(String tenant, Instant at) {
    startedAt.put(tenant, at);
  }

  /** The move is done: its tenant consumes (or ran) on its node since {@code at}; {@code backlog} waited then. */
  BalancerDecision complete(BalancerDecision move, Instant at, Long backlog, Instant now) {
    moves.remove(move.tenant());
    startedAt.remove(move.tenant());
    lastSettledAt = now;
    long millis = Math.max(0, Duration.between(move.decidedAt(), at).toMillis());
    return new BalancerDecision(move.id(), move.tenant(), move.kind(), move.from(), move.to(), move.reason(), move.decidedAt(), at, millis, backlog);
  }

  /** Moves older than {@code timeout}: done if their tenant started on its node, else given up. */
  Expired expire(Instant now, Duration timeout) {
    List<BalancerDecision> done = new ArrayList<>();
    List<BalancerDecision> unseen = new ArrayList<>();
    for (BalancerDecision move : List.copyOf(moves.values())) {
      if (Duration.between(move.decidedAt(), now).compareTo(timeout) > 0) {
        Instant started = startedAt.get(move.tenant());
        if (started != null) {
          done.add(complete(move, started, null, now));
        } else {
          abandon(move.tenant());
          lastSettledAt = now;
          unseen.add(move);
        }
      }
    }
    return new Expired(done, unseen);
  }

  /** Whether a move is in flight, or the last one settled less than {@code settle} ago (its effect not yet in the reports). */
  boolean settling(Instant now, Duration settle) {
    return !moves.isEmpty() || Duration.between(lastSettledAt, now).compareTo(settle) < 0;
  }
}
