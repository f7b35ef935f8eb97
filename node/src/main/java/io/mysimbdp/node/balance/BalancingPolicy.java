package io.mysimbdp.node.balance;

import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The load balancer's policy (docs/balancer.md), apart from the actor that carries it out: what it
 * knows of nodes and tenants, and the decisions it takes from that. Plain Java, so that every rule
 * is tested on its own.
 */
final class BalancingPolicy {
  private final BalancerSettings settings;
  /** Live views of the actor's state: Up nodes, tenants moving now, where each tenant is placed. */
  private final Set<String> upNodes;
  private final Set<String> inFlight;
  private final Map<String, String> placedOn;

  final Map<String, TenantState> tenants = new HashMap<>();
  private final Map<String, Double> nodeCpu = new HashMap<>();
  private final Map<String, Instant> nodeLoadAt = new HashMap<>();
  private final Set<String> unreachable = new HashSet<>();
  /** Each node's last few CPU readings, newest last: placement looks at more than one. */
  private final Map<String, Deque<CpuReading>> cpuReadings = new HashMap<>();
  /** Nodes that had a lagging tenant moved off them, and when: not targets for evening out. */
  private final Map<String, Instant> saturatedAt = new HashMap<>();
  /** Nodes that gave a tenant away for load, and when: within the cool-down they take none. */
  private final Map<String, Instant> gaveAt = new HashMap<>();
  /** How long a tenant's last demand weighs on the node it is placed on when it stopped reporting. */
  private final Duration placementMemory;

  /** Nodes the cluster needs (null until first counted), why, and since when. */
  private Integer nodesWanted;
  private String nodesWantedReason = "not counted yet";
  private Instant nodesWantedSince;
  /** The last change of the figure, or the last time a node joined: the next scale-out waits a settle time after it. */
  private Instant lastScaleAt = Instant.EPOCH;
  private int nodesCounted;
  /** Since when the cluster could carry its load on one node fewer, without a break (null: it cannot now). */
  private Instant fewerNodesSince;
  /** The tenant whose lag asked for a node, and the nodes there were then: the node that joins takes it first. */
  private String scaleOutFor;
  private Set<String> nodesBeforeScaleOut = Set.of();
  /** The node that joined for a scale-out: new tenants go there first until its demand is level with the others'. */
  private String joinedForScaleOut;

  BalancingPolicy(BalancerSettings settings, Set<String> upNodes, Set<String> inFlight, Map<String, String> placedOn) {
    this.settings = settings;
    this.upNodes = upNodes;
    this.inFlight = inFlight;
    this.placedOn = placedOn;
    Duration threeReports = settings.reportInterval().multipliedBy(3);
    this.placementMemory = threeReports.compareTo(Duration.ofMinutes(1)) > 0 ? threeReports : Duration.ofMinutes(1);
  }

  void report(PerformanceReport report, Instant receivedAt) {
    tenants.computeIfAbsent(report.customerIdentifier(), TenantState::new).add(report, settings.lagReports() + 2, receivedAt);
  }

  /**
   * The tenant was idle on {@code node} in the interval ending {@code endedAt}: as a report with
   * nothing in and the last backlog. While its recent reports still carry a demand it is added as
   * one (its demand decays as a report's would); after that only its freshness is renewed.
   */
  void idle(String tenant, String node, Instant endedAt, Instant receivedAt) {
    TenantState state = tenants.computeIfAbsent(tenant, TenantState::new);
    PerformanceReport last = state.last();
    boolean settled = last != null && node.equals(last.node())
        && state.reports.stream().allMatch(r -> r.demand() == 0 && r.recordsIn() == 0 && r.backlog() == last.backlog());
    if (settled) {
      state.lastReportAt = receivedAt;
      return;
    }
    Instant from = last == null ? endedAt.minus(settings.reportInterval()) : last.endReport();
    PerformanceReport quiet = new PerformanceReport(tenant, 0, 0, 0, from, endedAt, List.of(), node, 0, 0, 0, -1, -1,
        last == null || !node.equals(last.node()) ? 0 : last.backlog(), last == null ? 0 : last.batchBacklogBytes(), 0,
        last == null ? List.of() : last.quality(), null);
    state.add(quiet, settings.lagReports() + 2, receivedAt);
  }

  void nodeLoad(String node, double cpu, Instant receivedAt) {
    nodeCpu.put(node, cpu);
    nodeLoadAt.put(node, receivedAt);
    Deque<CpuReading> readings = cpuReadings.computeIfAbsent(node, n -> new ArrayDeque<>());
    readings.addLast(new CpuReading(cpu, receivedAt));
    while (readings.size() > 3) {
      readings.removeFirst();
    }
  }

  /** Nodes the cluster sees unreachable now: no source or target of a move, no part of any mean. */
  void reachable(String node, boolean reachable) {
    if (reachable) {
      unreachable.remove(node);
    } else {
      unreachable.add(node);
    }
  }

  void forgetNode(String node) {
    unreachable.remove(node);
    nodeCpu.remove(node);
    nodeLoadAt.remove(node);
    cpuReadings.remove(node);
  }

  private record CpuReading(double cpu, Instant at) {}

  /**
   * The node's CPU stayed at or above cpu-high over its recent readings (two at least, within three
   * report intervals). One high reading is noise for placement: a JVM that just started compiles
   * for a while, and three tenants created one after another would all go to the node that happened
   * to read lower.
   */
  boolean cpuBusy(String node, Instant now) {
    List<CpuReading> recent = cpuReadings.getOrDefault(node, new ArrayDeque<>()).stream()
        .filter(r -> Duration.between(r.at(), now).compareTo(settings.reportInterval().multipliedBy(3)) <= 0)
        .toList();
    return recent.size() >= 2 && recent.stream().allMatch(r -> r.cpu() >= settings.cpuHigh());
  }

  /** A load move was made: within the cool-down {@code from} takes no tenant to even out. */
  void moved(String from, String to, Instant at) {
    if (from != null) {
      gaveAt.put(from, at);
    }
  }

  TenantState tenant(String id) {
    return tenants.computeIfAbsent(id, TenantState::new);
  }

  /**
   * The next load move, if any: the tenant whose lag asked for a node onto the node that joined for
   * it, then relieving a lagging tenant, then evening out.
   */
  Optional<BalancerDecision> nextMove(Instant now) {
    Map<String, NodeState> nodes = nodeStates(now);
    return toJoinedNode(nodes, now).or(() -> relieve(nodes, now)).or(() -> evenOut(nodes, now));
  }

  /**
   * A node joined since a scale-out: the tenant whose lag asked for it goes there before anything
   * evens out, even while the new node's JVM still compiles (at cpu-high); once only.
   */
  Optional<BalancerDecision> toJoinedNode(Map<String, NodeState> nodes, Instant now) {
    if (scaleOutFor == null) {
      return Optional.empty();
    }
    Optional<NodeState> joined = nodes.values().stream().filter(n -> !nodesBeforeScaleOut.contains(n.node)).findFirst();
    if (joined.isEmpty()) {
      return Optional.empty();
    }
    String tenantId = scaleOutFor;
    scaleOutFor = null;
    joinedForScaleOut = joined.get().node;
    TenantState tenant = tenants.get(tenantId);
    if (tenant == null || !isFresh(tenant, now) || !nodes.containsKey(tenant.node()) || tenant.node().equals(joinedForScaleOut) || !movable(tenant, now)) {
      // It stopped reporting, moved meanwhile, or its node left: the new node evens out as any other.
      return Optional.empty();
    }
    NodeState from = nodes.get(tenant.node());
    saturatedAt.put(from.node, now);
    PerformanceReport last = tenant.last();
    String reason = String.format(Locale.ROOT,
        "first onto node %s, which joined after the scale-out its lag asked for: backlog %d records, growing %.0f/s while it stores %.0f/s (sent %.0f/s); "
            + "node %s: %d lagging tenant(s), cpu %.0f%%",
        joinedForScaleOut, last.backlog(), tenant.backlogGrowth(), last.throughput(), last.demand(), from.node, from.lagging, from.cpu * 100);
    return Optional.of(LoadBalancer.decision(tenantId, "relieve", from.node, joinedForScaleOut, reason));
  }

  // ---- nodes wanted ---------------------------------------------------------------------------

  LoadBalancer.NodesWanted nodesWanted(Instant now) {
    int nodes = nodeStates(now).size();
    return new LoadBalancer.NodesWanted(nodesWanted == null ? clampNodes(nodes) : nodesWanted, nodes, nodesWantedReason, nodesWantedSince);
  }

  private int clampNodes(int n) {
    return Math.max(settings.minNodes(), Math.min(settings.maxNodes(), n));
  }

  /**
   * Counts the nodes the cluster needs from the reports; a change is a decision ({@code scale-out},
   * {@code scale-in}) with its reason. One more node when a tenant lags and no other node has
   * headroom (the one relieve could not move); one fewer when the cluster's CPU would stay under
   * {@code scale-in-cpu} on one node fewer, no tenant lags and no backlog stands, without a break
   * for {@code scale-in-after}, and that long after the last change. One step at a time: no more
   * is asked while the node asked for has not joined, no fewer while the node let go is still here.
   * Within [min-nodes, max-nodes].
   */
  Optional<BalancerDecision> scale(Instant now) {
    Map<String, NodeState> nodes = nodeStates(now);
    int n = nodes.size();
    if (n == 0 || !unreachable.isEmpty()) {
      // A node cut off may come back or be replaced: count again when the cluster is whole.
      return Optional.empty();
    }
    if (nodesWanted == null || nodesWanted != clampNodes(nodesWanted)) {
      nodesWanted = clampNodes(nodesWanted == null ? n : nodesWanted);
      nodesWantedReason = String.format(Locale.ROOT, "%d node(s) when counting began, within min-nodes %d and max-nodes %d", n, settings.minNodes(), settings.maxNodes());
      nodesWantedSince = now;
    }
    if (n > nodesCounted && nodesCounted > 0) {
      // A node joined: what it takes off the others shows in the reports after a settle time.
      lastScaleAt = now;
    }
    nodesCounted = n;
    if (joinedForScaleOut != null && (!nodes.containsKey(joinedForScaleOut) || levelWithTheOthers(nodes, joinedForScaleOut))) {
      joinedForScaleOut = null;
    }
    Optional<TenantState> stuck =
        tenants.values().stream()
            .filter(t -> isFresh(t, now) && nodes.containsKey(t.node()) && t.lagging(settings) && movable(t, now))
            .filter(t -> nodes.values().stream().allMatch(o -> o.node.equals(t.node()) || o.saturated(settings)))
            .max(Comparator.comparingDouble(TenantState::backlogGrowth));
    if (stuck.isPresent()) {
      fewerNodesSince = null;
      if (nodesWanted > n || n >= settings.maxNodes() || Duration.between(lastScaleAt, now).compareTo(settings.settle()) < 0) {
        return Optional.empty();
      }
      TenantState tenant = stuck.get();
      NodeState on = nodes.get(tenant.node());
      PerformanceReport last = tenant.last();
      String reason = String.format(Locale.ROOT,
          "tenant %s lags on %s: backlog %d records, growing %.0f/s while it stores %.0f/s (sent %.0f/s) over the last %d reports; "
              + "no other node has headroom (%s): %d -> %d nodes",
          tenant.tenant, on.node, last.backlog(), tenant.backlogGrowth(), last.throughput(), last.demand(), settings.lagReports(),
          headroomView(nodes, on.node), n, n + 1);
      scaleOutFor = tenant.tenant;
      nodesBeforeScaleOut = Set.copyOf(upNodes);
      return Optional.of(changeNodesWanted(n + 1, now, reason, tenant.tenant, "scale-out"));
    }
    boolean measured = nodes.keySet().stream().allMatch(node -> isFreshLoad(node, now));
    double cpu = nodes.values().stream().mapToDouble(x -> x.cpu).sum();
    double demand = nodes.values().stream().mapToDouble(x -> x.demand).sum();
    long backlog = tenants.values().stream().filter(t -> isFresh(t, now) && t.last() != null).mapToLong(t -> Math.max(0, t.last().backlog())).sum();
    // The CPU spread over one node fewer is the measure (one node at cpu-high among idle ones is
    // not a reason to keep them all).
    boolean calm = measured && nodes.values().stream().noneMatch(x -> x.lagging > 0)
        && tenants.values().stream().filter(t -> isFresh(t, now) && t.last() != null).allMatch(t -> t.last().backlog() < settings.minBacklog());
    if (n <= settings.minNodes() || nodesWanted < n || !calm || cpu / (n - 1) >= settings.scaleInCpu()) {
      fewerNodesSince = null;
      return Optional.empty();
    }
    if (fewerNodesSince == null) {
      fewerNodesSince = now;
    }
    if (Duration.between(fewerNodesSince, now).compareTo(settings.scaleInAfter()) < 0
        || Duration.between(lastScaleAt, now).compareTo(settings.scaleInAfter()) < 0) {
      return Optional.empty();
    }
    String reason = String.format(Locale.ROOT,
        "the cluster carries its load on fewer nodes: cpu %.0f%% over %d nodes would be %.0f%% each on %d (under %.0f%%) since %s; "
            + "demand %.0f records/s, backlog %d records, no tenant lags: %d -> %d nodes",
        cpu * 100, n, cpu * 100 / (n - 1), n - 1, settings.scaleInCpu() * 100, fewerNodesSince, demand, backlog, n, n - 1);
    scaleOutFor = null;
    fewerNodesSince = null;
    return Optional.of(changeNodesWanted(n - 1, now, reason, null, "scale-in"));
  }

  /** The decision names the tenant that asked (scale-out) and no node: nothing moves by it. */
  private BalancerDecision changeNodesWanted(int wanted, Instant now, String reason, String tenant, String kind) {
    nodesWanted = wanted;
    nodesWantedReason = reason;
    nodesWantedSince = now;
    lastScaleAt = now;
    return LoadBalancer.decision(tenant, kind, null, null, reason);
  }

  private boolean isFreshLoad(String node, Instant now) {
    Instant at = nodeLoadAt.get(node);
    return at != null && Duration.between(at, now).compareTo(settings.reportInterval().multipliedBy(3)) <= 0;
  }

  /** The node carries at least the mean demand of the others. */
  private static boolean levelWithTheOthers(Map<String, NodeState> nodes, String node) {
    double others = nodes.values().stream().filter(x -> !x.node.equals(node)).mapToDouble(x -> x.demand).average().orElse(0);
    return nodes.get(node).demand >= others;
  }

  /** Each other node and why it cannot take the tenant. */
  private String headroomView(Map<String, NodeState> nodes, String except) {
    StringBuilder view = new StringBuilder();
    for (NodeState x : nodes.values()) {
      if (!x.node.equals(except)) {
        view.append(view.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s: cpu %.0f%% (cpu-high %.0f%%), %d lagging",
            x.node, x.cpu * 100, settings.cpuHigh() * 100, x.lagging));
      }
    }
    return view.length() == 0 ? "it is the only node" : view.toString();
  }

  /** A lagging tenant on a saturated node, to the node with the most headroom. */
  Optional<BalancerDecision> relieve(Map<String, NodeState> nodes, Instant now) {
    Optional<TenantState> worst =
        tenants.values().stream()
            .filter(t -> isFresh(t, now) && nodes.containsKey(t.node()) && t.lagging(settings) && movable(t, now))
            .max(Comparator.comparingDouble(TenantState::backlogGrowth));
    if (worst.isEmpty()) {
      return Optional.empty();
    }
    TenantState tenant = worst.get();
    NodeState from = nodes.get(tenant.node());
    Optional<NodeState> to =
        nodes.values().stream()
            .filter(n -> !n.node.equals(from.node) && !n.saturated(settings))
            .min(Comparator.comparingDouble((NodeState n) -> n.demand).thenComparingInt(n -> n.tenants).thenComparingDouble(n -> n.cpu));
    if (to.isEmpty()) {
      return Optional.empty();
    }
    saturatedAt.put(from.node, now);
    PerformanceReport last = tenant.last();
    String reason = String.format(Locale.ROOT,
        "lagging on a saturated node: backlog %d records, growing %.0f/s while it stores %.0f/s (sent %.0f/s) over the last %d reports; "
            + "node %s: %d lagging tenant(s), cpu %.0f%%; node %s: demand %.0f records/s, cpu %.0f%%",
        last.backlog(), tenant.backlogGrowth(), last.throughput(), last.demand(), settings.lagReports(),
        from.node, from.lagging, from.cpu * 100, to.get().node, to.get().demand, to.get().cpu * 100);
    return Optional.of(LoadBalancer.decision(tenant.tenant, "relieve", from.node, to.get().node, reason));
  }

  /**
   * The busiest node's heaviest tenant that narrows the spread, to the least loaded node: the busiest
   * pair of nodes for which such a tenant exists, busiest source first.
   */
  Optional<BalancerDecision> evenOut(Map<String, NodeState> nodes, Instant now) {
    // A lagging tenant that relieve could not place: moving others by demand would not help it. A
    // node merely busy (its CPU high, e.g. a node that just joined and compiles) blocks nothing; it
    // is not a target.
    // Nor while a node is unreachable: its tenants will fail over, or carry on where they are.
    if (nodes.size() < 2 || !unreachable.isEmpty() || nodes.values().stream().anyMatch(n -> n.lagging > 0)) {
      return Optional.empty();
    }
    List<NodeState> sources = nodes.values().stream()
        .sorted(Comparator.comparingDouble((NodeState n) -> n.demand).reversed())
        .toList();
    // Load flows one way within a cool-down: a node that gave a tenant away takes none, so noisy
    // measurements can neither swap tenants between two nodes nor send them round a cycle. A node
    // that took one may pass one on (to a node that joined since, say).
    List<NodeState> targets = nodes.values().stream()
        .filter(n -> !n.saturated(settings) && !recentlySaturated(n.node, now) && !within(gaveAt, n.node, now))
        .sorted(Comparator.comparingDouble((NodeState n) -> n.demand).thenComparingInt(n -> n.tenants))
        .toList();
    for (NodeState busiest : sources) {
      // The level to even out to: the mean over the nodes that can take load now, and this one. A
      // busy node's small demand (a node that joined and compiles) would make every other node look
      // above the mean and move tenants among them for nothing.
      List<NodeState> counted = nodes.values().stream().filter(n -> n == busiest || !n.saturated(settings)).toList();
      double mean = counted.stream().mapToDouble(n -> n.demand).average().orElse(0);
      if (busiest.demand <= mean * (1 + settings.imbalance())) {
        continue;
      }
      for (NodeState idlest : targets) {
        double spread = busiest.demand - idlest.demand;
        if (spread < settings.minDemand()) {
          continue;
        }
        Optional<TenantState> candidate =
            tenants.values().stream()
                .filter(t -> isFresh(t, now) && busiest.node.equals(t.node()) && movable(t, now))
                .filter(t -> Math.abs((busiest.demand - t.demand()) - (idlest.demand + t.demand())) <= spread * (1 - settings.hysteresis()))
                .max(Comparator.comparingDouble(TenantState::demand));
        if (candidate.isPresent()) {
          TenantState tenant = candidate.get();
          String reason = String.format(Locale.ROOT,
              "uneven load: node %s carries %.0f records/s (mean %.0f over the %d nodes that can take load), node %s %.0f; moving this tenant's %.0f records/s narrows the spread from %.0f to %.0f",
              busiest.node, busiest.demand, mean, counted.size(), idlest.node, idlest.demand, tenant.demand(), spread,
              Math.abs((busiest.demand - tenant.demand()) - (idlest.demand + tenant.demand())));
          return Optional.of(LoadBalancer.decision(tenant.tenant, "even-out", busiest.node, idlest.node, reason));
        }
      }
    }
    return Optional.empty();
  }

  private boolean movable(TenantState tenant, Instant now) {
    return !inFlight.contains(tenant.tenant)
        && (tenant.lastMovedAt == null || Duration.between(tenant.lastMovedAt, now).compareTo(settings.coolDown()) >= 0);
  }

  private boolean recentlySaturated(String node, Instant now) {
    return within(saturatedAt, node, now);
  }

  private boolean within(Map<String, Instant> events, String node, Instant now) {
    Instant at = events.get(node);
    return at != null && Duration.between(at, now).compareTo(settings.coolDown()) < 0;
  }

  boolean isFresh(TenantState state, Instant now) {
    return state.lastReportAt != null
        && Duration.between(state.lastReportAt, now).compareTo(settings.reportInterval().multipliedBy(3)) <= 0;
  }

  /** Every reachable Up node with the demand and the lag of the tenants that report from it. */
  Map<String, NodeState> nodeStates(Instant now) {
    Map<String, NodeState> nodes = new LinkedHashMap<>();
    for (String node : upNodes) {
      if (unreachable.contains(node)) {
        continue;
      }
      Instant at = nodeLoadAt.get(node);
      boolean fresh = at != null && Duration.between(at, now).compareTo(settings.reportInterval().multipliedBy(3)) <= 0;
      nodes.put(node, new NodeState(node, fresh ? nodeCpu.get(node) : 0));
    }
    for (TenantState t : tenants.values()) {
      NodeState n = isFresh(t, now) ? nodes.get(t.node()) : null;
      if (n != null) {
        n.demand += t.demand();
        n.tenants++;
        if (t.lagging(settings)) {
          n.lagging++;
        }
      }
    }
    return nodes;
  }

  /**
   * The Up node (not excluded) with the least demand, then the fewest tenants placed on it, then the
   * lowest CPU; a node with a lagging tenant, or busy ({@link #cpuBusy}), only when all are. A tenant
   * placed elsewhere than it reports from (moving, or its node lost) weighs on its new node already,
   * so that several placed at once (a lost node's) spread rather than all go to one node. A lost
   * node's tenants stopped reporting when it crashed, some seconds before it is downed: their last
   * demand counts for {@link #placementMemory}.
   */
  Optional<String> leastLoaded(Set<String> excluded, Instant now) {
    Map<String, NodeState> nodes = placementNodeStates(now);
    Map<String, Integer> placed = new HashMap<>();
    placedOn.values().forEach(node -> placed.merge(node, 1, Integer::sum));
    String preferred = preferredForNewTenants(nodes);
    return nodes.values().stream()
        .filter(n -> !excluded.contains(n.node))
        .min(Comparator.comparing((NodeState n) -> n.lagging > 0 || (cpuBusy(n.node, now) && !n.node.equals(preferred)))
            .thenComparing(n -> !n.node.equals(preferred))
            .thenComparingDouble(n -> n.demand)
            .thenComparingInt(n -> placed.getOrDefault(n.node, 0))
            .thenComparingDouble(n -> n.cpu))
        .map(n -> n.node);
  }

  /**
   * {@link #leastLoaded} for placing many tenants one after another (10,000 created, a lost node's
   * tenants failed over): the nodes' view (demand, tenants placed, CPU, busy) is taken once and
   * kept for up to {@link #PLACEMENT_VIEW_TTL}, and each choice is counted into it (the tenant's
   * demand and one more tenant on its node), so each placement costs O(nodes), not O(tenants).
   */
  Optional<String> place(String tenant, Set<String> excluded, Instant now) {
    PlacementView view = placementViewAt(now);
    String preferred = preferredForNewTenants(view.nodes);
    Optional<String> target = view.nodes.values().stream()
        .filter(n -> !excluded.contains(n.node) && upNodes.contains(n.node) && !unreachable.contains(n.node))
        .min(Comparator.comparing((NodeState n) -> n.lagging > 0 || (view.busy.contains(n.node) && !n.node.equals(preferred)))
            .thenComparing(n -> !n.node.equals(preferred))
            .thenComparingDouble(n -> n.demand)
            .thenComparingInt(n -> view.placed.getOrDefault(n.node, 0))
            .thenComparingDouble(n -> n.cpu))
        .map(n -> n.node);
    target.ifPresent(node -> {
      TenantState state = tenants.get(tenant);
      view.nodes.get(node).demand += state == null ? 0 : state.demand();
      view.placed.merge(node, 1, Integer::sum);
      String before = placedOn.get(tenant);
      if (before != null) {
        view.placed.computeIfPresent(before, (k, v) -> v - 1);
      }
    });
    return target;
  }

  /**
   * The node that joined for a scale-out, while its demand is below the others': it takes new
   * tenants first, busy compiling or not (null when there is none).
   */
  private String preferredForNewTenants(Map<String, NodeState> nodes) {
    return joinedForScaleOut != null && nodes.containsKey(joinedForScaleOut) && !levelWithTheOthers(nodes, joinedForScaleOut)
        ? joinedForScaleOut : null;
  }

  /** What {@link #place} saw of each node (for the decision's reason), from the same view. */
  String placeView(Instant now) {
    PlacementView view = placementViewAt(now);
    if (view.text == null) {
      StringBuilder text = new StringBuilder();
      for (NodeState n : view.nodes.values()) {
        text.append(text.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s: demand %.0f records/s, %d tenant(s) placed, cpu %.0f%%%s%s",
            n.node, n.demand, view.placed.getOrDefault(n.node, 0), n.cpu * 100, view.busy.contains(n.node) ? " (busy)" : "",
            n.lagging > 0 ? ", " + n.lagging + " lagging" : ""));
      }
      view.text = text.toString();
    }
    return view.text;
  }

  /** How long {@link #place} reuses its view of the nodes. */
  static final Duration PLACEMENT_VIEW_TTL = Duration.ofSeconds(1);

  private static final class PlacementView {
    final Instant at;
    final Map<String, NodeState> nodes;
    final Map<String, Integer> placed;
    final Set<String> busy;
    /** The view as text, as it was when first asked for. */
    String text;

    PlacementView(Instant at, Map<String, NodeState> nodes, Map<String, Integer> placed, Set<String> busy) {
      this.at = at;
      this.nodes = nodes;
      this.placed = placed;
      this.busy = busy;
    }
  }

  private PlacementView placementView;

  private PlacementView placementViewAt(Instant now) {
    if (placementView == null || now.isBefore(placementView.at) || Duration.between(placementView.at, now).compareTo(PLACEMENT_VIEW_TTL) > 0) {
      Map<String, NodeState> nodes = placementNodeStates(now);
      Map<String, Integer> placed = new HashMap<>();
      placedOn.values().forEach(node -> placed.merge(node, 1, Integer::sum));
      Set<String> busy = new HashSet<>();
      nodes.keySet().forEach(node -> {
        if (cpuBusy(node, now)) {
          busy.add(node);
        }
      });
      placementView = new PlacementView(now, nodes, placed, busy);
    }
    return placementView;
  }

  /** Forgets {@link #place}'s view: the next placement looks at the nodes afresh (a node left or joined). */
  void freshPlacementView() {
    placementView = null;
  }

  /** {@link #nodeStates}, with each moving tenant's demand on the node it is placed on already. */
  private Map<String, NodeState> placementNodeStates(Instant now) {
    Map<String, NodeState> nodes = nodeStates(now);
    for (TenantState t : tenants.values()) {
      String placed = placedOn.get(t.tenant);
      NodeState to = placed == null ? null : nodes.get(placed);
      if (to != null && !placed.equals(t.node()) && t.lastReportAt != null && Duration.between(t.lastReportAt, now).compareTo(placementMemory) <= 0) {
        to.demand += t.demand();
        NodeState from = nodes.get(t.node());
        if (from != null && isFresh(t, now)) {
          from.demand -= t.demand();
        }
      }
    }
    return nodes;
  }

  /** What placement saw of each node (for the decision's reason): demand, tenants placed, CPU. */
  String placementView(Instant now) {
    Map<String, Integer> placed = new HashMap<>();
    placedOn.values().forEach(node -> placed.merge(node, 1, Integer::sum));
    StringBuilder view = new StringBuilder();
    for (NodeState n : nodeStates(now).values()) {
      view.append(view.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "%s: demand %.0f records/s, %d tenant(s) placed, cpu %.0f%%%s%s",
          n.node, n.demand, placed.getOrDefault(n.node, 0), n.cpu * 100, cpuBusy(n.node, now) ? " (busy)" : "", n.lagging > 0 ? ", " + n.lagging + " lagging" : ""));
    }
    return view.toString();
  }


  /** One node as the policy sees it in one tick. */
  static final class NodeState {
    final String node;
    final double cpu;
    double demand;
    int tenants;
    int lagging;

    NodeState(String node, double cpu) {
      this.node = node;
      this.cpu = cpu;
    }

    boolean saturated(BalancerSettings settings) {
      return lagging > 0 || cpu >= settings.cpuHigh();
    }
  }

  /** One tenant's recent reports, all from the node it runs on now. */
  static final class TenantState {
    final String tenant;
    final Deque<PerformanceReport> reports = new ArrayDeque<>();
    Instant lastReportAt;
    Instant lastMovedAt;

    TenantState(String tenant) {
      this.tenant = tenant;
    }

    void add(PerformanceReport report, int keep, Instant receivedAt) {
      if (!reports.isEmpty() && !reports.peekLast().node().equals(report.node())) {
        reports.clear();
      }
      reports.addLast(report);
      while (reports.size() > keep) {
        reports.removeFirst();
      }
      lastReportAt = receivedAt;
    }

    PerformanceReport last() {
      return reports.peekLast();
    }

    String node() {
      return reports.isEmpty() ? null : reports.peekLast().node();
    }

    /** Records per second sent to the tenant, averaged over its recent reports. */
    double demand() {
      return reports.stream().mapToDouble(PerformanceReport::demand).average().orElse(0);
    }

    /** Records per second its backlog grew by between its last two reports (0 when unknown). */
    double backlogGrowth() {
      List<PerformanceReport> list = List.copyOf(reports);
      if (list.size() < 2) {
        return 0;
      }
      return growth(list.get(list.size() - 2), list.get(list.size() - 1));
    }

    /** Its backlog grew by more than the margin of its throughput in each of the last lag-reports intervals. */
    boolean lagging(BalancerSettings settings) {
      List<PerformanceReport> list = List.copyOf(reports);
      int n = settings.lagReports();
      if (list.size() < n + 1 || list.get(list.size() - 1).backlog() < settings.minBacklog()) {
        return false;
      }
      for (int i = list.size() - n; i < list.size(); i++) {
        PerformanceReport before = list.get(i - 1);
        PerformanceReport after = list.get(i);
        double growth = growth(before, after);
        if (before.backlog() < 0 || after.backlog() < 0 || growth <= Math.max(1.0, settings.lagMargin() * after.throughput())) {
          return false;
        }
      }
      return true;
    }

    private static double growth(PerformanceReport before, PerformanceReport after) {
      double seconds = Math.max(0.001, Duration.between(before.endReport(), after.endReport()).toMillis() / 1000.0);
      return (after.backlog() - before.backlog()) / seconds;
    }
  }
}
