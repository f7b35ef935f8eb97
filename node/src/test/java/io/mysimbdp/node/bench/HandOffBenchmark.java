package io.mysimbdp.node.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
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
import org.bson.Document;

/**
 * Hand-off time of a tenant moved between node processes while its stream flows: for each move,
 * decision → its consumer's first message on the new node, and the messages waiting then (the ones
 * the move delayed). Prints every move, the median, p90 and max, and checks that the store holds
 * exactly the confirmed messages at the end.
 *
 * <p>Usage: {@code scripts/bench-handoff.sh [moves (20)] [records per 100 ms (50)] [nodes (3)]}
 */
public final class HandOffBenchmark {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }

  public static void main(String[] args) throws Exception {
    int moves = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    int perRequest = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int nodes = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    Path dir = Files.createTempDirectory("mysimbdp-handoff");
    // Load moves off: only the benchmark moves the tenant.
    Map<String, String> env = Map.of("REPORT_INTERVAL", "2s", "BALANCER_ENABLED", "off");
    try (LocalCluster cluster = LocalCluster.start(dir, nodes, LocalCluster.Broker.EMBEDDED, env);
        MongoClient mongo = MongoClients.create(cluster.mongoUri())) {
      HttpApi admin = cluster.admin(1);
      String tenant = "handoff";
      String key = admin.createTenant(tenant);
      require(admin.postJson("/v1/tenants/" + tenant + "/stream/start", key, ""), 200);
      List<String> urls = cluster.members().stream().map(LocalCluster.Member::apiUrl).toList();
      System.out.printf("%d nodes, one tenant streaming %d records every 100 ms over HTTP, %d moves (load %s)%n", nodes, perRequest, moves, load());
      List<Long> handOffs = new ArrayList<>();
      List<Long> delayed = new ArrayList<>();
      SteadyPublisher publisher = new SteadyPublisher(tenant, key, () -> urls, perRequest, Duration.ofMillis(100)).start();
      try {
        Thread.sleep(5_000);
        for (int i = 1; i <= moves; i++) {
          String from = admin.get("/v1/tenants/" + tenant + "/ingestor", key).json().path("node").asText();
          String to = cluster.members().stream().map(LocalCluster.Member::akkaAddress).filter(a -> !a.equals(from))
              .toList().get(i % (nodes - 1));
          Reply move = admin.postJson("/v1/tenants/" + tenant + "/move", admin.adminToken, "{\"node\":\"" + to + "\"}");
          require(move, 202);
          Document decision = awaitCompleted(mongo, move.json().path("id").asText());
          long handOff = ((Number) decision.get("hand_off_ms")).longValue();
          long backlog = decision.get("backlog_at_resume") instanceof Number n ? n.longValue() : -1;
          handOffs.add(handOff);
          delayed.add(backlog);
          System.out.printf("  move %2d  %s -> %s  hand-off %5d ms  waiting at resume %5d messages%n", i, port(from), port(to), handOff, backlog);
          Thread.sleep(3_000);
        }
      } finally {
        publisher.close();
      }
      Set<String> expected = new HashSet<>();
      publisher.confirmed().forEach(id -> expected.add(tenant + ":" + id));
      var records = mongo.getDatabase("tenant_" + tenant).getCollection("records");
      Instant deadline = Instant.now().plusSeconds(120);
      while (records.countDocuments() < expected.size() && Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
      }
      Set<String> ids = new HashSet<>();
      records.find().projection(new Document("_id", 1)).forEach(d -> ids.add(d.getString("_id")));
      List<Long> sorted = handOffs.stream().sorted().toList();
      System.out.printf("hand-off over %d moves: median %d ms, p90 %d ms, max %d ms, min %d ms (target: median < 5,000 ms)%n", sorted.size(),
          sorted.get(sorted.size() / 2), sorted.get((int) Math.min(sorted.size() - 1, Math.round(sorted.size() * 0.9))), sorted.get(sorted.size() - 1), sorted.get(0));
      System.out.printf("messages waiting at resume: median %d, max %d%n", delayed.stream().sorted().toList().get(delayed.size() / 2),
          delayed.stream().mapToLong(Long::longValue).max().orElse(0));
      System.out.printf("confirmed %d, stored %d, exactly the confirmed ids: %s (load %s)%n", expected.size(), records.countDocuments(), ids.equals(expected), load());
    } finally {
      io.mysimbdp.node.testing.TempDirs.deleteQuietly(dir);
    }
  }

  private static Document awaitCompleted(MongoClient mongo, String id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(120);
    while (Instant.now().isBefore(deadline)) {
      Document d = mongo.getDatabase("mysimbdp").getCollection(ReportStore.DECISIONS).find(Filters.eq("_id", id)).first();
      if (d != null && d.get("hand_off_ms") != null) {
        return d;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("move " + id + " not completed within 120 s");
  }

  private static void require(Reply reply, int status) {
    if (reply.status() != status) {
      throw new IllegalStateException("expected " + status + ": " + reply);
    }
  }

  private static String port(String address) {
    return address.substring(address.lastIndexOf(':') + 1);
  }

  private static String load() throws java.io.IOException {
    return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
  }

}
