package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the balancer does with a node's digest of 10,000 tenants, and with 10,000 tenants to place. */
class NodeDigestTest {
  static final String A = "akka://mysimbdp@127.0.0.1:2551";
  static final String B = "akka://mysimbdp@127.0.0.1:2552";
  static final String C = "akka://mysimbdp@127.0.0.1:2553";

  final BalancerSettings settings = BalancerSettings.from(ConfigFactory.load());
  final Set<String> upNodes = new LinkedHashSet<>(List.of(A, B, C));
  final Map<String, String> placedOn = new HashMap<>();
  final BalancingPolicy policy = new BalancingPolicy(settings, upNodes, new HashSet<>(), placedOn);
  Instant now = Instant.parse("2026-11-28T10:00:00Z");

  PerformanceReport report(String tenant, String node, double perSecond, long backlog) {
    long stored = Math.round(perSecond * settings.reportInterval().toSeconds());
    return new PerformanceReport(tenant, stored * 100, 20, stored, now.minus(settings.reportInterval()), now, List.of("records"), node,
        stored, perSecond, perSecond, 10, 40, backlog, 0, 0, List.of(), null);
  }

  void nextInterval() {
    now = now.plus(settings.reportInterval());
  }

  @Test
  void anIdleTenantsDemandDecaysAsWithZeroReportsThenOnlyItsFreshnessIsRenewed() {
    policy.report(report("t", A, 300, 0), now);
    assertEquals(300, policy.tenants.get("t").demand(), 0.001);
    int keep = settings.lagReports() + 2;
    for (int i = 0; i < keep; i++) {
      nextInterval();
      policy.idle("t", A, now, now);
    }
    BalancingPolicy.TenantState state = policy.tenants.get("t");
    assertEquals(0, state.demand(), 0.001, "the reports before it went idle have aged out");
    assertEquals(keep, state.reports.size());
    PerformanceReport settled = state.last();
    // Idle from then on: nothing added, only its freshness renewed (a look-up per idle tenant).
    for (int i = 0; i < 5; i++) {
      nextInterval();
      policy.idle("t", A, now, now);
    }
    assertTrue(settled == state.last(), "no report added once settled");
    assertEquals(now, state.lastReportAt);
    assertTrue(policy.isFresh(state, now));
    assertEquals(1, policy.nodeStates(now).get(A).tenants, "still counted on its node");
  }

  @Test
  void anIdleTenantUnknownToTheBalancerIsCountedOnTheNodeThatNamesIt() {
    policy.idle("new", B, now, now);
    assertEquals(B, policy.tenants.get("new").node());
    assertEquals(1, policy.nodeStates(now).get(B).tenants);
  }

  @Test
  void tenThousandDigestedTenantsArePlacedEvenlyWithoutLookingAtEveryTenantEachTime() {
    for (int i = 0; i < 10_000; i++) {
      policy.idle("old-" + i, i % 2 == 0 ? A : B, now, now);
      placedOn.put("old-" + i, i % 2 == 0 ? A : B);
    }
    Map<String, Integer> placed = new HashMap<>();
    for (int i = 0; i < 10_000; i++) {
      String tenant = "new-" + i;
      String node = policy.place(tenant, Set.of(), now).orElseThrow();
      placedOn.put(tenant, node);
      placed.merge(node, 1, Integer::sum);
    }
    // C had none: it takes new tenants until the three are level, then they take turns.
    assertEquals(6_667, placed.get(C), 1);
    assertEquals(1_667, placed.get(A), 1);
    assertEquals(1_666, placed.get(B), 1);
    // A lost node's tenants spread over the others, each placement counted into the view.
    Map<String, Integer> failedOver = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      String node = policy.place("old-" + (2 * i), Set.of(A), now.plus(Duration.ofMillis(1))).orElseThrow();
      failedOver.merge(node, 1, Integer::sum);
    }
    assertEquals(Set.of(B, C), failedOver.keySet());
    assertEquals(1_500, failedOver.get(B), 1);
  }
}
