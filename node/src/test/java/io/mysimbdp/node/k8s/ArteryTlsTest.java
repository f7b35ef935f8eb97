package io.mysimbdp.node.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import io.mysimbdp.node.testing.FreePorts;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code artery-tls.conf} (included by {@code kubernetes.conf}): off by default; with
 * ARTERY_TRANSPORT=tls-tcp and the stores from the environment, two nodes sharing a certificate form
 * a cluster over mutual TLS, and a node whose certificate they do not trust cannot join.
 */
class ArteryTlsTest {
  private static final String PASSWORD = "changeit";

  @Test
  void tlsIsOffUnlessSwitchedOnAndKubernetesConfIncludesIt() {
    Config off = ConfigFactory.parseResources("kubernetes.conf")
        .withFallback(ConfigFactory.defaultReference())
        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    assertEquals("tcp", off.getString("akka.remote.artery.transport"));

    Config on = ConfigFactory.parseMap(Map.of("ARTERY_TRANSPORT", "tls-tcp", "ARTERY_KEY_STORE", "/etc/artery/keystore.p12"))
        .withFallback(ConfigFactory.parseResources("kubernetes.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    assertEquals("tls-tcp", on.getString("akka.remote.artery.transport"));
    assertEquals("/etc/artery/keystore.p12", on.getString("akka.remote.artery.ssl.config-ssl-engine.key-store"));
    assertTrue(on.getBoolean("akka.remote.artery.ssl.config-ssl-engine.require-mutual-authentication"));
  }

  @Test
  void nodesWithTheSharedCertificateFormAClusterAndAStrangerCannotJoin(@TempDir Path dir) throws Exception {
    Stores trusted = stores(dir, "cluster");
    Stores stranger = stores(dir, "stranger");
    List<ActorSystem<Void>> systems = new ArrayList<>();
    try {
      ActorSystem<Void> first = start(trusted, systems);
      ActorSystem<Void> second = start(trusted, systems);
      Cluster.get(first).manager().tell(Join.create(Cluster.get(first).selfMember().address()));
      Cluster.get(second).manager().tell(Join.create(Cluster.get(first).selfMember().address()));
      awaitUp(first, 2, Duration.ofSeconds(30));
      awaitUp(second, 2, Duration.ofSeconds(30));

      ActorSystem<Void> outsider = start(stranger, systems);
      Cluster.get(outsider).manager().tell(Join.create(Cluster.get(first).selfMember().address()));
      Thread.sleep(8000);
      assertEquals(2, members(first), "the node with an untrusted certificate did not join");
      MemberStatus outsiderStatus = Cluster.get(outsider).selfMember().status();
      assertTrue(!outsiderStatus.equals(MemberStatus.up()), "the outsider is not Up: " + outsiderStatus);
    } finally {
      // One after the other, newest first (the outsider, still trying to join, then the members);
      // no coordinated shutdown, so each stops at once.
      // The test is the join and the refusal above; a system's own stop is not. Twice in CI one
      // (after the refused TLS handshakes) took over 60 s to terminate: said, not failed on.
      java.util.Collections.reverse(systems);
      for (ActorSystem<Void> system : systems) {
        system.terminate();
        try {
          system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException slow) {
          System.out.println("  " + system.address() + " did not terminate within 30 s; left to finish in the background");
        }
      }
    }
  }

  private record Stores(Path keyStore, Path trustStore) {}

  /** A self-signed key pair (the key store) and a trust store holding only its certificate. */
  private static Stores stores(Path dir, String name) throws Exception {
    Path keyStore = dir.resolve(name + "-key.p12");
    Path cert = dir.resolve(name + ".crt");
    Path trustStore = dir.resolve(name + "-trust.p12");
    KubernetesBootstrapTest.keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=" + name, "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD);
    KubernetesBootstrapTest.keytool("-exportcert", "-rfc", "-alias", name, "-keystore", keyStore.toString(), "-storepass", PASSWORD,
        "-file", cert.toString());
    KubernetesBootstrapTest.keytool("-importcert", "-noprompt", "-alias", name, "-file", cert.toString(), "-storetype", "PKCS12",
        "-keystore", trustStore.toString(), "-storepass", PASSWORD);
    return new Stores(keyStore, trustStore);
  }

  /** A bare cluster node configured the way kubernetes.conf configures TLS: through the environment. */
  private static ActorSystem<Void> start(Stores stores, List<ActorSystem<Void>> systems) {
    Map<String, Object> environment = new HashMap<>();
    environment.put("ARTERY_TRANSPORT", "tls-tcp");
    environment.put("ARTERY_KEY_STORE", stores.keyStore().toString());
    environment.put("ARTERY_KEY_STORE_PASSWORD", PASSWORD);
    environment.put("ARTERY_KEY_PASSWORD", PASSWORD);
    environment.put("ARTERY_TRUST_STORE", stores.trustStore().toString());
    environment.put("ARTERY_TRUST_STORE_PASSWORD", PASSWORD);
    Config config = ConfigFactory.parseMap(Map.of(
            "akka.actor.provider", "cluster",
            "akka.remote.artery.canonical.hostname", "127.0.0.1",
            "akka.remote.artery.canonical.port", FreePorts.next(),
            "akka.cluster.jmx.multi-mbeans-in-same-jvm", "on",
            "akka.coordinated-shutdown.exit-jvm", "off",
            "akka.coordinated-shutdown.run-by-jvm-shutdown-hook", "off",
            // The test is about joining: its systems stop at once, without leaving the cluster (a
            // leave the leader never completed held a terminate past 60 s once).
            "akka.coordinated-shutdown.run-by-actor-system-terminate", "off",
            "akka.loglevel", "WARNING"))
        .withFallback(ConfigFactory.parseMap(environment))
        .withFallback(ConfigFactory.parseResources("artery-tls.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "mysimbdp", config);
    systems.add(system);
    return system;
  }

  private static long members(ActorSystem<Void> system) {
    return StreamSupport.stream(Cluster.get(system).state().getMembers().spliterator(), false)
        .filter(m -> m.status().equals(MemberStatus.up()))
        .count();
  }

  private static void awaitUp(ActorSystem<Void> system, int n, Duration within) throws InterruptedException {
    Instant deadline = Instant.now().plus(within);
    while (members(system) < n) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(system.address() + " sees " + members(system) + " Up members, not " + n);
      }
      Thread.sleep(200);
    }
  }
}
