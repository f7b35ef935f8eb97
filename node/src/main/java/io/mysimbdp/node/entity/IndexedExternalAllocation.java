package io.mysimbdp.node.entity;

import akka.actor.ActorRef;
import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.sharding.external.ExternalShardAllocationStrategy;
import akka.pattern.Patterns;
import akka.util.Timeout;
import java.util.HashMap;
import java.util.HashSet;
import java.util.concurrent.CompletionStage;
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
 * 95 % of an idle node's CPU at 10,000 tenants (one shard each; a third of a core at 1 s).
 */
final class IndexedExternalAllocation extends ExternalShardAllocationStrategy {
  private final Address selfAddress;
  /** The strategy's own view of the locations (Distributed Data, kept current by subscription). */
  private volatile ActorRef locations;

  IndexedExternalAllocation(ActorSystem<?> system, String typeName, Timeout timeout) {
    super(system, typeName, timeout);
    this.selfAddress = Cluster.get(akka.actor.typed.javadsl.Adapter.toClassic(system)).selfAddress();
  }

  @Override
  public ActorRef createShardStateActor() {
    // Called by start(): the actor the parent's private field holds, kept here too for rebalance.
    ActorRef created = super.createShardStateActor();
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
}
