package io.mysimbdp.node.balance;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;

/** Tells the load balancer this node's own load every report interval: CPU of this process and heap. */
public final class NodeLoadReporter {
  private enum Tick {
    INSTANCE
  }

  private NodeLoadReporter() {}

  public static void start(ActorSystem<?> system, ActorRef<LoadBalancer.Command> balancer) {
    BalancerSettings settings = BalancerSettings.from(system.settings().config());
    system.systemActorOf(create(balancer, settings), "node-load-reporter", akka.actor.typed.Props.empty());
  }

  private static Behavior<Tick> create(ActorRef<LoadBalancer.Command> balancer, BalancerSettings settings) {
    return Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.reportInterval());
      return Behaviors.setup(context -> {
        String node = Cluster.get(context.getSystem()).selfMember().address().toString();
        return Behaviors.receiveMessage(tick -> {
          balancer.tell(measure(node));
          return Behaviors.same();
        });
      });
    });
  }

  /** This process's CPU over the last moments, as a share of the CPUs it may use (0..1). */
  public static LoadBalancer.NodeLoad measure(String node) {
    int processors = Runtime.getRuntime().availableProcessors();
    double cpu = 0;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      // Relative to the CPUs this JVM may use (a container's limit, where there is one).
      cpu = Math.max(0, os.getProcessCpuLoad());
    }
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return new LoadBalancer.NodeLoad(node, cpu, processors, heap.getUsed(), heap.getMax());
  }
}
