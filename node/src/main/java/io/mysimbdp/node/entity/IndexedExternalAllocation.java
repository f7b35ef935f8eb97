package io.mysimbdp.node.entity;

import akka.actor.AbstractActor;
import akka.actor.ActorRef;
import akka.actor.Address;
import akka.actor.AddressFromURIString;
import akka.actor.ExtendedActorSystem;
import akka.actor.Props;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.Cluster;
import akka.cluster.ddata.DistributedData;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWMapKey;
import akka.cluster.ddata.Replicator;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy$;
import akka.pattern.Patterns;
import akka.util.Timeout;
import java.util.HashMap;
import java.util.HashSet;
import java.util.concurrent.CompletionStage;
import scala.Option;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Map;
import scala.collection.immutable.Set;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * Akka's {@link ExternalShardAllocationStrategy} (shards go where the load balancer set their
 * location), with a rebalance that costs O(shards). Akka 2.6's looks each shard's location up in
 * its region's list of shards, a linear scan: O(shards²) every {@code rebalance-interval}, which was
 * 95 % of an idle node's CPU at 10,000 tenants (one shard each; a third of a core at 1 s). Its state
 * actor also parsed every location string into an address on every rebalance (10,000 URI parses a
 * second, most of what an idle 10,000-tenant node then did): {@link ParsedLocations} answers the
 * same questions from addresses parsed once, when a location changes.
 */
final class IndexedExternalAllocation extends ExternalShardAllocationStrategy {
  private final ExtendedActorSystem classic;
  private final String typeName;
  private final Address selfAddress;
  /** The strategy's own view of the locations (Distributed Data, kept current by subscription). */
  private volatile ActorRef locations;

  IndexedExternalAllocation(ActorSystem<?> system, String typeName, Timeout timeout) {
    super(system, typeName, timeout);
    this.classic = (ExtendedActorSystem) Adapter.toClassic(system);
    this.typeName = typeName;
    this.selfAddress = Cluster.get(classic).selfAddress();
  }

  @Override
  public ActorRef createShardStateActor() {
    // Called by start(): the actor the parent's private field holds (for allocateShard), kept here
    // too for rebalance. Same name and protocol as the parent's own, which is not started.
    LWWMapKey<String, String> key = ExternalShardAllocationStrategy$.MODULE$.ddataKey(typeName);
    ActorRef created =
        classic.systemActorOf(Props.create(ParsedLocations.class, () -> new ParsedLocations(key)), "external-allocation-state-" + typeName);
    locations = created;
    return created;
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> currentShardAllocations, Set<String> rebalanceInProgress) {
    CompletionStage<Object> asked =
        FutureConverters.asJava(Patterns.ask(locations, ExternalShardAllocationStrategy.GetShardLocations$.MODULE$, timeout()));
    return FutureConverters.asScala(asked.thenApply(response -> {
      java.util.Map<String, Address> desired =
          CollectionConverters.asJava(((ExternalShardAllocationStrategy.GetShardLocationsResponse) response).desiredAllocations());
      java.util.Set<String> moving = shardsToMove(addressed(currentShardAllocations), desired, CollectionConverters.asJava(rebalanceInProgress));
      return CollectionConverters.asScala(moving).toSet();
    }));
  }

  /** The current allocation by the address of each region (a local region's ref has no host: this node's). */
  private java.util.Map<Address, java.util.List<String>> addressed(Map<ActorRef, IndexedSeq<String>> current) {
    java.util.Map<Address, java.util.List<String>> byAddress = new HashMap<>();
    CollectionConverters.asJava(current).forEach((region, shards) -> {
      Address address = region.path().address().hasLocalScope() ? selfAddress : region.path().address();
      byAddress.put(address, CollectionConverters.asJava(shards));
    });
    return byAddress;
  }

  /**
   * The shards running somewhere else than their location, on a node that has a region to take
   * them, and not already moving: one pass over the allocation, one over the locations.
   */
  static java.util.Set<String> shardsToMove(
      java.util.Map<Address, ? extends java.util.Collection<String>> current, java.util.Map<String, Address> desired, java.util.Set<String> inProgress) {
    java.util.Map<String, Address> runsOn = new HashMap<>();
    current.forEach((address, shards) -> shards.forEach(shard -> runsOn.put(shard, address)));
    java.util.Set<String> moving = new HashSet<>();
    desired.forEach((shard, location) -> {
      Address now = runsOn.get(shard);
      if (now != null && !now.equals(location) && current.containsKey(location) && !inProgress.contains(shard)) {
        moving.add(shard);
      }
    });
    return moving;
  }

  /**
   * The shards' locations (Distributed Data, by subscription), each location string parsed into an
   * address once, when it changes. Answers the strategy's two questions as Akka's own state actor
   * does: one shard's location (allocation), all of them (rebalance).
   */
  static final class ParsedLocations extends AbstractActor {
    private final LWWMapKey<String, String> key;
    private final LocationCache cache = new LocationCache();

    ParsedLocations(LWWMapKey<String, String> key) {
      this.key = key;
    }

    @Override
    public void preStart() {
      DistributedData.get(getContext().getSystem()).replicator().tell(new Replicator.Subscribe<>(key, getSelf()), getSelf());
    }

    @Override
    @SuppressWarnings("unchecked")
    public Receive createReceive() {
      return receiveBuilder()
          .match(Replicator.Changed.class, changed -> cache.update(((LWWMap<String, String>) changed.dataValue()).getEntries()))
          .match(ExternalShardAllocationStrategy.GetShardLocation.class, asked ->
              getSender().tell(new ExternalShardAllocationStrategy.GetShardLocationResponse(Option.apply(cache.get(asked.shard()))), getSelf()))
          .matchEquals(ExternalShardAllocationStrategy.GetShardLocations$.MODULE$, asked ->
              getSender().tell(new ExternalShardAllocationStrategy.GetShardLocationsResponse(cache.snapshot()), getSelf()))
          .build();
    }
  }

  /**
   * Locations by shard, as strings (what Distributed Data holds) and as addresses. Entries are only
   * added or replaced, never removed (as Akka's own state actor keeps them). Not thread-safe: one
   * actor's.
   */
  static final class LocationCache {
    private final java.util.Map<String, String> written = new HashMap<>();
    private final java.util.Map<String, Address> parsed = new HashMap<>();
    private Map<String, Address> snapshot = scala.collection.immutable.Map$.MODULE$.empty();
    private boolean stale;

    /** Takes the current locations; parses only those that changed. Answers how many did. */
    int update(java.util.Map<String, String> locations) {
      int changed = 0;
      for (java.util.Map.Entry<String, String> e : locations.entrySet()) {
        if (!e.getValue().equals(written.put(e.getKey(), e.getValue()))) {
          parsed.put(e.getKey(), AddressFromURIString.parse(e.getValue()));
          changed++;
        }
      }
      stale |= changed > 0;
      return changed;
    }

    Address get(String shard) {
      return parsed.get(shard);
    }

    /** All locations, rebuilt only after a change. */
    Map<String, Address> snapshot() {
      if (stale) {
        snapshot = scala.collection.immutable.Map$.MODULE$.from(CollectionConverters.asScala(parsed));
        stale = false;
      }
      return snapshot;
    }
  }
}
