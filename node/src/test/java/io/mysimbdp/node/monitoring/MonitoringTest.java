package io.mysimbdp.node.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HeadlessChromium;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Monitoring on the management port, against a whole node on the embedded store and broker with two
 * tenants streaming all the time: the platform routes, {@code /metrics}, the management write
 * routes refused, and the live dashboard in headless Chromium.
 */
class MonitoringTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  /** Where the dashboard screenshot goes (the module's target directory). */
  static final Path SCREENSHOT = Path.of("target", "dashboard-two-tenants.png");

  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;
  static HttpApi management;
  static String self;
  static final List<String[]> tenants = new ArrayList<>();
  static final AtomicBoolean publishing = new AtomicBoolean(true);
  static final AtomicLong accepted = new AtomicLong();
  static Thread publisher;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir, ConfigFactory.parseString("mysimbdp.reports.interval = 1s\n"));
    api = node.api;
    management = new HttpApi("http://127.0.0.1:" + node.managementPort, null);
    self = Cluster.get(node.testKit.system()).selfMember().address().toString();
    for (String prefix : List.of("alpha", "beta")) {
      String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
      String key = api.createTenant(id);
      Reply started = api.postJson("/v1/tenants/" + id + "/stream/start", key, "");
      assertEquals(200, started.status(), started::toString);
      tenants.add(new String[] {id, key});
    }
    // A steady stream for both tenants for as long as the class runs: reports keep a non-zero throughput.
    publisher = new Thread(MonitoringTest::publish, "monitoring-test-publisher");
    publisher.setDaemon(true);
    publisher.start();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    publishing.set(false);
    if (publisher != null) {
      publisher.join(10_000);
    }
    if (node != null) {
      node.close();
    }
  }

  private static void publish() {
    int batch = 0;
    while (publishing.get()) {
      for (String[] tenant : tenants) {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 20; i++) {
          lines.append("{\"n\":").append(batch * 20 + i).append(",\"temperature\":").append(i % 30).append("}\n");
        }
        try {
          Reply reply = api.send("POST", "/v1/tenants/" + tenant[0] + "/messages", tenant[1], "application/x-ndjson",
              lines.toString().getBytes(StandardCharsets.UTF_8));
          if (reply.status() == 202) {
            accepted.addAndGet(20);
          }
        } catch (RuntimeException e) {
          // The node is stopping, or busy: the next round tries again.
        }
      }
      batch++;
      try {
        Thread.sleep(150);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Polls {@code path} on the management port until its JSON satisfies {@code condition}. */
  static JsonNode awaitJson(String path, Predicate<JsonNode> condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Reply last = null;
    while (System.nanoTime() < deadline) {
      last = management.get(path, null);
      if (last.status() == 200 && condition.test(last.json())) {
        return last.json();
      }
      Thread.sleep(250);
    }
    throw new AssertionError(what + " within " + WAIT + "; last " + path + ": " + last);
  }

  static boolean bothTenantsFlowing(JsonNode body) {
    int flowing = 0;
    for (String[] tenant : tenants) {
      for (JsonNode t : body.path("tenants")) {
        if (t.path("tenant").asText().equals(tenant[0]) && t.path("throughput").asDouble() > 0) {
          flowing++;
        }
      }
    }
    return flowing == tenants.size();
  }

  @Test
  void platformTenantsShowEachTenantWithItsNodeStateThroughputBacklogAndLatency() throws Exception {
    JsonNode body = awaitJson("/platform/tenants", MonitoringTest::bothTenantsFlowing, "both tenants reporting throughput");
    for (String[] tenant : tenants) {
      JsonNode t = find(body.path("tenants"), "tenant", tenant[0]);
      assertEquals(self, t.path("node").asText(), t::toString);
      assertTrue(List.of("running", "lagging", "moving").contains(t.path("state").asText()), t::toString);
      assertTrue(t.path("throughput").asDouble() > 0, t::toString);
      assertTrue(t.has("backlog") && t.has("latencyP50Millis") && t.has("latencyP99Millis") && t.has("errors"), t::toString);
      assertTrue(t.path("latencyP99Millis").asLong() >= t.path("latencyP50Millis").asLong(), t::toString);
    }
  }

  @Test
  void theBacklogCountsTheRecordsInTheQueueNotItsAmqpMessages() throws Exception {
    String id = "gamma-" + UUID.randomUUID().toString().substring(0, 6);
    String key = api.createTenant(id);
    assertEquals(200, api.postJson("/v1/tenants/" + id + "/stream/start", key, "").status());
    assertEquals(202, publishRecords(id, key, 0, 100).status()); // one AMQP message of 100 records
    awaitTrue(() -> api.get("/v1/tenants/" + id + "/stream", key).json().path("stored").asLong() == 100, "the first 100 records stored");
    assertEquals(200, api.postJson("/v1/tenants/" + id + "/stream/stop", key, "").status());
    for (int request = 1; request <= 10; request++) {
      assertEquals(202, publishRecords(id, key, request * 100, 100).status());
    }
    assertEquals(1_000, api.get("/v1/tenants/" + id + "/stream", key).json().path("lag").asLong(), "ten messages of 100 records wait");
    JsonNode body = awaitJson("/platform/tenants", t -> {
      JsonNode row = findOrNull(t.path("tenants"), "tenant", id);
      return row != null && row.path("backlog").asLong() == 1_000;
    }, "the stopped tenant's backlog reported as the 1,000 records its ten messages carry");
    assertEquals(1_000, find(body.path("tenants"), "tenant", id).path("backlog").asLong());
  }

  private static Reply publishRecords(String tenant, String key, int from, int count) {
    StringBuilder lines = new StringBuilder();
    for (int i = from; i < from + count; i++) {
      lines.append("{\"n\":").append(i).append("}\n");
    }
    return api.send("POST", "/v1/tenants/" + tenant + "/messages", key, "application/x-ndjson", lines.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(what + " within " + WAIT);
  }

  @Test
  void placementShowsWhichNodeRunsEachTenantsShard() throws Exception {
    JsonNode body = awaitJson("/platform/placement", p -> tenants.stream().allMatch(t -> {
      JsonNode row = findOrNull(p.path("tenants"), "tenant", t[0]);
      return row != null && self.equals(row.path("runningOn").asText()) && self.equals(row.path("placedOn").asText());
    }), "both tenants' shards placed and running on this node");
    assertEquals("TenantIngestor", body.path("entityType").asText());
    JsonNode region = find(body.path("regions"), "node", self);
    assertTrue(region.path("shards").asInt() >= 2, region::toString);
    assertTrue(region.path("entities").asInt() >= 2, region::toString);
  }

  @Test
  void decisionsShowTheBalancersPlacementsWithTheirReasons() throws Exception {
    JsonNode body = awaitJson("/platform/decisions?hours=1", d -> tenants.stream().allMatch(t -> findOrNull(d.path("decisions"), "tenant", t[0]) != null),
        "a placement decision for each tenant");
    for (String[] tenant : tenants) {
      JsonNode d = find(body.path("decisions"), "tenant", tenant[0]);
      assertEquals("place", d.path("kind").asText(), d::toString);
      assertEquals(self, d.path("to").asText(), d::toString);
      assertFalse(d.path("reason").asText().isBlank(), d::toString);
    }
    Reply bad = management.get("/platform/decisions?hours=0", null);
    assertEquals(400, bad.status(), bad::toString);
    assertEquals("invalid_parameter", bad.errorCode());
    Reply badTenant = management.get("/platform/decisions?tenant=Not%20A%20Tenant", null);
    assertEquals(400, badTenant.status(), badTenant::toString);
    JsonNode one = awaitJson("/platform/decisions?tenant=" + tenants.get(0)[0], d -> d.path("decisions").size() > 0, "the first tenant's decisions");
    for (JsonNode d : one.path("decisions")) {
      assertEquals(tenants.get(0)[0], d.path("tenant").asText(), d::toString);
    }
  }

  @Test
  void metricsArePrometheusTextWithPerTenantFiguresAndTheJvm() throws Exception {
    awaitJson("/platform/tenants", MonitoringTest::bothTenantsFlowing, "both tenants reporting throughput");
    String text = null;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      Reply reply = management.get("/metrics", null);
      assertEquals(200, reply.status(), reply::toString);
      assertTrue(reply.raw().headers().firstValue("Content-Type").orElse("").startsWith("text/plain"), reply.raw().headers()::toString);
      text = reply.body();
      String sample = text;
      if (tenants.stream().allMatch(t -> value(sample, "mysimbdp_tenant_latency_seconds", t[0], "quantile=\"0.99\"") >= 0)) {
        break;
      }
      Thread.sleep(250);
    }
    String metrics = text;
    for (String[] tenant : tenants) {
      String id = tenant[0];
      assertTrue(value(metrics, "mysimbdp_tenant_records_in_total", id, "source=\"stream\"") > 0, () -> id + " records in:\n" + metrics);
      assertTrue(value(metrics, "mysimbdp_tenant_records_stored_total", id, null) > 0, () -> id + " stored:\n" + metrics);
      assertTrue(value(metrics, "mysimbdp_tenant_bytes_in_total", id, null) > 0, () -> id + " bytes:\n" + metrics);
      assertEquals(0, value(metrics, "mysimbdp_tenant_errors_total", id, null), () -> id + " errors:\n" + metrics);
      assertTrue(value(metrics, "mysimbdp_tenant_throughput_records_per_second", id, null) >= 0, () -> id + " throughput:\n" + metrics);
      assertTrue(value(metrics, "mysimbdp_tenant_backlog_records", id, null) >= 0, () -> id + " backlog:\n" + metrics);
      assertTrue(value(metrics, "mysimbdp_tenant_latency_seconds", id, "quantile=\"0.99\"") >= 0, () -> id + " p99:\n" + metrics);
    }
    assertTrue(metrics.contains("# TYPE mysimbdp_tenant_records_stored_total counter"), metrics);
    assertTrue(metrics.contains("mysimbdp_node_tenants{node=\"" + self + "\"}"), metrics);
    // This node runs the balancer: its decisions (the two placements) are counted here.
    assertTrue(metrics.contains("mysimbdp_balancer_moves_in_flight{node=\"" + self + "\"}"), metrics);
    assertTrue(metrics.contains("mysimbdp_balancer_decisions_total{kind=\"place\",node=\"" + self + "\"}"), metrics);
    assertTrue(metrics.contains("mysimbdp_balancer_hand_off_seconds_count"), metrics);
    // One node, nothing lagging: one node wanted (min-nodes 1), what the autoscaler reads.
    assertTrue(metrics.contains("mysimbdp_balancer_nodes_wanted{node=\"" + self + "\"} 1.0"), metrics);
    assertTrue(metrics.contains("mysimbdp_balancer_nodes{node=\"" + self + "\"} 1.0"), metrics);
    // The JVM's own.
    for (String jvm : List.of("jvm_memory_used_bytes", "jvm_threads_current", "jvm_gc_collection_seconds", "process_cpu_seconds_total")) {
      assertTrue(metrics.contains(jvm), () -> jvm + " in\n" + metrics);
    }
    // The Grafana dashboard in k8s/ asks only for series that a node exposes.
    String dashboard = Files.readString(Path.of("..", "k8s", "grafana", "mysimbdp-dashboard.json"));
    Matcher names = Pattern.compile("\\b((?:mysimbdp|jvm|process)_[a-z0-9_]+)").matcher(dashboard);
    int checked = 0;
    while (names.find()) {
      String name = names.group(1);
      assertTrue(metrics.contains("\n" + name + "{") || metrics.contains("\n" + name + " "),
          () -> "the Grafana dashboard queries " + name + ", which /metrics does not expose:\n" + metrics);
      checked++;
    }
    assertTrue(checked >= 15, "the dashboard's queries were read: " + checked);
  }

  @Test
  void nodesWantedIsPlainJsonForAutoscalersAndScripts() {
    Reply reply = management.get("/platform/nodes-wanted", null);
    assertEquals(200, reply.status(), reply::toString);
    assertTrue(reply.raw().headers().firstValue("Content-Type").orElse("").startsWith("application/json"), reply::toString);
    JsonNode body = reply.json();
    assertEquals(1, body.path("nodesWanted").asInt(), body::toString);
    assertEquals(1, body.path("nodes").asInt(), body::toString);
    assertTrue(body.path("reason").isTextual(), body::toString);
  }

  @Test
  void managementWriteRoutesAreRefused() {
    String member = "/cluster/members/" + URLEncoder.encode(self, StandardCharsets.UTF_8);
    List<String[]> writes = List.of(
        new String[] {"PUT", member, "operation=Leave"},
        new String[] {"PUT", member, "operation=Down"},
        new String[] {"DELETE", member, null},
        new String[] {"POST", "/cluster/members", "address=" + self},
        new String[] {"PUT", "/cluster/shards/TenantIngestor", null},
        new String[] {"POST", "/metrics", null},
        new String[] {"POST", "/platform/tenants", null},
        new String[] {"DELETE", "/platform/decisions", null},
        new String[] {"PUT", "/platform/nodes-wanted", "nodesWanted=5"},
        new String[] {"PUT", "/dashboard", null});
    for (String[] write : writes) {
      byte[] body = write[2] == null ? new byte[0] : write[2].getBytes(StandardCharsets.UTF_8);
      Reply reply = management.send(write[0], write[1], null, "application/x-www-form-urlencoded", body);
      assertTrue(reply.status() == 404 || reply.status() == 405, () -> String.join(" ", write) + " must be refused: " + reply);
    }
    // Reads still work, and the node is still a member, Up.
    Reply members = management.get("/cluster/members", null);
    assertEquals(200, members.status(), members::toString);
    assertEquals(MemberStatus.up(), Cluster.get(node.testKit.system()).selfMember().status());
  }

  @Test
  void theDashboardShowsLiveThroughputForTwoTenantsInHeadlessChromium() throws Exception {
    HeadlessChromium chromium = HeadlessChromium.require();
    Reply page = management.get("/dashboard", null);
    assertEquals(200, page.status(), page::toString);
    assertTrue(page.raw().headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"), page.raw().headers()::toString);
    awaitJson("/platform/overview", MonitoringTest::bothTenantsFlowing, "both tenants reporting throughput");

    String url = "http://127.0.0.1:" + node.managementPort + "/dashboard";
    Map<String, Double> shown = new HashMap<>();
    String dom = "";
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      dom = chromium.dumpDom(url, 5_000);
      Map<String, Double> current = throughputRows(dom);
      shown = current;
      if (tenants.stream().allMatch(t -> current.getOrDefault(t[0], -1.0) > 0)) {
        break;
      }
    }
    String finalDom = dom;
    for (String[] tenant : tenants) {
      String id = tenant[0];
      assertTrue(shown.containsKey(id), () -> id + " in the dashboard's tenants table:\n" + finalDom);
      assertTrue(shown.get(id) > 0, () -> id + " with a non-zero throughput in the dashboard:\n" + finalDom);
      assertTrue(finalDom.contains("<polyline") && finalDom.matches("(?s).*<polyline[^>]*data-tenant=\"" + Pattern.quote(id) + "\".*"),
          () -> id + " drawn in the throughput chart:\n" + finalDom);
    }
    assertTrue(finalDom.contains(self.substring(self.indexOf('@') + 1)), () -> "the node in the nodes table:\n" + finalDom);

    chromium.screenshot(url, SCREENSHOT, 1280, 900, 5_000);
    byte[] png = Files.readAllBytes(SCREENSHOT);
    assertTrue(png.length > 10_000, () -> "a screenshot with content, not a blank page: " + png.length + " bytes");
    assertEquals((byte) 0x89, png[0]);
    assertEquals('P', png[1]);
  }

  /** The tenants table's rows: tenant → the throughput it shows. */
  private static Map<String, Double> throughputRows(String dom) {
    Map<String, Double> rows = new HashMap<>();
    Matcher m = Pattern.compile("<tr data-tenant=\"([^\"]+)\" data-throughput=\"([^\"]+)\"").matcher(dom);
    while (m.find()) {
      rows.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return rows;
  }

  /** The value of the sample of {@code metric} for {@code tenant} (and {@code extraLabel}), or -1. */
  private static double value(String text, String metric, String tenant, String extraLabel) {
    for (String line : text.split("\n")) {
      if (line.startsWith(metric + "{") && line.contains("tenant=\"" + tenant + "\"") && (extraLabel == null || line.contains(extraLabel))) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  private static JsonNode find(JsonNode array, String field, String value) {
    JsonNode found = findOrNull(array, field, value);
    if (found == null) {
      throw new AssertionError("no " + field + " = " + value + " in " + array);
    }
    return found;
  }

  private static JsonNode findOrNull(JsonNode array, String field, String value) {
    for (JsonNode element : array) {
      if (element.path(field).asText().equals(value)) {
        return element;
      }
    }
    return null;
  }
}
