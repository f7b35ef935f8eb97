package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.Join;
import akka.cluster.typed.SingletonActor;
import akka.serialization.SerializationExtension;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.protocol.BalancerDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The balancer's overview crosses nodes whole at 10,000 tenants: larger than Artery's ordinary
 * frame, it answers the monitoring routes' ask by the large-message lane, which the configuration
 * gives to the ask's temporary actor, named after the balancer's proxy.
 */
class OverviewLaneTest {
  static final ActorTestKit testKit = ActorTestKit.create(ConfigFactory.parseString(
          "akka.actor.provider = cluster\nakka.remote.artery.canonical.port = 0\nakka.coordinated-shutdown.exit-jvm = off\n")
      .withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void theOverviewAnswersByTheLargeMessageLaneAndFitsItAtTenThousandTenants() throws Exception {
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    TestProbe<String> replyPaths = testKit.createTestProbe();
    ActorRef<LoadBalancer.Command> proxy = ClusterSingleton.get(testKit.system()).init(SingletonActor.of(
        Behaviors.receiveMessage(command -> {
          if (command instanceof LoadBalancer.GetOverview get) {
            replyPaths.getRef().tell(get.replyTo().path().toStringWithoutAddress());
            get.replyTo().tell(overview(1));
          }
          return Behaviors.same();
        }), LoadBalancer.SINGLETON_NAME));
    // As the monitoring routes ask (PlatformRoutes.overview).
    AskPattern.<LoadBalancer.Command, LoadBalancer.Overview>ask(proxy, LoadBalancer.GetOverview::new, Duration.ofSeconds(10), testKit.system().scheduler())
        .toCompletableFuture().get();
    String replyPath = replyPaths.receiveMessage(Duration.ofSeconds(10));

    Config artery = testKit.system().settings().config().getConfig("akka.remote.artery");
    List<String> large = artery.getStringList("large-message-destinations");
    assertTrue(large.stream().anyMatch(glob -> replyPath.matches(glob.replace("$", "\\$").replace("*", ".*"))),
        "the reply goes to " + replyPath + ", not one of the large-message destinations " + large);

    int bytes = SerializationExtension.get(Adapter.toClassic(testKit.system())).serialize(overview(10_000)).get().length;
    long frame = artery.getBytes("advanced.maximum-frame-size");
    long largeFrame = artery.getBytes("advanced.maximum-large-frame-size");
    assertTrue(bytes > frame, "the lane matters: " + bytes + " bytes over a frame of " + frame);
    assertTrue(bytes <= largeFrame / 2, bytes + " bytes, large frame " + largeFrame);
  }

  /** An overview of {@code tenants} with long ids and Kubernetes-length node addresses, and as many decisions as kept. */
  private static LoadBalancer.Overview overview(int tenants) {
    String node = "akka://mysimbdp@mysimbdp-node-7f9c6d5b8-abcde.mysimbdp-headless.mysimbdp.svc.cluster.local:25520";
    List<LoadBalancer.TenantView> views = new ArrayList<>();
    for (int i = 0; i < tenants; i++) {
      String id = String.format("tenant-%042d", i);
      views.add(new LoadBalancer.TenantView(id, node, node, 12345.678, 23456.789, 123456789, 1234, 56789, 12345, i % 7 == 0, Instant.now()));
    }
    List<BalancerDecision> decisions = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      decisions.add(new BalancerDecision("0b8f3f1e-3c1a-4d2e-9f00-" + String.format("%012d", i), "tenant-" + i, "relieve", node, node,
          "tenant lags: backlog growing 1200/s; nodes: " + node + ": demand 5000 records/s, 3 tenant(s) placed, cpu 93%", Instant.now(),
          Instant.now(), 900L, 12L));
    }
    return new LoadBalancer.Overview(Instant.now(), node, List.of(new LoadBalancer.NodeView(node, "Up", 0.5, 2, tenants, false, false)), views,
        decisions, List.of(), new LoadBalancer.NodesWanted(3, 2, "tenant t lags", Instant.now()));
  }
}
