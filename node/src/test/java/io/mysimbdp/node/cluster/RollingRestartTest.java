package io.mysimbdp.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.LocalCluster;
import io.mysimbdp.node.testing.SteadyPublisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart of three node processes under a steady stream (issue #7): each node in turn
 * gets SIGTERM, must exit on its own (coordinated shutdown: it stops serving, its tenants hand off
 * drained, it leaves the cluster) within the grace period Kubernetes gives it, and is started
 * again before the next one goes. Two tenants publish over HTTP to every node all along, sending a
 * request again to another node when one is down. At the end every confirmed message is stored
 * exactly once, and nothing is dead-lettered.
 *
 * <p>Against the embedded broker (in the test JVM, outliving the nodes) and against RabbitMQ
 * (skipped without one). {@code scripts/rolling-restart.sh} runs the same test heavier
 * ({@code -Dmysimbdp.rolling.*}) and prints the same figures.
 */
class RollingRestartTest {
  private static final int NODES = 3;
  private static final int ROUNDS = Integer.getInteger("mysimbdp.rolling.rounds", 1);
  private static final int PER_REQUEST = Integer.getInteger("mysimbdp.rolling.per-request", 10);
  private static final Duration INTERVAL = Duration.ofMillis(Long.getLong("mysimbdp.rolling.interval-ms", 200));
  private static final Duration STORED_WITHIN = Duration.ofSeconds(120);
  private static final Pattern GRACE = Pattern.compile("terminationGracePeriodSeconds:\\s*(\\d+)");

  @Test
  void onTheEmbeddedBroker() throws Exception {
    rollingRestart(LocalCluster.Broker.EMBEDDED);
  }

  @Test
  void onRabbitMq() throws Exception {
    rollingRestart(LocalCluster.Broker.RABBITMQ);
  }

  private void rollingRestart(LocalCluster.Broker broker) throws Exception {
    // Under target/, kept when the test fails: the nodes' logs say what happened.
    Path dir = Path.of("target", "rolling-restart", broker.name().toLowerCase() + "-" + System.currentTimeMillis()).toAbsolutePath();
    Duration grace = gracePeriod();
    Config config = ConfigFactory.load();
    System.out.printf("rolling restart (%s): %d nodes x %d round(s); grace period %d s (k8s terminationGracePeriodSeconds); "
            + "hand-off phase %d s, stream drain-timeout %d s%n",
        broker, NODES, ROUNDS, grace.toSeconds(),
        config.getDuration("akka.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout").toSeconds(),
        config.getDuration("mysimbdp.stream.consume.drain-timeout").toSeconds());

    // The waker brings a handed-off tenant back within 3 s (default 15 s) so the test stays short.
    try (LocalCluster cluster = LocalCluster.start(dir, NODES, broker, Map.of("WAKE_INTERVAL", "3s"));
        MongoClient mongo = MongoClients.create(cluster.mongoUri())) {
      HttpApi admin = cluster.admin(1);
      List<String> tenants = new ArrayList<>();
      List<String> keys = new ArrayList<>();
      for (String name : List.of("roll-a", "roll-b")) {
        String id = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        String key = admin.createTenant(id);
        // A tenant starts on the node that first asks for it: roll-a on node 2, roll-b on node 3.
        startStream(cluster.admin(tenants.size() + 2), id, key);
        tenants.add(id);
        keys.add(key);
      }
      // Every node answers for every tenant: the stream commands reach the tenant's node from the others.
      for (int t = 0; t < tenants.size(); t++) {
        for (int i = 1; i <= NODES; i++) {
          HttpApi.Reply status = new HttpApi(cluster.node(i).apiUrl(), null).get("/v1/tenants/" + tenants.get(t) + "/stream", keys.get(t));
          assertEquals(200, status.status(), "node " + i + " on the stream of " + tenants.get(t) + ": " + status);
          assertEquals("started", status.json().path("state").asText(), status::toString);
        }
      }
      List<String> urls = cluster.members().stream().map(LocalCluster.Member::apiUrl).toList();
      List<SteadyPublisher> publishers = new ArrayList<>();
      try {
        for (int t = 0; t < tenants.size(); t++) {
          publishers.add(new SteadyPublisher(tenants.get(t), keys.get(t), () -> urls, PER_REQUEST, INTERVAL).start());
        }
        for (String tenant : tenants) {
          awaitStored(mongo, tenant, 1, "the stream of " + tenant + " consumes");
        }

        for (int round = 1; round <= ROUNDS; round++) {
          for (int i = 1; i <= NODES; i++) {
            String node = cluster.node(i).akkaAddress();
            List<String> heldHere = new ArrayList<>();
            for (int t = 0; t < tenants.size(); t++) {
              if (node.equals(ingestorNode(cluster, i % NODES + 1, tenants.get(t), keys.get(t)))) {
                heldHere.add(tenants.get(t));
              }
            }
            Path log = cluster.node(i).log();
            Duration took = cluster.stop(i);
            int exit = cluster.lastExitCode(i);
            String text = Files.readString(log);
            int drained = count(text, "stream drained for hand-off");
            System.out.printf("  round %d, node %d: SIGTERM -> exit %d after %.1f s (grace %d s); it held %s; drained %d stream(s); confirmed so far %d%n",
                round, i, exit, took.toMillis() / 1000.0, grace.toSeconds(), heldHere, drained, confirmed(publishers));
            assertTrue(exit == 0 || exit == 143, "node " + i + " exited with " + exit + "; log " + log);
            assertTrue(took.compareTo(grace) < 0, "node " + i + " took " + took + " to stop, more than the grace period " + grace);
            assertTrue(!text.contains("did not drain within"), "a stream of node " + i + " did not drain: " + log);
            for (String tenant : heldHere) {
              assertTrue(text.contains("tenant " + tenant + ": stream drained for hand-off"), tenant + " was not drained on node " + i + ": " + log);
            }

            long[] before = stored(mongo, tenants);
            int confirmedBefore = confirmed(publishers);
            cluster.start(i);
            cluster.awaitAllUp();
            // Ingestion goes on before the next node goes: more confirmed and more stored, per tenant.
            for (int t = 0; t < tenants.size(); t++) {
              awaitStored(mongo, tenants.get(t), before[t] + 1, tenants.get(t) + " is consumed again after node " + i + " restarted");
            }
            awaitConfirmed(publishers, confirmedBefore + 1);
          }
        }
      } finally {
        for (SteadyPublisher p : publishers) {
          p.close();
        }
      }

      for (int t = 0; t < tenants.size(); t++) {
        String tenant = tenants.get(t);
        SteadyPublisher p = publishers.get(t);
        assertNull(p.failure(), "publisher of " + tenant);
        Set<String> expected = new HashSet<>();
        p.confirmed().forEach(id -> expected.add(tenant + ":" + id));
        awaitStored(mongo, tenant, expected.size(), "every confirmed message of " + tenant + " stored");
        MongoDatabase db = mongo.getDatabase("tenant_" + tenant);
        Set<String> ids = new HashSet<>();
        long rows = 0;
        for (Document d : db.getCollection("records").find().projection(new Document("_id", 1))) {
          ids.add(d.getString("_id"));
          rows++;
        }
        long deadLetters = db.getCollection("dead_letters").countDocuments();
        System.out.printf("  %s: confirmed %d, stored %d records (%d distinct ids), missing %d, unexpected %d, dead letters %d; "
                + "%d requests, %d sent again (%d answered 503/429, the rest refused or reset)%n",
            tenant, expected.size(), rows, ids.size(), missing(expected, ids), missing(ids, expected), deadLetters,
            p.requests(), p.retries(), p.unavailable());
        assertEquals(expected.size(), rows, tenant + ": stored == confirmed");
        assertEquals(expected, ids, tenant + ": exactly the confirmed ids");
        assertEquals(0, deadLetters, tenant + ": no dead letters");
      }
    }
    if (!Boolean.getBoolean("mysimbdp.rolling.keep")) {
      deleteRecursively(dir);
    }
  }

  private static void deleteRecursively(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Starts the tenant's stream, sending the request again while the node answers 503 (right after
   * the cluster formed, the first message to a shard can wait longer than the API's ask timeout
   * while the shard coordinator reads its state).
   */
  private static void startStream(HttpApi api, String tenant, String key) throws InterruptedException {
    Instant deadline = Instant.now().plus(STORED_WITHIN);
    HttpApi.Reply started;
    do {
      started = api.postJson("/v1/tenants/" + tenant + "/stream/start", key, "");
      if (started.status() != 503) {
        break;
      }
      Thread.sleep(1000);
    } while (Instant.now().isBefore(deadline));
    assertEquals(200, started.status(), started::toString);
  }

  /** The node the tenant's ingestor runs on, as node {@code askNode} answers (null if it cannot tell). */
  private static String ingestorNode(LocalCluster cluster, int askNode, String tenant, String key) {
    HttpApi.Reply reply = new HttpApi(cluster.node(askNode).apiUrl(), null).get("/v1/tenants/" + tenant + "/ingestor", key);
    return reply.status() == 200 ? reply.json().path("node").asText() : null;
  }

  private static long[] stored(MongoClient mongo, List<String> tenants) {
    return tenants.stream().mapToLong(t -> stored(mongo, t)).toArray();
  }

  private static long stored(MongoClient mongo, String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("records").estimatedDocumentCount();
  }

  private static void awaitStored(MongoClient mongo, String tenant, long atLeast, String what) throws InterruptedException {
    Instant deadline = Instant.now().plus(STORED_WITHIN);
    long last = -1;
    while (Instant.now().isBefore(deadline)) {
      last = stored(mongo, tenant);
      if (last >= atLeast) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError(what + ": " + last + " stored, expected at least " + atLeast + " within " + STORED_WITHIN);
  }

  private static int confirmed(List<SteadyPublisher> publishers) {
    return publishers.stream().mapToInt(SteadyPublisher::confirmedCount).sum();
  }

  private static void awaitConfirmed(List<SteadyPublisher> publishers, int atLeast) throws InterruptedException {
    Instant deadline = Instant.now().plus(STORED_WITHIN);
    while (confirmed(publishers) < atLeast) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("no message confirmed within " + STORED_WITHIN + " after the restart");
      }
      Thread.sleep(100);
    }
  }

  private static long missing(Set<String> from, Set<String> in) {
    return from.stream().filter(id -> !in.contains(id)).count();
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
      n++;
    }
    return n;
  }

  /** terminationGracePeriodSeconds of the node Deployment: how long Kubernetes waits after SIGTERM. */
  static Duration gracePeriod() throws Exception {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path deployment = d.resolve("k8s/base/node-deployment.yaml");
      if (Files.exists(deployment)) {
        Matcher m = GRACE.matcher(Files.readString(deployment));
        assertTrue(m.find(), "terminationGracePeriodSeconds in " + deployment);
        return Duration.ofSeconds(Long.parseLong(m.group(1)));
      }
    }
    throw new AssertionError("k8s/base/node-deployment.yaml not found above " + Path.of("").toAbsolutePath());
  }
}
