package io.mysimbdp.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mysimbdp.node.testing.CpuThief;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.SteadyPublisher;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bson.Document;

/**
 * The scale-out loop on node processes of {@code scripts/cluster.sh} with its local autoscaler
 * ({@code scripts/cluster.sh autoscale}) on: two nodes; one tenant's demand raised until it lags
 * on a node whose CPU is stolen (SIGSTOP/SIGCONT by PID) while no other node has headroom; the
 * balancer asks for a node, the autoscaler starts it, the slow tenant moves there first and its
 * backlog drains; then demand drops, and after the scale-in cool-down the autoscaler stops a node
 * (SIGTERM, drained). Prints each step with its time and reason, and checks that every confirmed
 * record is stored once.
 *
 * <p>Usage: {@code scripts/balance-demo.sh scaleout}. Node 1 has no headroom by declaration
 * ({@code BALANCER_CPU_HIGH=0}: two node processes on one small machine cannot show two saturated
 * nodes otherwise; the policy's own rules are BalancingPolicyTest's).
 */
public final class ScaleOutDemo {
  static final Duration WAIT = Duration.ofSeconds(180);
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  static final Instant START = Instant.now();

  public static void main(String[] args) throws Exception {
    Path runDir = ROOT.resolve("node/target/scaleout-demo");
    io.mysimbdp.node.testing.TempDirs.deleteQuietly(runDir);
    Files.createDirectories(runDir);
    String token = "demo-admin-" + UUID.randomUUID();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("CLUSTER_RUN_DIR", runDir.toString());
    env.put("MYSIMBDP_ADMIN_TOKEN", token);
    env.put("REPORT_INTERVAL", "2s");
    env.put("WAKE_INTERVAL", "3s");
    env.put("SBR_STABLE_AFTER", "5s");
    env.put("BALANCER_MIN_BACKLOG", "200");
    env.put("BALANCER_CPU_HIGH", "0");
    env.put("BALANCER_SCALE_IN_AFTER", args.length > 0 ? args[0] : "60s");
    env.put("BALANCER_COOL_DOWN", "60s");
    env.put("MIN_NODES", "2");
    env.put("MAX_NODES", "3");
    env.put("AUTOSCALE_INTERVAL", "2");
    env.put("NODE_JAVA_OPTS", "-Xmx384m");
    try {
      scaleOutAndIn(runDir, token, env);
    } finally {
      run(env, "stop"); // every node of the run dir, by PID, SIGTERM
    }
  }

  static void scaleOutAndIn(Path runDir, String token, Map<String, String> env) throws Exception {
    run(env, "start", "2");
    ProcessBuilder watcher = new ProcessBuilder(ROOT.resolve("scripts/cluster.sh").toString(), "autoscale").redirectErrorStream(true);
    watcher.environment().putAll(env);
    Process autoscaler = watcher.start();
    List<String> autoscaleLines = new java.util.concurrent.CopyOnWriteArrayList<>();
    Thread echo = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(autoscaler.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          autoscaleLines.add(line);
          if (line.contains("autoscale:")) {
            say("[%s]", line);
          }
        }
      } catch (IOException e) {
        // the autoscaler ended
      }
    });
    echo.setDaemon(true);
    echo.start();
    Map<String, List<SteadyPublisher>> byTenant = new HashMap<>();
    try (MongoClient mongo = MongoClients.create("mongodb://127.0.0.1:27117")) {
      HttpApi admin = new HttpApi("http://127.0.0.1:8080", token);
      String management = "http://127.0.0.1:8558";
      Map<String, String> keys = new LinkedHashMap<>();
      for (String id : List.of("surge", "steady")) {
        keys.put(id, admin.createTenant(id));
        Reply started = admin.postJson("/v1/tenants/" + id + "/stream/start", token, "");
        if (started.status() != 200) {
          throw new IllegalStateException(id + ": stream start answered " + started);
        }
      }
      String node2 = "akka://mysimbdp@127.0.0.1:2552";
      await("the tenants placed one a node", () -> new HashSet<>(placements(admin, keys).values()).size() == 2);
      // The tenant on node 2 surges; node 2's CPU is taken.
      String surge = placements(admin, keys).entrySet().stream().filter(e -> e.getValue().equals(node2)).findFirst().orElseThrow().getKey();
      String steady = keys.keySet().stream().filter(t -> !t.equals(surge)).findFirst().orElseThrow();
      List<String> urls = List.of("http://127.0.0.1:8080");
      byTenant.computeIfAbsent(steady, t -> new ArrayList<>()).add(new SteadyPublisher(steady, keys.get(steady), () -> urls, 10, Duration.ofMillis(100)).start());
      say("nodes 1 and 2 Up; %s on node 1 and %s on node 2 streaming 100 records/s each; nodes wanted: %s", steady, surge,
          json(management + "/platform/nodes-wanted").path("nodesWanted").asInt());
      byTenant.computeIfAbsent(surge, t -> new ArrayList<>()).add(new SteadyPublisher(surge, keys.get(surge), () -> urls, 10, Duration.ofMillis(100)).start());
      await("both stream", () -> stored(mongo, surge) > 500 && stored(mongo, steady) > 500);
      long pid2 = Long.parseLong(Files.readString(runDir.resolve("node2.pid")).trim());
      Instant surged;
      try (CpuThief thief = CpuThief.start(pid2, 0.97, Duration.ofMillis(400))) {
        for (int p = 0; p < 3; p++) {
          byTenant.get(surge).add(new SteadyPublisher(surge, keys.get(surge), () -> urls, 100, Duration.ofMillis(100), "surge" + p).start());
        }
        surged = Instant.now();
        say("%s's demand raised to three publishers of 100 records a request; node 2 (PID %d) stopped 97%% of the time", surge, pid2);
        JsonNode scaleOut = awaitDecision(management, surge, "scale-out");
        say("the reports asked for a node %.1f s after the surge: %s", seconds(surged, Instant.parse(scaleOut.path("decided_at").asText())),
            scaleOut.path("reason").asText());
        await("node 3 joins", () -> autoscaleLines.stream().anyMatch(l -> l.contains("node 3 joined")));
        say("node 3 joined (Up and ready) %.1f s after the request", seconds(Instant.parse(scaleOut.path("decided_at").asText()), Instant.now()));
        JsonNode first = awaitDecision(management, surge, "relieve");
        say("%s moved: %s", surge, first.path("reason").asText());
        await(surge + " runs on node 3", () -> "akka://mysimbdp@127.0.0.1:2553".equals(placements(admin, keys).get(surge)));
        say("%s runs on node 3, %.1f s after the decision to move it", surge, seconds(Instant.parse(first.path("decided_at").asText()), Instant.now()));
        Instant drainFrom = Instant.now();
        long backlogThen = admin.streamLag(surge, keys.get(surge));
        await(surge + "'s backlog drains", () -> admin.streamLag(surge, keys.get(surge)) < 50);
        say("its backlog (%d messages when it started on node 3) drained in %.1f s, while the three publishers go on", backlogThen,
            seconds(drainFrom, Instant.now()));
      }
      // Demand drops: the surge's publishers stop, node 2 gets its CPU back.
      for (int p = 1; p < byTenant.get(surge).size(); p++) {
        byTenant.get(surge).get(p).close();
      }
      Instant dropped = Instant.now();
      say("demand dropped back to 100 records/s; waiting for the scale-in (%s of a cluster that could do with fewer)", env.get("BALANCER_SCALE_IN_AFTER"));
      JsonNode scaleIn = awaitDecision(management, null, "scale-in");
      say("the reports let a node go %.1f s after the drop: %s", seconds(dropped, Instant.parse(scaleIn.path("decided_at").asText())),
          scaleIn.path("reason").asText());
      await("node 3 stopped", () -> autoscaleLines.stream().anyMatch(l -> l.matches(".*node 3 \\(PID [0-9]+\\) exited.*")));
      say("node 3 stopped (drained); %s now on %s; nodes wanted %d", surge, placements(admin, keys).get(surge),
          json(management + "/platform/nodes-wanted").path("nodesWanted").asInt());
      Thread.sleep(4_000); // the moved tenant streams on at its new place before the check
      for (List<SteadyPublisher> list : byTenant.values()) {
        for (SteadyPublisher p : list) {
          p.close();
        }
      }
      for (Map.Entry<String, List<SteadyPublisher>> t : byTenant.entrySet()) {
        Set<String> expected = new HashSet<>();
        t.getValue().forEach(p -> p.confirmed().forEach(id -> expected.add(t.getKey() + ":" + id)));
        await(t.getKey() + ": every confirmed record stored", () -> stored(mongo, t.getKey()) >= expected.size());
        Thread.sleep(1_000);
        Set<String> ids = new HashSet<>();
        mongo.getDatabase("tenant_" + t.getKey()).getCollection("records").find().projection(new Document("_id", 1)).forEach(d -> ids.add(d.getString("_id")));
        long count = stored(mongo, t.getKey());
        say("%s: %d records confirmed, %d stored, %s", t.getKey(), expected.size(), count,
            count == expected.size() && ids.equals(expected) ? "each once" : "MISMATCH");
        if (count != expected.size() || !ids.equals(expected)) {
          throw new IllegalStateException(t.getKey() + ": stored records differ from the confirmed ones");
        }
      }
    } finally {
      for (List<SteadyPublisher> list : byTenant.values()) {
        for (SteadyPublisher p : list) {
          p.close(); // idempotent: a closed publisher returns at once
        }
      }
      autoscaler.destroy(); // SIGTERM by its PID
      autoscaler.waitFor(10, TimeUnit.SECONDS);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  static void say(String format, Object... args) {
    System.out.printf("  +%6.1f s  %s%n", seconds(START, Instant.now()), String.format(format, args));
  }

  static double seconds(Instant from, Instant to) {
    return Duration.between(from, to).toMillis() / 1000.0;
  }

  static void run(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(ROOT.resolve("scripts/cluster.sh").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().putAll(env);
    if (builder.start().waitFor() != 0) {
      throw new IllegalStateException("scripts/cluster.sh " + String.join(" ", args) + " failed");
    }
  }

  static JsonNode json(String url) throws IOException, InterruptedException {
    var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body());
  }

  static JsonNode awaitDecision(String management, String tenant, String kind) throws Exception {
    Instant deadline = Instant.now().plus(WAIT);
    while (Instant.now().isBefore(deadline)) {
      for (JsonNode d : json(management + "/platform/decisions?hours=1" + (tenant == null ? "" : "&tenant=" + tenant)).path("decisions")) {
        if (kind.equals(d.path("kind").asText())) {
          return d;
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("no " + kind + " decision within " + WAIT);
  }

  static Map<String, String> placements(HttpApi admin, Map<String, String> keys) {
    return admin.placements(keys.keySet());
  }

  static long stored(MongoClient mongo, String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    while (Instant.now().isBefore(deadline)) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(what + ": not within " + WAIT);
  }

}
