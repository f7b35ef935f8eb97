package io.mysimbdp.node.balance;

import akka.Done;
import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.external.ExternalShardAllocation;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy.ShardLocation;
import akka.cluster.sharding.external.javadsl.ExternalShardAllocationClient;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import akka.cluster.typed.Subscribe;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.ddata.DistributedData;
import akka.cluster.ddata.Replicator;
import akka.pattern.StatusReply;
import io.mysimbdp.node.CborSerializable;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.stream.StreamSupport;

/**
 * The cluster's load balancer, a cluster singleton. It keeps every tenant placed and running, and
 * moves tenants between nodes by their measured load; see docs/balancer.md for the policy.
 *
 * <ul>
 *   <li>Placement: a tenant without a location (new) goes to the least loaded node; a tenant whose
 *       node left or crashed goes to the least loaded of the others. Every wake interval it lists
 *       the tenants, places those that need it and wakes them all, so work resumes after a crash.
 *   <li>Relieve: a tenant that lags (its backlog grows report after report) on a saturated node
 *       moves to the node with the most headroom.
 *   <li>Even out: when one node's demand is well above the mean (a node joined, tenants grew), its
 *       heaviest tenant that narrows the spread moves to the least loaded node.
 *   <li>Nodes wanted: one more when a tenant lags and no node has headroom (scale-out), one fewer
 *       when the cluster could do with fewer for a cool-down (scale-in); autoscalers read it
 *       ({@link GetNodesWanted}, the gauge). The node that joins takes the slow tenant first.
 * </ul>
 *
 * A move sets the tenant's shard location ({@link ExternalShardAllocation}); sharding's coordinator
 * then hands the shard off (the entity drains) and the tenant starts on its new node, woken by this
 * actor. One load move at a time, a settle time after each, and a per-tenant cool-down keep it from
 * flapping. Every decision is stored ({@value ReportStore#DECISIONS}) with its reason and its
 * measured hand-off time.
 */
public final class LoadBalancer extends AbstractBehavior<LoadBalancer.Command> {

  public interface Command extends CborSerializable {}

  /** A tenant's report for the last interval, from its entity. */
  public record Report(PerformanceReport report) implements Command {}

  /**
   * A node's digest for one report interval (its reporter's, one message whatever the number of
   * tenants): the reports of the tenants that did something, the ids of those idle since their
   * last report (nothing in, stored, failed or queued: their figures are the last report's, at
   * zero rates), and the node's own load (null: not in this message).
   */
  public record NodeReports(String node, Instant at, NodeLoad load, List<PerformanceReport> reports, List<String> idle) implements Command {}

  /** A node's own load, from its {@link NodeLoadReporter}. {@code cpu}: share of the CPUs it may use. */
  public record NodeLoad(String node, double cpu, int processors, long heapUsedBytes, long heapMaxBytes) implements Command {}

  /** A tenant's entity started on {@code node}. */
  public record Started(String tenant, String node, Instant at) implements Command {}

  /** A tenant's stream took its first message on {@code node}; {@code backlog} messages were waiting. */
  public record Consuming(String tenant, String node, Instant at, long backlog) implements Command {}

  /** A tenant was created: place it now rather than at the next wake; answers where. */
  public record Place(String tenant, ActorRef<Placed> replyTo) implements Command {}

  public record Placed(String tenant, String node) implements CborSerializable {}

  public record GetOverview(ActorRef<Overview> replyTo) implements Command {}

  /**
   * How many nodes the cluster needs ({@code nodesWanted}), how many reachable Up nodes it has, the
   * reason of the last change and when it was made (null: not changed since the balancer started).
   */
  public record NodesWanted(int nodesWanted, int nodes, String reason, Instant since) implements CborSerializable {}

  /** How many nodes the cluster needs now (what autoscalers read): cheap, no tenant list. */
  public record GetNodesWanted(ActorRef<NodesWanted> replyTo) implements Command {}

  /** An operator moves a tenant to a node (draining a node by hand, benchmarks). */
  public record Move(String tenant, String node, ActorRef<StatusReply<Moved>> replyTo) implements Command {}

  public record Moved(BalancerDecision decision) implements CborSerializable {}

  public record TenantView(
      String tenant, String node, String placedOn, double throughput, double demand, long backlog, long latencyP50Millis,
      long latencyP99Millis, long errors, boolean lagging, Instant reportedAt) implements CborSerializable {}

  /** {@code busy}: its CPU stayed at cpu-high over its recent readings, so new tenants go elsewhere while another node is not. */
  public record NodeView(String node, String status, double cpu, double demand, int tenants, boolean saturated, boolean busy) implements CborSerializable {}

  /** What the balancer sees now: nodes, tenants, recent decisions and the moves in flight. */
  public record Overview(Instant at, String balancerNode, List<NodeView> nodes, List<TenantView> tenants, List<BalancerDecision> decisions,
      List<BalancerDecision> inFlight, NodesWanted nodesWanted) implements CborSerializable {}

  private enum Tick implements Command {
    INSTANCE
  }

  private enum WakeTick implements Command {
    INSTANCE
  }

  private enum Poke implements Command {
    INSTANCE
  }

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record ReachabilityChanged(ClusterEvent.ReachabilityEvent event) implements Command {}

  /** Tenants created since {@code since} (null: all), and the locations read with them. */
  private record Listed(Instant since, Instant listedAt, List<String> ids, Map<String, Address> locations, long asOfWrite, String failure) implements Command {}

  private record Located(String tenant, Optional<Address> location, ActorRef<Placed> replyTo) implements Command {}

  private record LocationsSet(List<BalancerDecision> decisions, List<String> wake, Consumer<String> then, String failure) implements Command {}

  /** This node is shutting down: place its tenants elsewhere before its shards hand off. */
  public record Evacuate(String node, ActorRef<Done> replyTo) implements Command {}

  private record DecisionsLoaded(List<BalancerDecision> decisions) implements Command {}

  /**
   * Starts the singleton (on the oldest node) with what it needs of the tenants' entities, and
   * answers this node's proxy to it. Called once by the node before anything asks for the proxy.
   */
  public static ActorRef<Command> init(ActorSystem<?> system, TenantEntities entities) {
    return ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(entities)).onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(10), 0.2)),
                SINGLETON_NAME));
  }

  /** This node's proxy to the singleton that {@link #init} started. */
  public static ActorRef<Command> proxy(ActorSystem<?> system) {
    // After init, ClusterSingleton answers the proxy it made then and never runs this behavior.
    return ClusterSingleton.get(system)
        .init(SingletonActor.of(Behaviors.setup(context -> {
          throw new IllegalStateException("LoadBalancer.init was not called on this node");
        }), SINGLETON_NAME));
  }

  static final String SINGLETON_NAME = "LoadBalancer";

  private static Behavior<Command> create(TenantEntities entities) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> {
                  ActorSystem<?> system = context.getSystem();
                  CoreDms coreDms = CoreDms.get(system);
                  return new LoadBalancer(
                      context, timers, BalancerSettings.from(system.settings().config()),
                      new TenantRepository(coreDms, NodeSettings.from(system.settings().config())), new ReportStore(coreDms), entities);
                }));
  }

  /** Moves after which the tenant's cool-down starts (a failover or placement is not one). */
  private static final String[] LOAD_KINDS = {"relieve", "even-out", "manual"};

  private final BalancerSettings settings;
  private final TenantRepository tenantRepository;
  private final ReportStore store;
  private final ExternalShardAllocationClient locations;
  private final TenantEntities entities;
  private final TimerScheduler<Command> timers;

  /** Up members by address string (the form reports carry). */
  private final Map<String, Address> upNodes = new LinkedHashMap<>();
  private final TenantLocations placements = new TenantLocations();
  private final MovesInFlight inFlight = new MovesInFlight();
  private final BalancingPolicy policy;
  /** Nodes shutting down whose tenants were placed elsewhere already. */
  private final Set<String> evacuated = new HashSet<>();
  private final Set<String> lastLagging = new HashSet<>();
  private final DecisionLog decisions;

  private LoadBalancer(
      ActorContext<Command> context, TimerScheduler<Command> timers, BalancerSettings settings, TenantRepository tenantRepository,
      ReportStore store, TenantEntities entities) {
    super(context);
    // Named here: a timer's message may make the first log call, and the logger would be named
    // after the class on the stack then (akka.actor.ActorCell), below the default level.
    context.setLoggerName(LoadBalancer.class);
    this.settings = settings;
    this.tenantRepository = tenantRepository;
    this.store = store;
    this.timers = timers;
    this.entities = entities;
    this.locations = ExternalShardAllocation.get(context.getSystem()).getClient(entities.typeName());
    this.policy = new BalancingPolicy(settings, upNodes.keySet(), inFlight.tenants(), placements.placedOn());
    // Its store callbacks log from other threads: a plain logger, not the actor's.
    this.decisions = new DecisionLog(store, settings.recentDecisions(), org.slf4j.LoggerFactory.getLogger(LoadBalancer.class));
    Cluster.get(context.getSystem())
        .subscriptions()
        .tell(Subscribe.create(context.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new), ClusterEvent.MemberEvent.class));
    Cluster.get(context.getSystem())
        .subscriptions()
        .tell(Subscribe.create(context.messageAdapter(ClusterEvent.ReachabilityEvent.class, ReachabilityChanged::new), ClusterEvent.ReachabilityEvent.class));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.reportInterval());
    timers.startTimerWithFixedDelay(WakeTick.INSTANCE, Duration.ofSeconds(1), settings.wakeInterval());
    Instant now = Instant.now();
    context.pipeToSelf(
        store.decisions(null, now.minus(settings.coolDown()), now.plusSeconds(1), settings.recentDecisions()),
        (decisions, failure) -> new DecisionsLoaded(failure == null ? decisions : List.of()));
    context.getLog().info("load balancer started on {} (moves by load {})", Cluster.get(context.getSystem()).selfMember().address(),
        settings.enabled() ? "on" : "off");
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Report.class, this::onReport)
        .onMessage(NodeReports.class, this::onNodeReports)
        .onMessage(NodeLoad.class, this::onNodeLoad)
        .onMessage(Started.class, this::onStarted)
        .onMessage(Consuming.class, this::onConsuming)
        .onMessage(Place.class, this::onPlace)
        .onMessage(Evacuate.class, this::onEvacuate)
        .onMessage(Move.class, this::onMove)
        .onMessage(Located.class, this::onLocated)
        .onMessage(GetOverview.class, this::onGetOverview)
        .onMessage(GetNodesWanted.class, get -> {
          get.replyTo().tell(policy.nodesWanted(Instant.now()));
          return this;
        })
        .onMessage(MemberChanged.class, this::onMemberChanged)
        .onMessage(ReachabilityChanged.class, this::onReachabilityChanged)
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessageEquals(WakeTick.INSTANCE, this::onWakeTick)
        .onMessageEquals(Poke.INSTANCE, this::onPoke)
        .onMessageEquals(SendWakes.INSTANCE, this::sendWakes)
        .onMessage(Listed.class, this::onListed)
        .onMessage(LocationsSet.class, this::onLocationsSet)
        .onMessage(DecisionsLoaded.class, this::onDecisionsLoaded)
        .build();
  }

  // ---- what the balancer hears -----------------------------------------------------------------

  private Behavior<Command> onReport(Report message) {
    PerformanceReport report = message.report();
    policy.report(report, Instant.now());
    return this;
  }

  private Behavior<Command> onNodeReports(NodeReports digest) {
    Instant now = Instant.now();
    if (digest.load() != null) {
      policy.nodeLoad(digest.load().node(), digest.load().cpu(), now);
    }
    for (PerformanceReport report : digest.reports()) {
      policy.report(report, now);
    }
    for (String tenant : digest.idle()) {
      policy.idle(tenant, digest.node(), digest.at(), now);
    }
    return this;
  }

  private Behavior<Command> onNodeLoad(NodeLoad load) {
    policy.nodeLoad(load.node(), load.cpu(), Instant.now());
    return this;
  }

  private Behavior<Command> onStarted(Started started) {
    inFlight.to(started.tenant(), started.node()).ifPresent(move -> {
      inFlight.started(started.tenant(), started.at());
      BalancingPolicy.TenantState state = policy.tenants.get(started.tenant());
      boolean idle = state == null || state.last() == null || (state.last().recordsIn() == 0 && state.last().backlog() <= 0);
      if (idle) {
        // Nothing was flowing: the tenant is back as soon as its entity runs.
        completed(inFlight.complete(move, started.at(), 0L, Instant.now()));
      }
    });
    return this;
  }

  private Behavior<Command> onConsuming(Consuming consuming) {
    inFlight.to(consuming.tenant(), consuming.node())
        .ifPresent(move -> completed(inFlight.complete(move, consuming.at(), consuming.backlog(), Instant.now())));
    return this;
  }

  private void completed(BalancerDecision done) {
    if (isLoadMove(done)) {
      getContext().getLog().info("tenant {} is running on {} {} ms after the decision to move it ({} messages waited)", done.tenant(), done.to(),
          done.handOffMillis(), done.backlogAtResume());
    } else {
      // A failover or evacuation moves a node's tenants at once (3,334 at 10,000 tenants on three
      // nodes): each at debug, and one line when they are all done.
      getContext().getLog().debug("tenant {} is running on {} {} ms after the decision to move it ({} messages waited)", done.tenant(), done.to(),
          done.handOffMillis(), done.backlogAtResume());
      failoversDone++;
      slowestFailoverMillis = Math.max(slowestFailoverMillis, done.handOffMillis() == null ? 0 : done.handOffMillis());
    }
    decisions.record(done);
    if (inFlight.isEmpty()) {
      timers.cancel(Poke.INSTANCE);
      if (failoversDone > 0) {
        getContext().getLog().info("{} tenant(s) placed elsewhere are running on their new nodes, the slowest {} ms after its decision",
            failoversDone, slowestFailoverMillis);
        failoversDone = 0;
        slowestFailoverMillis = 0;
      }
    }
  }

  /** Failovers and evacuations done since the moves in flight last drained, and the slowest of them. */
  private int failoversDone;
  private long slowestFailoverMillis;

  private Behavior<Command> onMemberChanged(MemberChanged changed) {
    Member member = changed.event().member();
    String node = member.address().toString();
    policy.freshPlacementView();
    if (changed.event() instanceof ClusterEvent.MemberUp) {
      upNodes.put(node, member.address());
    } else if (changed.event() instanceof ClusterEvent.MemberLeft || changed.event() instanceof ClusterEvent.MemberExited) {
      // Its tenants were placed elsewhere by Evacuate before its shards handed off.
      upNodes.remove(node);
      policy.forgetNode(node);
    } else if (changed.event() instanceof ClusterEvent.MemberDowned || changed.event() instanceof ClusterEvent.MemberRemoved) {
      upNodes.remove(node);
      policy.forgetNode(node);
      if (!evacuated.contains(node)) {
        reassignFrom(node, "its node " + node + " was " + (changed.event() instanceof ClusterEvent.MemberDowned ? "downed (crashed or unreachable)" : "removed"), failure -> {});
        // Downed, then removed: its tenants are placed once (a second placement would move them again).
        evacuated.add(node);
      }
      if (changed.event() instanceof ClusterEvent.MemberRemoved) {
        evacuated.remove(node);
      }
    }
    return this;
  }

  /**
   * An unreachable node (crashed, or cut off for a moment) is neither a source nor a target while
   * it is: its tenants fail over when it is downed, or go on where they are when it comes back.
   */
  private Behavior<Command> onReachabilityChanged(ReachabilityChanged changed) {
    String node = changed.event().member().address().toString();
    policy.reachable(node, changed.event() instanceof ClusterEvent.ReachableMember);
    return this;
  }

  private Behavior<Command> onMove(Move move) {
    if (!upNodes.containsKey(move.node())) {
      move.replyTo().tell(StatusReply.error("'" + move.node() + "' is not an Up member of the cluster; members: " + upNodes.keySet()));
      return this;
    }
    if (inFlight.isMoving(move.tenant())) {
      move.replyTo().tell(StatusReply.error("tenant '" + move.tenant() + "' is moving already"));
      return this;
    }
    // Where it is placed (no move in flight: where sharding runs it, or will as soon as it
    // rebalances); its last report may come from where it started before its placement took effect.
    BalancingPolicy.TenantState state = policy.tenants.get(move.tenant());
    String placed = placements.of(move.tenant());
    String from = placed != null && upNodes.containsKey(placed) ? placed : state != null && state.node() != null ? state.node() : "unknown";
    if (from.equals(move.node())) {
      move.replyTo().tell(StatusReply.error("tenant '" + move.tenant() + "' runs on " + from + " already"));
      return this;
    }
    BalancerDecision decision = decision(move.tenant(), "manual", from, move.node(), "moved by an operator");
    placements.place(move.tenant(), move.node());
    setLocations(Map.of(move.tenant(), upNodes.get(move.node())), List.of(decision), List.of(),
        failure -> move.replyTo().tell(failure == null ? StatusReply.success(new Moved(decision)) : StatusReply.error("the location could not be set: " + failure)));
    return this;
  }

  private Behavior<Command> onEvacuate(Evacuate evacuate) {
    upNodes.remove(evacuate.node());
    evacuated.add(evacuate.node());
    reassignFrom(evacuate.node(), "its node " + evacuate.node() + " is shutting down", failure -> evacuate.replyTo().tell(Done.getInstance()));
    return this;
  }

  // ---- placement ----------------------------------------------------------------------------------

  private Behavior<Command> onWakeTick() {
    long asOfWrite = placements.writesSoFar();
    Instant since = placements.listingSince();
    Instant listedAt = Instant.now();
    getContext()
        .pipeToSelf(
            tenantRepository.idsCreatedSince(since).thenCombine(
                locations.getShardLocations()
                    .thenApply(shardLocations -> {
                      Map<String, Address> placed = new HashMap<>();
                      for (Map.Entry<String, ShardLocation> e : shardLocations.getShardLocations().entrySet()) {
                        placed.put(e.getKey(), e.getValue().address());
                      }
                      return Optional.of(placed);
                    })
                    // A majority read can time out on a busy cluster: go on with what it knows.
                    .exceptionally(e -> Optional.empty()),
                (ids, placed) -> new Listed(since, listedAt, ids, placed.orElse(null), asOfWrite, null)),
            (listed, failure) -> failure == null ? listed : new Listed(since, listedAt, List.of(), Map.of(), asOfWrite, failure.toString()));
    return this;
  }

  private Behavior<Command> onListed(Listed listed) {
    if (listed.failure() != null) {
      getContext().getLog().warn("could not list the tenants and their locations to place and wake them: {}", listed.failure());
      return this;
    }
    placements.listed(listed.ids(), listed.locations(), listed.asOfWrite(), listed.listedAt());
    Map<String, Address> moves = new HashMap<>();
    List<BalancerDecision> decisions = new ArrayList<>();
    // Only a tenant that no Up node reports running is woken: an idle tenant running where it is
    // placed costs nothing here but a look-up (its node names it in its digest every interval).
    List<String> toWake = new ArrayList<>();
    Instant now = Instant.now();
    for (String tenant : placements.known()) {
      String location = placements.of(tenant);
      BalancingPolicy.TenantState running = policy.tenants.get(tenant);
      if (running == null || !policy.isFresh(running, now) || !upNodes.containsKey(running.node())
          || location != null && !location.equals(running.node())) {
        toWake.add(tenant);
      }
      if (location != null && upNodes.containsKey(location) || inFlight.isMoving(tenant)) {
        continue;
      }
      BalancingPolicy.TenantState state = policy.tenants.get(tenant);
      String runningOn = state != null && policy.isFresh(state, Instant.now()) ? state.node() : null;
      if (runningOn != null && upNodes.containsKey(runningOn) && location == null) {
        // Running already (placed by sharding before the balancer knew it): keep it where it is.
        moves.put(tenant, upNodes.get(runningOn));
        placements.place(tenant, runningOn);
        continue;
      }
      Optional<String> target = policy.place(tenant, Set.of(), Instant.now());
      if (target.isEmpty()) {
        break;
      }
      String kind = location == null ? "place" : "failover";
      String reason = (location == null
          ? "a new tenant goes to the least loaded node"
          : "its node " + location + " is no longer in the cluster") + "; nodes: " + policy.placeView(Instant.now());
      moves.put(tenant, upNodes.get(target.get()));
      placements.place(tenant, target.get());
      decisions.add(decision(tenant, kind, location, target.get(), reason));
    }
    if (moves.isEmpty()) {
      wake(toWake);
    } else {
      setLocations(moves, decisions, toWake);
    }
    return this;
  }

  private Behavior<Command> onPlace(Place place) {
    // The balancer is the only writer of locations and keeps what it set (re-read every wake):
    // no majority read of Distributed Data on the tenant-creation path.
    String location = placements.of(place.tenant());
    return onLocated(new Located(place.tenant(), Optional.ofNullable(location).map(upNodes::get), place.replyTo()));
  }

  private Behavior<Command> onLocated(Located located) {
    if (located.location().isPresent() && upNodes.containsKey(located.location().get().toString())) {
      located.replyTo().tell(new Placed(located.tenant(), located.location().get().toString()));
      wake(List.of(located.tenant()));
      return this;
    }
    // Many tenants created at once are each placed in O(nodes) (policy.place), and not started:
    // a new tenant's entity starts on its placed node when it is first needed.
    Optional<String> target = policy.place(located.tenant(), Set.of(), Instant.now());
    if (target.isEmpty()) {
      located.replyTo().tell(new Placed(located.tenant(), null));
      return this;
    }
    String reason = "a new tenant goes to the least loaded node; nodes: " + policy.placeView(Instant.now());
    placements.know(located.tenant());
    placements.place(located.tenant(), target.get());
    placing.add(new Placing(located.tenant(), target.get(), decision(located.tenant(), "place", null, target.get(), reason), located.replyTo()));
    if (!placementWriteInFlight) {
      writePlacements();
    }
    return this;
  }

  /** A new tenant's placement, decided, waiting to be written with the others decided meanwhile. */
  private record Placing(String tenant, String node, BalancerDecision decision, ActorRef<Placed> replyTo) {}

  /**
   * New tenants' placements decided while the last were being written: the locations live in one
   * Distributed Data map, whose every update costs in proportion to its size (10,000 tenants), so
   * tenants created together are written together, one update at a time.
   */
  private final List<Placing> placing = new ArrayList<>();
  private boolean placementWriteInFlight;

  private void writePlacements() {
    List<Placing> batch = List.copyOf(placing);
    placing.clear();
    placementWriteInFlight = true;
    Map<String, Address> moves = new HashMap<>();
    List<BalancerDecision> decisions = new ArrayList<>();
    for (Placing p : batch) {
      Address address = upNodes.get(p.node());
      if (address == null) {
        p.replyTo().tell(new Placed(p.tenant(), null)); // its node left meanwhile: placed at the next wake
      } else {
        moves.put(p.tenant(), address);
        decisions.add(p.decision());
      }
    }
    setLocations(moves, decisions, List.of(), failure -> {
      batch.stream().filter(p -> moves.containsKey(p.tenant()))
          .forEach(p -> p.replyTo().tell(new Placed(p.tenant(), failure == null ? p.node() : null)));
      placementWriteInFlight = false;
      if (!placing.isEmpty()) {
        writePlacements();
      }
    });
  }

  /** A node left or crashed: its tenants go to the least loaded of the others, cool-down or not. */
  private void reassignFrom(String node, String why, Consumer<String> then) {
    Map<String, Address> moves = new HashMap<>();
    List<BalancerDecision> decisions = new ArrayList<>();
    Set<String> affected = placements.on(node);
    // And those that last reported from it, unless placed on another Up node already (moving there).
    policy.tenants.values().stream()
        .filter(s -> node.equals(s.node()))
        .filter(s -> {
          String placed = placements.of(s.tenant);
          return placed == null || placed.equals(node) || !upNodes.containsKey(placed);
        })
        .forEach(s -> affected.add(s.tenant));
    for (String tenant : affected) {
      Optional<String> target = policy.place(tenant, Set.of(node), Instant.now());
      if (target.isEmpty()) {
        break;
      }
      moves.put(tenant, upNodes.get(target.get()));
      placements.place(tenant, target.get());
      decisions.add(decision(tenant, "failover", node, target.get(), why));
    }
    if (moves.isEmpty()) {
      then.accept(null);
    } else {
      getContext().getLog().info("{}: moving its {} tenant(s) to the other nodes", why, moves.size());
      setLocations(moves, decisions, List.copyOf(moves.keySet()), then);
    }
  }

  // ---- load moves -----------------------------------------------------------------------------------

  private Behavior<Command> onTick() {
    Instant now = Instant.now();
    MovesInFlight.Expired expired = inFlight.expire(now, settings.handOffTimeout());
    expired.done().forEach(this::completed);
    for (BalancerDecision move : expired.unseen()) {
      getContext().getLog().warn("tenant {} was not seen running on {} within {} of the decision to move it", move.tenant(), move.to(), settings.handOffTimeout());
    }
    logLagChanges(now);
    // No load move while any tenant moves (a failed-over tenant counts on no node until it reports
    // from its new one) nor until the last move's effect shows in the reports; nor a change of the
    // nodes wanted (the move may be what the lagging tenant needs).
    if (inFlight.settling(now, settings.settle())) {
      return this;
    }
    Optional<BalancerDecision> next = settings.enabled() ? policy.nextMove(now) : Optional.empty();
    next.ifPresentOrElse(move -> {
      getContext().getLog().info("moving tenant {} from {} to {} ({}): {}", move.tenant(), move.from(), move.to(), move.kind(), move.reason());
      placements.place(move.tenant(), move.to());
      setLocations(Map.of(move.tenant(), upNodes.get(move.to())), List.of(move), List.of());
    }, () -> policy.scale(now).ifPresent(this::nodesWantedChanged));
    return this;
  }

  /** A scale-out or scale-in: the autoscaler reads the figure; the decision says why. */
  private void nodesWantedChanged(BalancerDecision decision) {
    NodesWanted wanted = policy.nodesWanted(Instant.now());
    getContext().getLog().info("{}: {} node(s) wanted, {} in the cluster: {}", decision.kind(), wanted.nodesWanted(), wanted.nodes(), decision.reason());
    decisions.record(decision);
  }

  // ---- carrying decisions out ---------------------------------------------------------------------

  static BalancerDecision decision(String tenant, String kind, String from, String to, String reason) {
    return new BalancerDecision(UUID.randomUUID().toString(), tenant, kind, from, to, reason, Instant.now(), null, null, null);
  }

  private void setLocations(Map<String, Address> moves, List<BalancerDecision> decisions, List<String> wake) {
    setLocations(moves, decisions, wake, failure -> {});
  }

  /** Sets the locations, records the decisions, wakes {@code wake}, then tells {@code then} the failure (null: none). */
  private void setLocations(Map<String, Address> moves, List<BalancerDecision> decisions, List<String> wake, Consumer<String> then) {
    for (BalancerDecision d : decisions) {
      if (d.from() != null) {
        // A move is in flight from now until the tenant runs on its new node; a new tenant's
        // placement is not (it starts there on its first message).
        inFlight.begin(d);
      }
    }
    getContext()
        .pipeToSelf(
            writeInParts(moves, locations::setShardLocations),
            (ok, failure) -> new LocationsSet(decisions, wake, then, failure == null ? null : failure.toString()));
  }

  /**
   * Most locations in one update of the allocation map: the update's delta reaches the other
   * nodes in one message, which must stay under Artery's frame (a node's 3,334 tenants placed
   * elsewhere at once were over it, and left to gossip), whatever the tenant ids and addresses.
   */
  static final int LOCATIONS_PER_WRITE = 500;

  /** The locations written by {@code write} in updates of at most {@link #LOCATIONS_PER_WRITE}, one after the other. */
  static CompletionStage<Done> writeInParts(Map<String, Address> moves, java.util.function.Function<Map<String, Address>, CompletionStage<Done>> write) {
    if (moves.size() <= LOCATIONS_PER_WRITE) {
      return write.apply(moves);
    }
    CompletionStage<Done> written = CompletableFuture.completedFuture(Done.getInstance());
    Map<String, Address> part = new HashMap<>();
    for (Map.Entry<String, Address> move : moves.entrySet()) {
      part.put(move.getKey(), move.getValue());
      if (part.size() == LOCATIONS_PER_WRITE) {
        Map<String, Address> next = Map.copyOf(part);
        written = written.thenCompose(done -> write.apply(next));
        part.clear();
      }
    }
    if (!part.isEmpty()) {
      Map<String, Address> last = Map.copyOf(part);
      written = written.thenCompose(done -> write.apply(last));
    }
    return written;
  }

  /** Says when a tenant starts or stops lagging (once per change: quiet when nothing changes). */
  private void logLagChanges(Instant now) {
    Set<String> lagging = new HashSet<>();
    for (BalancingPolicy.TenantState t : policy.tenants.values()) {
      if (policy.isFresh(t, now) && t.lagging(settings)) {
        lagging.add(t.tenant);
        if (!lastLagging.contains(t.tenant)) {
          getContext().getLog().info("tenant {} lags on {}: backlog {} messages, growing {}/s, storing {}/s", t.tenant, t.node(),
              t.last().backlog(), Math.round(t.backlogGrowth()), Math.round(t.last().throughput()));
        }
      }
    }
    for (String tenant : lastLagging) {
      if (!lagging.contains(tenant)) {
        getContext().getLog().info("tenant {} keeps up again", tenant);
      }
    }
    lastLagging.clear();
    lastLagging.addAll(lagging);
  }

  private Behavior<Command> onLocationsSet(LocationsSet set) {
    if (set.failure() != null) {
      getContext().getLog().warn("could not set the location of {} tenant(s), will decide again: {}", set.decisions().size(), set.failure());
      set.decisions().forEach(d -> inFlight.abandon(d.tenant()));
      wake(set.wake());
      set.then().accept(set.failure());
      return this;
    }
    // The allocation strategy learns locations by subscription: tell it now, not at the next notify tick.
    DistributedData.get(Adapter.toClassic(getContext().getSystem())).replicator().tell(Replicator.flushChanges(), akka.actor.ActorRef.noSender());
    Instant now = Instant.now();
    for (BalancerDecision d : set.decisions()) {
      if (isLoadMove(d)) {
        policy.tenant(d.tenant()).lastMovedAt = now;
        policy.moved(d.from(), d.to(), now);
      }
    }
    decisions.recordAll(set.decisions());
    wake(set.wake());
    set.then().accept(null);
    if (!inFlight.isEmpty()) {
      timers.startTimerWithFixedDelay(Poke.INSTANCE, settings.pokeInterval());
    }
    return this;
  }

  /** Wakes the tenants that are moving, so each starts on its new node as soon as it may. */
  private Behavior<Command> onPoke() {
    wake(inFlight.tenants());
    if (inFlight.isEmpty()) {
      timers.cancel(Poke.INSTANCE);
    }
    return this;
  }

  /**
   * This node is leaving (its member is still Up while its shard region hands off): a message to
   * an entity now waits in the region for a coordinator that is stopping, and holds up the
   * region's shutdown until its timeout.
   */
  private boolean leaving() {
    return Cluster.get(getContext().getSystem()).selfMember().status() != MemberStatus.up()
        || akka.actor.CoordinatedShutdown.get(getContext().getSystem()).getShutdownReason().isPresent();
  }

  private void wake(Iterable<String> ids) {
    if (leaving()) {
      return;
    }
    for (String id : ids) {
      toWake.add(id);
    }
    sendWakes();
  }

  /** Tenants to wake, in order, sent at most {@code mysimbdp.ingestion.wake-rate} a second. */
  private final java.util.LinkedHashSet<String> toWake = new java.util.LinkedHashSet<>();
  private final int wakesPerTick =
      Math.max(1, getContext().getSystem().settings().config().getInt("mysimbdp.ingestion.wake-rate") / (int) (1000 / WAKE_SEND_INTERVAL.toMillis()));
  private static final Duration WAKE_SEND_INTERVAL = Duration.ofMillis(100);

  private enum SendWakes implements Command {
    INSTANCE
  }

  private Behavior<Command> sendWakes() {
    if (leaving()) {
      // Wakes queued before the shutdown began (at wake-rate, 10,000 take 20 s) would wait in the
      // region too: 2,386 of them held a 10,000-tenant node's SIGTERM for the region's 60 s timeout.
      toWake.clear();
      return this;
    }
    java.util.Iterator<String> next = toWake.iterator();
    for (int i = 0; i < wakesPerTick && next.hasNext(); i++) {
      entities.wake(next.next());
      next.remove();
    }
    if (!toWake.isEmpty() && !timers.isTimerActive(SendWakes.INSTANCE)) {
      timers.startSingleTimer(SendWakes.INSTANCE, WAKE_SEND_INTERVAL);
    }
    return this;
  }

  private Behavior<Command> onDecisionsLoaded(DecisionsLoaded loaded) {
    for (BalancerDecision d : loaded.decisions()) {
      if (isLoadMove(d)) {
        BalancingPolicy.TenantState state = policy.tenant(d.tenant());
        if (state.lastMovedAt == null || state.lastMovedAt.isBefore(d.decidedAt())) {
          state.lastMovedAt = d.decidedAt();
        }
      }
    }
    decisions.loaded(loaded.decisions());
    return this;
  }

  private Behavior<Command> onGetOverview(GetOverview get) {
    Instant now = Instant.now();
    Map<String, BalancingPolicy.NodeState> nodes = policy.nodeStates(now);
    Set<String> members = new HashSet<>(upNodes.keySet());
    List<NodeView> nodeViews = new ArrayList<>();
    StreamSupport.stream(Cluster.get(getContext().getSystem()).state().getMembers().spliterator(), false)
        .forEach(m -> {
          String node = m.address().toString();
          BalancingPolicy.NodeState n = nodes.get(node);
          nodeViews.add(new NodeView(node, m.status().toString(), n == null ? 0 : n.cpu, n == null ? 0 : n.demand, n == null ? 0 : n.tenants,
              n != null && n.saturated(settings), policy.cpuBusy(node, now)));
          members.remove(node);
        });
    List<TenantView> tenantViews = new ArrayList<>();
    for (BalancingPolicy.TenantState t : policy.tenants.values()) {
      PerformanceReport last = t.last();
      if (last == null) {
        continue;
      }
      tenantViews.add(new TenantView(t.tenant, t.node(), placements.of(t.tenant), last.throughput(), t.demand(), last.backlog(),
          last.latencyP50Millis(), last.latencyP99Millis(), last.errors(), t.lagging(settings), t.lastReportAt));
    }
    tenantViews.sort(Comparator.comparing(TenantView::tenant));
    get.replyTo().tell(new Overview(now, Cluster.get(getContext().getSystem()).selfMember().address().toString(), nodeViews, tenantViews,
        decisions.recent(), inFlight.all(), policy.nodesWanted(now)));
    return this;
  }

  private static boolean isLoadMove(BalancerDecision d) {
    for (String kind : LOAD_KINDS) {
      if (kind.equals(d.kind())) {
        return true;
      }
    }
    return false;
  }

}
