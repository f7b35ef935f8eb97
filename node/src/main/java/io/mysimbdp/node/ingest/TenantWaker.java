package io.mysimbdp.node.ingest;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.SingletonActor;
import io.mysimbdp.node.tenant.TenantRepository;
import java.time.Duration;
import java.util.List;

/**
 * Keeps every tenant's ingestor running: a cluster singleton that wakes each tenant's entity now
 * and then. An entity whose node crashed (or a whole cluster that restarted) comes back at the next
 * wake on a live node and resumes its stream and batch work there, without waiting for a request.
 */
public final class TenantWaker {

  private enum Tick {
    INSTANCE
  }

  private record Woken(int tenants) {}

  private TenantWaker() {}

  public static void init(ActorSystem<?> system, TenantRepository tenants, Duration interval) {
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(tenants, interval)).onFailure(SupervisorStrategy.restart()),
                "TenantWaker"));
  }

  private static Behavior<Object> create(TenantRepository tenants, Duration interval) {
    return Behaviors.withTimers(
        timers -> {
          timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ZERO, interval);
          return Behaviors.setup(
              context -> {
                ClusterSharding sharding = ClusterSharding.get(context.getSystem());
                return Behaviors.receive(Object.class)
                    .onMessageEquals(
                        Tick.INSTANCE,
                        () -> {
                          context.pipeToSelf(
                              tenants.ids(),
                              (ids, failure) -> {
                                if (failure != null) {
                                  context.getLog().warn("could not list tenants to wake: {}", failure.toString());
                                  return new Woken(0);
                                }
                                wakeAll(sharding, ids);
                                return new Woken(ids.size());
                              });
                          return Behaviors.same();
                        })
                    .onMessage(Woken.class, woken -> Behaviors.same())
                    .build();
              });
        });
  }

  private static void wakeAll(ClusterSharding sharding, List<String> ids) {
    for (String id : ids) {
      sharding.entityRefFor(TenantIngestor.ENTITY_KEY, id).tell(TenantIngestor.Wake.INSTANCE);
    }
  }
}
