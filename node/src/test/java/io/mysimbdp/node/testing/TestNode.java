package io.mysimbdp.node.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.ServerBinding;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.Node;
import io.mysimbdp.node.embedded.EmbeddedServices;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A whole node inside the test JVM: the embedded store and broker under a temporary data dir, an
 * ActorTestKit whose system runs {@link Node#init}, and the tenant API on a free port.
 */
public final class TestNode implements AutoCloseable {
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

  public final EmbeddedServices embedded;
  public final ActorTestKit testKit;
  public final int httpPort;
  public final int managementPort;
  public final HttpApi api;

  private TestNode(EmbeddedServices embedded, ActorTestKit testKit, int httpPort, int managementPort) {
    this.embedded = embedded;
    this.testKit = testKit;
    this.httpPort = httpPort;
    this.managementPort = managementPort;
    this.api = new HttpApi("http://127.0.0.1:" + httpPort, ADMIN_TOKEN);
  }

  /** A single node that joins itself. */
  public static TestNode start(Path dataDir) throws Exception {
    return start(dataDir, ConfigFactory.empty());
  }

  public static TestNode start(Path dataDir, Config overrides) throws Exception {
    int httpPort = FreePorts.next();
    int managementPort = FreePorts.next();
    Config base =
        ConfigFactory.parseString(
                "akka.remote.artery.canonical.port = 0\n"
                    + "akka.coordinated-shutdown.exit-jvm = off\n"
                    // A node's shutdown hands its tenants off (drained) first: 10 s is too short on a busy
                    // machine, and the shard region's phase alone may take its 60 s timeout.
                    + "akka.actor.testkit.typed.system-shutdown-default = 120s\n"
                    + "akka.management.http.port = " + managementPort + "\n"
                    + "mysimbdp.http.host = \"127.0.0.1\"\n"
                    + "mysimbdp.http.port = " + httpPort + "\n"
                    + "mysimbdp.admin-token = \"" + ADMIN_TOKEN + "\"\n")
            .withValue("mysimbdp.data-dir", com.typesafe.config.ConfigValueFactory.fromAnyRef(dataDir.toString()));
    Config config = overrides.withFallback(base).withFallback(ConfigFactory.load()).resolve();
    EmbeddedServices embedded = EmbeddedServices.startMissing(config);
    Config withServices = embedded.applyTo(config);
    ActorTestKit testKit = ActorTestKit.create("mysimbdp", withServices);
    try {
      ServerBinding binding = Node.init(testKit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (binding == null) {
        throw new IllegalStateException("no binding");
      }
    } catch (Exception e) {
      testKit.shutdownTestKit();
      embedded.close();
      throw e;
    }
    return new TestNode(embedded, testKit, httpPort, managementPort);
  }

  /**
   * A second node that joins {@code first}'s cluster and uses its embedded store and broker, once
   * both are Up in it ({@code overrides} as for {@link #start(Path, Config)}).
   */
  public static TestNode startJoining(TestNode first, Path dataDir, Config overrides) throws Exception {
    akka.cluster.typed.Cluster firstCluster = akka.cluster.typed.Cluster.get(first.testKit.system());
    TestNode second =
        start(
            dataDir,
            ConfigFactory.parseString(
                    "mysimbdp.cluster.join = seed-nodes\n"
                        + "akka.cluster.seed-nodes = [\"" + firstCluster.selfMember().address() + "\"]\n"
                        + "mysimbdp.mongodb.uri = \"" + first.embedded.mongo().orElseThrow().connectionString() + "\"\n"
                        + "mysimbdp.amqp.uri = \"" + first.embedded.broker().orElseThrow().uri() + "\"\n")
                .withFallback(overrides));
    first.testKit.createTestProbe().awaitAssert(
        java.time.Duration.ofSeconds(30),
        () -> {
          if (firstCluster.state().members().size() != 2) {
            throw new AssertionError("members: " + firstCluster.state().members());
          }
          firstCluster.state().getMembers().forEach(m -> {
            if (!m.status().equals(akka.cluster.MemberStatus.up())) {
              throw new AssertionError("not Up: " + m);
            }
          });
          return null;
        });
    return second;
  }

  public String managementUrl(String path) {
    return "http://127.0.0.1:" + managementPort + path;
  }

  @Override
  public void close() {
    try {
      testKit.shutdownTestKit();
    } finally {
      embedded.close();
    }
  }
}
