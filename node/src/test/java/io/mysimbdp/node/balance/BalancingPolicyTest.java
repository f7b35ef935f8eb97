package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The balancing rules of docs/balancer.md, one by one, on reports made up for each case. */
class BalancingPolicyTest {
  static final String A = "akka://mysimbdp@127.0.0.1:2551";
  static final String B = "akka://mysimbdp@127.0.0.1:2552";
  static final String C = "akka://mysimbdp@127.0.0.1:2553";

  final BalancerSettings settings = BalancerSettings.from(ConfigFactory.load());
  final Set<String> upNodes = new LinkedHashSet<>();
  final Set<String> inFlight = new HashSet<>();
  final Map<String, String> placedOn = new HashMap<>();
  BalancingPolicy policy;
  Instant now = Instant.parse("2026-11-28T10:00:00Z");
  /** Where the next round of reports starts: every tenant reports in the same intervals. */
  Instant roundStart = now;

  @BeforeEach
  void cluster() {
    upNodes.addAll(List.of(A, B));
    policy = new BalancingPolicy(settings, upNodes, inFlight, placedOn);
  }

  /** Reports for {@code tenant} on {@code node}, one per interval, with these backlogs, storing {@code perSecond}. */
  void reports(String tenant, String node, double perSecond, long... backlogs) {
    long seconds = settings.reportInterval().toSeconds();
    Long previous = null;
    Instant at = roundStart;
    for (long backlog : backlogs) {
      at = at.plus(settings.reportInterval());
      now = at.isAfter(now) ? at : now;
      double growth = previous == null ? 0 : (backlog - previous) / (double) seconds;
      previous = backlog;
      long stored = Math.round(perSecond * seconds);
      PerformanceReport report =
          new PerformanceReport(tenant, stored * 100, 20, stored, at.minus(settings.reportInterval()), at, List.of("records"), node,
              stored, perSecond, Math.max(0, perSecond + growth), 10, 40, backlog, 0, 0, List.of(), null);
      policy.report(report, at);
    }
  }

  void nodeCpu(String node, double cpu) {
    policy.nodeLoad(node, cpu, now);
  }

  @Test
  void aTenantWhoseBacklogGrowsMovesToTheNodeWithTheMostHeadroom() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("calm", B, 100, 0, 0, 0);
    nodeCpu(A, 0.3);
    nodeCpu(B, 0.3);

    Optional<BalancerDecision> move = policy.nextMove(now);

    assertTrue(move.isPresent());
    assertEquals("slow", move.get().tenant());
    assertEquals("relieve", move.get().kind());
    assertEquals(A, move.get().from());
    assertEquals(B, move.get().to());
    assertTrue(move.get().reason().contains("backlog 6000"), move.get().reason());
  }

  @Test
  void aSmallOrShrinkingBacklogIsNotLag() {
    reports("small", A, 100, 10, 100, 400); // grows, but under min-backlog
    reports("catching-up", B, 500, 9_000, 6_000, 3_000);
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void noMoveWhenEveryOtherNodeIsSaturatedToo() {
    reports("slow-a", A, 100, 1_000, 3_000, 6_000);
    reports("slow-b", B, 100, 1_000, 3_000, 6_000);
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void aNodeAtHighCpuIsNotATarget() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    nodeCpu(B, 0.95);
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void aBusyNodeDoesNotStopTheOthersEvenOutButTakesNoTenant() {
    upNodes.add(C);
    reports("t1", A, 300, 0, 0, 0);
    reports("t2", A, 200, 0, 0, 0);
    reports("t3", B, 300, 0, 0, 0);
    reports("t4", B, 200, 0, 0, 0);
    // C just joined and is compiling: not a target, and A and B are even: no move until C calms down.
    nodeCpu(C, 0.95);
    assertEquals(Optional.empty(), policy.nextMove(now));

    nodeCpu(C, 0.40);
    assertEquals(C, policy.nextMove(now).orElseThrow().to());

    // A node busy with what it carries (high CPU, nothing lagging) still gives load away.
    nodeCpu(A, 0.95);
    BalancerDecision move = policy.nextMove(now).orElseThrow();
    assertEquals(A, move.from());
    assertEquals(C, move.to());
  }

  @Test
  void aTenantInItsCoolDownOrMovingAlreadyStaysPut() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    policy.tenant("slow").lastMovedAt = now.minus(settings.coolDown()).plusSeconds(30);
    assertEquals(Optional.empty(), policy.nextMove(now));

    policy.tenant("slow").lastMovedAt = now.minus(settings.coolDown());
    inFlight.add("slow");
    assertEquals(Optional.empty(), policy.nextMove(now));

    inFlight.clear();
    assertEquals("slow", policy.nextMove(now).orElseThrow().tenant());
  }

  @Test
  void aJoiningNodeTakesTheHeaviestTenantsUntilLoadsAreEven() {
    upNodes.add(C);
    reports("t1", A, 300, 0, 0, 0);
    reports("t2", A, 200, 0, 0, 0);
    reports("t3", B, 250, 0, 0, 0);

    BalancerDecision first = policy.nextMove(now).orElseThrow();
    assertEquals("even-out", first.kind());
    assertEquals(A, first.from());
    assertEquals(C, first.to());
    // t1 (300/s) would leave A at 200 and C at 300: spread 100 < 0.8 × 500, the heaviest that narrows it.
    assertEquals("t1", first.tenant());

    policy.tenant("t1").lastMovedAt = now;
    policy.moved(A, C, now);
    roundStart = now;
    reports("t1", C, 300, 0, 0, 0);
    reports("t2", A, 200, 0, 0, 0);
    reports("t3", B, 250, 0, 0, 0);
    // A 200, B 250, C 300: within the imbalance band, nothing moves.
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void anUnreachableNodeTakesNothingAndNothingEvensOutUntilItIsBackOrGone() {
    upNodes.add(C);
    // C crashed: its tenant's reports stopped, so C looks idle; it is Up until it is downed.
    reports("t1", A, 300, 0, 0, 0);
    reports("t2", A, 200, 0, 0, 0);
    reports("t3", B, 250, 0, 0, 0);
    policy.reachable(C, false);

    assertEquals(Optional.empty(), policy.nextMove(now), "no tenant goes to (or is evened out around) an unreachable node");
    assertEquals(Optional.of(B), policy.leastLoaded(Set.of(), now));

    policy.reachable(C, true);
    assertEquals(C, policy.nextMove(now).orElseThrow().to(), "back: it takes load again");
    policy.reachable(C, false);
    upNodes.remove(C);
    policy.forgetNode(C);
    BalancerDecision between = policy.nextMove(now).orElseThrow();
    assertEquals(List.of("t2", A, B), List.of(between.tenant(), between.from(), between.to()), "gone: the others even out between them");
  }

  @Test
  void loadFlowsOneWayWithinTheCoolDown() {
    upNodes.add(C);
    reports("t1", A, 100, 0, 0, 0);
    reports("t2", B, 300, 0, 0, 0);
    reports("t3", C, 50, 0, 0, 0);
    // B gave a tenant to C a moment ago; now noise makes C look busiest: nothing goes back from C to
    // B within the cool-down, and C's one tenant moved to A would only mirror the spread: no move.
    policy.moved(B, C, now);
    roundStart = now;
    reports("t1", A, 50, 0, 0, 0);
    reports("t2", B, 100, 0, 0, 0);
    reports("t3", C, 400, 0, 0, 0);
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void aBusyNodesLittleDemandIsNotTheLevelToEvenOutTo() {
    String d = "akka://mysimbdp@127.0.0.1:2554";
    upNodes.add(C);
    reports("a1", A, 250, 0, 0, 0);
    reports("a2", A, 50, 0, 0, 0);
    reports("b1", B, 300, 0, 0, 0);
    reports("c1", C, 200, 0, 0, 0);
    // A 300, B 300, C 200: within the band of their mean (267), nothing moves ...
    assertEquals(Optional.empty(), policy.nextMove(now));
    // ... nor when a node joins that cannot take load yet: its 0 would make the mean 200 and A, 50%
    // above it, give a2 to C.
    upNodes.add(d);
    nodeCpu(d, 0.95);
    assertEquals(Optional.empty(), policy.nextMove(now));
    nodeCpu(d, 0.10);
    assertEquals(d, policy.nextMove(now).orElseThrow().to());
  }

  @Test
  void aNodeThatTookATenantMayGiveOneOnToAThirdNode() {
    upNodes.add(C);
    reports("t1", A, 100, 0, 0, 0);
    reports("t2", B, 100, 0, 0, 0);
    reports("t3", B, 100, 0, 0, 0);
    reports("t4", B, 100, 0, 0, 0);
    policy.moved(A, B, now); // B took t4 from A a moment ago; C joined since and carries nothing
    BalancerDecision move = policy.nextMove(now).orElseThrow();
    assertEquals(B, move.from());
    assertEquals(C, move.to());
  }

  @Test
  void equalTenantsDoNotFlapBetweenNodes() {
    reports("t1", A, 100, 0, 0, 0);
    reports("t2", A, 100, 0, 0, 0);
    reports("t3", B, 100, 0, 0, 0);
    // A 200, B 100: moving a 100/s tenant only mirrors the spread (B 200, A 100): no move.
    assertEquals(Optional.empty(), policy.nextMove(now));
  }

  @Test
  void aNodeRelievedOfALaggingTenantReceivesNoTenantsToEvenOut() {
    upNodes.add(C);
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("t2", B, 300, 0, 0, 0);
    reports("t3", B, 300, 0, 0, 0);
    BalancerDecision relieve = policy.nextMove(now).orElseThrow();
    assertEquals("relieve", relieve.kind());
    assertEquals(C, relieve.to());
    policy.tenant("slow").lastMovedAt = now;

    roundStart = now;
    reports("slow", C, 100, 0, 0, 0);
    reports("t2", B, 300, 0, 0, 0);
    reports("t3", B, 300, 0, 0, 0);
    // B carries 600/s, A nothing: but A was just saturated, so C takes B's load instead.
    BalancerDecision evenOut = policy.nextMove(now).orElseThrow();
    assertEquals("even-out", evenOut.kind());
    assertEquals(C, evenOut.to());
  }

  @Test
  void newTenantsGoToTheNodeWithTheFewestTenantsWhenNothingFlows() {
    placedOn.put("x", A);
    placedOn.put("y", A);
    placedOn.put("z", B);
    assertEquals(Optional.of(B), policy.leastLoaded(Set.of(), now));
    assertEquals(Optional.of(A), policy.leastLoaded(Set.of(B), now));
  }

  @Test
  void oneHighCpuReadingDoesNotKeepNewTenantsOffANodeButAHighCpuThatStaysDoes() {
    upNodes.add(C);
    // Fresh JVMs: A reads busy once (it compiles), B and C do not.
    nodeCpu(A, 0.95);
    nodeCpu(B, 0.40);
    nodeCpu(C, 0.30);
    Set<String> chosen = new HashSet<>();
    for (String tenant : List.of("new-1", "new-2", "new-3")) {
      String node = policy.leastLoaded(Set.of(), now).orElseThrow();
      placedOn.put(tenant, node);
      chosen.add(node);
    }
    assertEquals(Set.of(A, B, C), chosen, "three new tenants, one a node: " + placedOn);

    // A stays busy over its next reading: no new tenant goes there while another node can take it.
    now = now.plus(settings.reportInterval());
    nodeCpu(A, 0.97);
    nodeCpu(B, 0.40);
    nodeCpu(C, 0.30);
    placedOn.put("new-4", policy.leastLoaded(Set.of(), now).orElseThrow());
    placedOn.put("new-5", policy.leastLoaded(Set.of(), now).orElseThrow());
    assertEquals(Set.of(B, C), Set.of(placedOn.get("new-4"), placedOn.get("new-5")), placedOn.toString());
    // Every node busy: the fewest tenants again.
    for (int reading = 0; reading < 3; reading++) {
      now = now.plus(settings.reportInterval());
      nodeCpu(A, 0.90);
      nodeCpu(B, 0.90);
      nodeCpu(C, 0.90);
    }
    placedOn.put("new-6", policy.leastLoaded(Set.of(), now).orElseThrow());
    assertEquals(A, placedOn.get("new-6"));
  }

  @Test
  void aLostNodesTenantsSpreadOverTheOthersByTheirDemand() {
    upNodes.add(C);
    reports("lost-1", C, 100, 0, 0, 0);
    reports("lost-2", C, 100, 0, 0, 0);
    reports("a", A, 50, 0, 0, 0);
    reports("b", B, 60, 0, 0, 0);
    placedOn.putAll(Map.of("lost-1", C, "lost-2", C, "a", A, "b", B));
    upNodes.remove(C);
    // As the balancer reassigns a lost node's tenants when it is downed, their reports some seconds
    // old (the others' fresh): one at a time, each placement counted.
    now = now.plus(settings.reportInterval().multipliedBy(4));
    roundStart = now.minus(settings.reportInterval().multipliedBy(3));
    reports("a", A, 50, 0, 0, 0);
    reports("b", B, 60, 0, 0, 0);
    String first = policy.leastLoaded(Set.of(C), now).orElseThrow();
    placedOn.put("lost-1", first);
    String second = policy.leastLoaded(Set.of(C), now).orElseThrow();
    assertEquals(A, first);
    assertEquals(B, second, "lost-1's 100/s already weighs on A");
  }

  @Test
  void staleReportsDoNotCount() {
    reports("gone", A, 1_000, 0, 0, 0);
    now = now.plus(settings.reportInterval().multipliedBy(4));
    assertEquals(0, policy.nodeStates(now).get(A).demand);
  }

  // ---- nodes wanted ----

  /** A policy over these nodes with the balancer's settings and {@code overrides} (HOCON under mysimbdp.balancer). */
  BalancingPolicy policyWith(String overrides) {
    BalancerSettings custom = BalancerSettings.from(ConfigFactory.parseString(overrides).atPath("mysimbdp.balancer").withFallback(ConfigFactory.load()));
    return new BalancingPolicy(custom, upNodes, inFlight, placedOn);
  }

  /** One report interval later: every tenant in {@code backlogs} reports it, every Up node its CPU. */
  void round(Map<String, Double> cpu, Map<String, String> tenantNodes, long backlog) {
    roundStart = now;
    tenantNodes.forEach((tenant, node) -> reports(tenant, node, 100, backlog));
    cpu.forEach(this::nodeCpu);
  }

  @Test
  void aTenantThatLagsWhereAnotherNodeHasHeadroomAsksForNoNode() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("calm", B, 100, 0, 0, 0);
    nodeCpu(A, 0.9);
    nodeCpu(B, 0.3);
    assertEquals(Optional.empty(), policy.scale(now));
    assertEquals(2, policy.nodesWanted(now).nodesWanted());
    assertEquals("relieve", policy.nextMove(now).orElseThrow().kind(), "B takes it: no node is needed");
  }

  @Test
  void aTenantThatLagsWithNoHeadroomAnywhereAsksForOneMoreNodeOnce() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("busy", B, 400, 0, 0, 0);
    nodeCpu(A, 0.9);
    nodeCpu(B, 0.95);
    assertEquals(Optional.empty(), policy.nextMove(now), "no node can take it");

    BalancerDecision out = policy.scale(now).orElseThrow();
    assertEquals("scale-out", out.kind());
    assertEquals("slow", out.tenant());
    assertTrue(out.reason().contains("backlog 6000") && out.reason().contains("2 -> 3 nodes") && out.reason().contains("cpu 95%"), out.reason());
    LoadBalancer.NodesWanted wanted = policy.nodesWanted(now);
    assertEquals(3, wanted.nodesWanted());
    assertEquals(2, wanted.nodes());
    assertEquals(out.reason(), wanted.reason());

    // Still lagging, a minute later: the node asked for has not joined, so no second one is asked.
    roundStart = now;
    reports("slow", A, 100, 9_000, 12_000, 15_000, 18_000, 21_000, 24_000);
    nodeCpu(A, 0.9);
    nodeCpu(B, 0.95);
    assertEquals(Optional.empty(), policy.scale(now));
    assertEquals(3, policy.nodesWanted(now).nodesWanted());
  }

  @Test
  void theNodeThatJoinsTakesTheSlowTenantFirstThenNewTenantsUntilItIsLevel() {
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("other", A, 300, 0, 0, 0);
    reports("busy", B, 400, 0, 0, 0);
    nodeCpu(A, 0.9);
    nodeCpu(B, 0.95);
    policy.scale(now).orElseThrow();

    // C joins, its fresh JVM compiling (CPU high twice): relieve and placement would pass it over.
    upNodes.add(C);
    nodeCpu(C, 0.97);
    now = now.plusSeconds(1);
    nodeCpu(C, 0.96);
    BalancerDecision first = policy.nextMove(now).orElseThrow();
    assertEquals("slow", first.tenant());
    assertEquals(A, first.from());
    assertEquals(C, first.to());
    assertTrue(first.reason().startsWith("first onto node " + C), first.reason());
    policy.tenant("slow").lastMovedAt = now;
    placedOn.put("slow", C);

    // New tenants go to C while its demand is under the others' mean, busy or not.
    assertEquals(Optional.of(C), policy.leastLoaded(Set.of(), now));
    // Once it carries as much as the others, placement is by demand again.
    roundStart = now;
    reports("slow", C, 600, 0, 0, 0);
    reports("other", A, 300, 0, 0, 0);
    reports("busy", B, 400, 0, 0, 0);
    nodeCpu(C, 0.97);
    nodeCpu(A, 0.3);
    nodeCpu(B, 0.3);
    nodeCpu(C, 0.97);
    policy.scale(now);
    assertEquals(Optional.of(A), policy.leastLoaded(Set.of(), now));
    // And only once: the tenant is not moved to C again, nor anywhere within its cool-down.
    assertTrue(policy.nextMove(now).map(d -> !d.tenant().equals("slow")).orElse(true));
  }

  @Test
  void noNodeBeyondMaxNodesAndNeverFewerThanMinNodes() {
    policy = policyWith("max-nodes = 2");
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    reports("busy", B, 400, 0, 0, 0);
    nodeCpu(A, 0.9);
    nodeCpu(B, 0.95);
    assertEquals(Optional.empty(), policy.scale(now));
    assertEquals(2, policy.nodesWanted(now).nodesWanted());

    // min-nodes 3 with two nodes: three are wanted at once; an idle cluster never asks for fewer.
    policy = policyWith("min-nodes = 3");
    Instant start = now;
    while (now.isBefore(start.plus(settings.scaleInAfter().multipliedBy(3)))) {
      now = now.plus(settings.reportInterval());
      round(Map.of(A, 0.01, B, 0.01), Map.of("idle", A), 0);
      assertEquals(Optional.empty(), policy.scale(now));
    }
    assertEquals(3, policy.nodesWanted(now).nodesWanted());
    assertThrows(IllegalArgumentException.class, () -> policyWith("min-nodes = 4\nmax-nodes = 3"));
  }

  @Test
  void oneNodeFewerOnlyAfterTheClusterCouldDoWithoutItForTheWholeCoolDown() {
    upNodes.add(C);
    Map<String, Double> quiet = Map.of(A, 0.1, B, 0.1, C, 0.1);
    Map<String, String> tenants = Map.of("t1", A, "t2", B, "t3", C);
    Instant start = now;
    Optional<BalancerDecision> in = Optional.empty();
    while (in.isEmpty() && now.isBefore(start.plus(settings.scaleInAfter().multipliedBy(2)))) {
      now = now.plus(settings.reportInterval());
      round(quiet, tenants, 0);
      in = policy.scale(now);
    }
    BalancerDecision decision = in.orElseThrow();
    assertEquals("scale-in", decision.kind());
    assertTrue(Duration.between(start, now).compareTo(settings.scaleInAfter()) >= 0, "after " + Duration.between(start, now));
    assertTrue(decision.reason().contains("3 -> 2 nodes") && decision.reason().contains("cpu 30% over 3 nodes"), decision.reason());
    assertEquals(2, policy.nodesWanted(now).nodesWanted());
    // Until a node has left, no second one is let go.
    for (int i = 0; i < 60; i++) {
      now = now.plus(settings.reportInterval());
      round(quiet, tenants, 0);
      assertEquals(Optional.empty(), policy.scale(now));
    }
  }

  @Test
  void noisyFiguresNeitherFlapNorScaleInEarly() {
    upNodes.add(C);
    Map<String, String> tenants = Map.of("t1", A, "t2", B, "t3", C);
    List<BalancerDecision> decisions = new java.util.ArrayList<>();
    // CPU crossing the scale-in line every other interval for three cool-downs: no scale-in (the
    // cluster must look carried by fewer nodes without a break).
    Instant start = now;
    int i = 0;
    while (now.isBefore(start.plus(settings.scaleInAfter().multipliedBy(3)))) {
      now = now.plus(settings.reportInterval());
      double cpu = i++ % 6 == 5 ? 0.8 : 0.1; // once a minute: 1.0 over two nodes is not under 0.5
      round(Map.of(A, cpu, B, 0.1, C, 0.1), tenants, 0);
      policy.scale(now).ifPresent(decisions::add);
    }
    assertEquals(List.of(), decisions);

    // A tenant lagging on and off with every node busy: one node asked for, then none taken back
    // while the lag comes and goes, even when the fourth node has joined.
    roundStart = now;
    reports("slow", A, 100, 1_000, 3_000, 6_000);
    round(Map.of(A, 0.95, B, 0.95, C, 0.95), Map.of("t2", B, "t3", C), 0);
    policy.scale(now).ifPresent(decisions::add);
    upNodes.add("akka://mysimbdp@127.0.0.1:2554");
    long backlog = 6_000;
    for (int j = 0; j < 30; j++) {
      now = now.plus(settings.reportInterval());
      backlog = j % 2 == 0 ? backlog + 4_000 : 600;
      roundStart = now.minus(settings.reportInterval());
      reports("slow", A, 100, backlog);
      round(Map.of(A, 0.95, B, j % 2 == 0 ? 0.95 : 0.3, C, 0.95, "akka://mysimbdp@127.0.0.1:2554", 0.2), Map.of("t2", B, "t3", C), 0);
      policy.scale(now).ifPresent(decisions::add);
    }
    assertEquals(List.of("scale-out"), decisions.stream().map(BalancerDecision::kind).toList(), decisions.toString());
  }
}
