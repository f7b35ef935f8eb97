package io.mysimbdp.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.LocalCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * Three node processes with 300 tenants streaming (a channel each on their node's shared
 * connection); one node is killed with SIGKILL between two rounds of records. Its tenants resume
 * elsewhere: every record the API confirmed (202) is stored exactly once, nothing dead-lettered.
 */
class ManyTenantsKillTest {
  private static final int NODES = 3;
  private static final int TENANTS = 300;
  private static final int RECORDS = 5;
  private static final Duration WITHIN = Duration.ofSeconds(150);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void everyConfirmedRecordIsStoredOnceAfterANodeOfManyTenantsIsKilled() throws Exception {
    Path dir = Path.of("target", "many-tenants-kill", "embedded-" + System.currentTimeMillis()).toAbsolutePath();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try (LocalCluster cluster = LocalCluster.start(dir, NODES, LocalCluster.Broker.EMBEDDED,
            Map.of("WAKE_INTERVAL", "3s", "SBR_STABLE_AFTER", "5s"));
        MongoClient mongo = MongoClients.create(cluster.mongoUri())) {
      HttpApi admin = cluster.admin(1);
      String run = UUID.randomUUID().toString().substring(0, 6);
      List<String> tenants = IntStream.range(0, TENANTS).mapToObj(i -> "kill" + i + "-" + run).toList();
      // Each tenant starts on the node first asked for it: a third on each.
      parallel(clients, TENANTS, i -> {
        admin.createTenant(tenants.get(i));
        String url = cluster.node(i % NODES + 1).apiUrl();
        return retry(() -> post(url, "/v1/tenants/" + tenants.get(i) + "/stream/start", "", null), "start " + tenants.get(i));
      });
      List<Set<String>> confirmed = new ArrayList<>();
      tenants.forEach(t -> confirmed.add(java.util.Collections.synchronizedSet(new HashSet<>())));
      publishRound(cluster, clients, tenants, confirmed, "a", List.of(1, 2, 3));

      cluster.kill(3);
      publishRound(cluster, clients, tenants, confirmed, "b", List.of(1, 2));

      Instant deadline = Instant.now().plus(WITHIN);
      for (int i = 0; i < TENANTS; i++) {
        MongoDatabase db = mongo.getDatabase("tenant_" + tenants.get(i));
        while (db.getCollection("records").countDocuments() < confirmed.get(i).size() && Instant.now().isBefore(deadline)) {
          Thread.sleep(200);
        }
      }
      long stored = 0;
      for (int i = 0; i < TENANTS; i++) {
        String tenant = tenants.get(i);
        MongoDatabase db = mongo.getDatabase("tenant_" + tenant);
        List<String> ids = new ArrayList<>();
        db.getCollection("records").find().projection(new Document("_id", 1)).forEach(d -> ids.add(d.getString("_id")));
        Set<String> expected = confirmed.get(i).stream().map(id -> tenant + ":" + id).collect(Collectors.toSet());
        assertEquals(expected, new HashSet<>(ids), tenant + ": exactly the confirmed records" + cluster.problems(10));
        assertEquals(expected.size(), ids.size(), tenant + ": each once");
        assertEquals(0, db.getCollection("dead_letters").countDocuments(), tenant + ": no dead letters");
        stored += ids.size();
      }
      System.out.printf("%d tenants on %d nodes, node 3 killed: %d records confirmed and stored once each%n", TENANTS, NODES, stored);
    } finally {
      clients.shutdownNow();
    }
  }

  /** One NDJSON request of RECORDS records per tenant, to the given nodes in turn; its ids confirmed on 202. */
  private static void publishRound(LocalCluster cluster, ExecutorService clients, List<String> tenants, List<Set<String>> confirmed,
      String prefix, List<Integer> nodes) throws Exception {
    String body = IntStream.range(0, RECORDS).mapToObj(n -> "{\"n\":" + n + "}").collect(Collectors.joining("\n"));
    parallel(clients, tenants.size(), i -> {
      String url = cluster.node(nodes.get(i % nodes.size())).apiUrl();
      retry(() -> post(url, "/v1/tenants/" + tenants.get(i) + "/messages", body, prefix), "publish to " + tenants.get(i));
      IntStream.rangeClosed(1, RECORDS).forEach(n -> confirmed.get(i).add(prefix + "-" + n));
      return null;
    });
  }

  private static int post(String baseUrl, String path, String body, String messageId) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + LocalCluster.ADMIN_TOKEN)
        .header("Content-Type", messageId == null ? "application/json" : "application/x-ndjson")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (messageId != null) {
      request.header("X-Message-Id", messageId);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  interface Call {
    int status() throws Exception;
  }

  /** Sends again while the node answers 503 (or cannot be reached), as the API asks; then wants 2xx. */
  private static int retry(Call call, String what) throws Exception {
    Instant deadline = Instant.now().plus(WITHIN);
    int status = -1;
    while (Instant.now().isBefore(deadline)) {
      try {
        status = call.status();
      } catch (java.io.IOException e) {
        status = -1;
      }
      if (status != 503 && status != -1) {
        break;
      }
      Thread.sleep(500);
    }
    if (status / 100 != 2) {
      throw new AssertionError(what + " answered " + status);
    }
    return status;
  }

  interface Task<T> {
    T run(int i) throws Exception;
  }

  private static <T> List<T> parallel(ExecutorService pool, int count, Task<T> task) throws Exception {
    List<Future<T>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      futures.add(pool.submit(() -> task.run(index)));
    }
    List<T> out = new ArrayList<>();
    for (Future<T> f : futures) {
      out.add(f.get());
    }
    return out;
  }
}
