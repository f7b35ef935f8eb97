package io.mysimbdp.node.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.Address;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes in the test JVM sharing a store and broker: a tenant moved while messages flow loses and
 * duplicates nothing; the balancer records the move with its measured hand-off; the tenant's
 * reports carry the seed's fields and the move; its live stats answer from its node.
 */
class BalancerTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path dataDir1;
  @TempDir static Path dataDir2;
  static TestNode node1;
  static TestNode node2;
  static MongoClient mongo;

  static Config fastReports() {
    return ConfigFactory.parseString("mysimbdp.reports.interval = 1s\n");
  }

  @BeforeAll
  static void startTwoNodes() throws Exception {
    node1 = TestNode.start(dataDir1, fastReports());
    node2 = TestNode.startJoining(node1, dataDir2, fastReports());
    mongo = MongoClients.create(node1.embedded.mongo().orElseThrow().connectionString());
  }

  @AfterAll
  static void stop() {
    if (mongo != null) {
      mongo.close();
    }
    node2.close();
    node1.close();
  }

  @Test
  void aTenantMovedWhileMessagesFlowLosesNothingAndItsHandOffIsRecorded() throws Exception {
    String tenant = "moving";
    String key = node1.api.createTenant(tenant);
    assertEquals(200, node1.api.postJson("/v1/tenants/" + tenant + "/stream/start", key, "").status());

    AtomicBoolean publishing = new AtomicBoolean(true);
    AtomicLong confirmed = new AtomicLong();
    List<String> failures = new ArrayList<>();
    Thread publisher = new Thread(() -> {
      int batch = 0;
      while (publishing.get()) {
        HttpApi api = batch % 2 == 0 ? node1.api : node2.api; // any node takes messages
        String body = String.join("\n", lines(batch * 50, 50));
        Reply reply = publish(api, tenant, key, "b" + batch, body);
        if (reply.status() == 202) {
          confirmed.addAndGet(50);
        } else if (reply.status() != 429 && reply.status() != 503) {
          failures.add(reply.toString());
        }
        batch++;
        sleep(40);
      }
    });
    publisher.start();
    try {
      awaitAtLeast("records stored before the move", () -> stored(tenant), 500);
      // A tenant whose first message reached sharding before its placement did starts where it was
      // asked for and moves to its placement at the next rebalance (1 s): a move to where it is
      // placed already is refused (409); ask again once it runs there.
      String from;
      String to;
      Reply move;
      int attempts = 0;
      do {
        if (attempts++ > 0) {
          sleep(1_000);
        }
        from = node1.api.get("/v1/tenants/" + tenant + "/ingestor", key).json().path("node").asText();
        to = from.equals(address(node1).toString()) ? address(node2).toString() : address(node1).toString();
        move = node2.api.postJson("/v1/tenants/" + tenant + "/move", node2.api.adminToken, "{\"node\":\"" + to + "\"}");
      } while (move.status() == 409 && move.body().contains("already") && attempts < 10);
      assertEquals(202, move.status(), move::toString);
      assertEquals("manual", move.json().path("kind").asText());
      String decisionId = move.json().path("id").asText();

      Document decision = awaitDecisionCompleted(decisionId);
      assertEquals(to, decision.getString("to"));
      assertEquals(from, decision.getString("from"));
      long handOff = ((Number) decision.get("hand_off_ms")).longValue();
      assertTrue(handOff > 0 && handOff < WAIT.toMillis(), "hand-off " + handOff + " ms");
      assertNotNull(decision.get("backlog_at_resume"));
      assertEquals(to, node2.api.get("/v1/tenants/" + tenant + "/ingestor", key).json().path("node").asText());

      long atMove = confirmed.get();
      awaitAtLeast("messages confirmed after the move", confirmed::get, atMove + 500);
    } finally {
      publishing.set(false);
      publisher.join();
    }
    assertEquals(List.of(), failures);
    awaitAtLeast("every confirmed message stored", () -> stored(tenant), confirmed.get());
    sleep(1_500);
    // Ids are the message ids: a count equal to what was confirmed means none lost, none twice.
    assertEquals(confirmed.get(), stored(tenant));
    assertEquals(0, mongo.getDatabase("tenant_" + tenant).getCollection("dead_letters").countDocuments());
    // A second move request while nothing moves to where it already is: refused.
    String where = node1.api.get("/v1/tenants/" + tenant + "/ingestor", key).json().path("node").asText();
    Reply again = node1.api.postJson("/v1/tenants/" + tenant + "/move", node1.api.adminToken, "{\"node\":\"" + where + "\"}");
    assertEquals(409, again.status(), again::toString);
    // Only the admin moves tenants.
    assertEquals(403, node1.api.postJson("/v1/tenants/" + tenant + "/move", key, "{\"node\":\"" + where + "\"}").status());

    assertReportsShowTheMove(tenant, key);
  }

  private void assertReportsShowTheMove(String tenant, String key) throws Exception {
    JsonNode[] holder = new JsonNode[1];
    node1.testKit.createTestProbe().awaitAssert(WAIT, Duration.ofMillis(500), () -> {
      Reply reports = node1.api.get("/v1/tenants/" + tenant + "/reports", key);
      assertEquals(200, reports.status(), reports::toString);
      JsonNode list = reports.json().path("reports");
      boolean withMove = false;
      for (JsonNode r : list) {
        withMove |= r.path("moves").size() > 0;
      }
      assertTrue(withMove, "no report carries the move: " + reports.body());
      holder[0] = list;
      return null;
    });
    long reported = 0;
    java.util.Set<String> nodes = new java.util.HashSet<>();
    for (JsonNode r : holder[0]) {
      for (String field : List.of("customer_identifier", "total_ingestion_size", "average_ingestion_time", "number_of_messages",
          "beginning_report", "end_report", "name_table", "node", "throughput", "latency_p50_ms", "latency_p99_ms", "backlog", "errors")) {
        assertTrue(r.has(field), field + " missing from " + r);
      }
      assertEquals(tenant, r.path("customer_identifier").asText());
      reported += r.path("number_of_messages").asLong();
      nodes.add(r.path("node").asText());
    }
    assertEquals(2, nodes.size(), "reports from both nodes: " + nodes);
    assertTrue(reported > 0 && reported <= stored(tenant), "reported " + reported);

    Reply stats = node2.api.get("/v1/tenants/" + tenant + "/stats", key);
    assertEquals(200, stats.status(), stats::toString);
    assertEquals(tenant, stats.json().path("tenant").asText());
    assertTrue(stats.json().has("throughput_10s"), stats::toString);
  }

  @Test
  void theReportRoutesRefuseBadParameters() {
    String key = node1.api.createTenant("reports-params");
    String base = "/v1/tenants/reports-params/reports";
    for (String query : List.of("?from=yesterday", "?to=2026-13-01", "?limit=0", "?limit=abc",
        "?from=2026-11-28T10:00:00Z&to=2026-11-28T09:00:00Z")) {
      Reply reply = node1.api.get(base + query, key);
      assertEquals(400, reply.status(), query + ": " + reply);
      assertEquals("invalid_parameter", reply.errorCode(), query + ": " + reply);
    }
    Reply ok = node1.api.get(base + "?from=2026-01-01T00:00:00Z&limit=5", key);
    assertEquals(200, ok.status(), ok::toString);
    assertFalse(ok.json().path("reports").isMissingNode());
  }

  private static Document awaitDecisionCompleted(String id) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    while (Instant.now().isBefore(deadline)) {
      Document d = mongo.getDatabase("mysimbdp").getCollection(ReportStore.DECISIONS).find(Filters.eq("_id", id)).first();
      if (d != null && d.get("consuming_at") != null) {
        return d;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("decision " + id + " was not completed within " + WAIT);
  }

  private static long stored(String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments();
  }

  private static void awaitAtLeast(String what, java.util.function.LongSupplier actual, long expected) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    long last = -1;
    while (Instant.now().isBefore(deadline)) {
      last = actual.getAsLong();
      if (last >= expected) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + ": " + last + " < " + expected);
  }

  private static List<String> lines(int from, int count) {
    List<String> lines = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      lines.add("{\"n\":" + i + "}");
    }
    return lines;
  }

  private static Reply publish(HttpApi api, String tenant, String key, String idPrefix, String ndjson) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(api.baseUrl + "/v1/tenants/" + tenant + "/messages"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/x-ndjson")
            .header("X-Message-Id", idPrefix)
            .POST(HttpRequest.BodyPublishers.ofString(ndjson))
            .build();
    try {
      HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.body(), response);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Address address(TestNode node) {
    return Cluster.get(node.testKit.system()).selfMember().address();
  }
}
