package io.mysimbdp.node.bench;

import static io.mysimbdp.node.bench.BenchClients.expect;
import static io.mysimbdp.node.bench.BenchClients.send;

import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.NodeProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One shard per tenant on several nodes (issue #12, "Shards"): K node processes form one cluster
 * (node 1 runs the embedded store and broker, the others use them), N tenants are created through
 * every node's API in turn (8 clients), and it measures
 *
 * <ol>
 *   <li>the time until every tenant's entity runs somewhere, and how the balancer spread them,
 *   <li>the nodes leaving one by one, highest first (each SIGTERM hands its tenants to the nodes
 *       left: the time to stop, and until every entity runs again on the others),
 *   <li>a full restart: node 1, then the others, and the time until every entity runs again,
 *   <li>{@code GET /platform/placement} (the coordinator's N shards) at the end.
 * </ol>
 *
 * <p>Run: {@code BENCH_NODES=3 BENCH_SHARDS=1 scripts/bench-tenants.sh [N]}; node JVM options from
 * {@code BENCH_NODE_JVM_OPTIONS}. Prints one table.
 */
public final class ShardsClusterBenchmark {
  private static final String ADMIN = "bench-shards-admin-token-0123456789";

  private final List<String[]> rows = new ArrayList<>();
  private final NodeProcess.Settings[] settings;
  private final NodeProcess[] nodes;
  private final String[] jvmOptions;

  private ShardsClusterBenchmark(NodeProcess.Settings[] settings, String[] jvmOptions) {
    this.settings = settings;
    this.nodes = new NodeProcess[settings.length];
    this.jvmOptions = jvmOptions;
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int k = Integer.parseInt(System.getenv().getOrDefault("BENCH_NODES", "3"));
    String[] jvmOptions = System.getenv().getOrDefault("BENCH_NODE_JVM_OPTIONS", "").trim().isEmpty()
        ? new String[0] : System.getenv("BENCH_NODE_JVM_OPTIONS").trim().split("\\s+");
    Path work = Files.createTempDirectory("mysimbdp-bench-shards");
    int mongoPort = FreePorts.next();
    int amqpPort = FreePorts.next();
    NodeProcess.Settings[] settings = new NodeProcess.Settings[k];
    int firstAkkaPort = FreePorts.next();
    String seed = "akka://mysimbdp@127.0.0.1:" + firstAkkaPort;
    for (int i = 0; i < k; i++) {
      Map<String, String> env = new HashMap<>(Map.of("MYSIMBDP_ADMIN_TOKEN", ADMIN, "CLUSTER_JOIN", "seed-nodes", "SEED_NODES", seed));
      if (i == 0) {
        env.put("EMBEDDED_MONGODB_PORT", Integer.toString(mongoPort));
        env.put("EMBEDDED_AMQP_PORT", Integer.toString(amqpPort));
      } else {
        env.put("MONGODB_URI", "mongodb://127.0.0.1:" + mongoPort);
      }
      settings[i] = new NodeProcess.Settings(work.resolve("node" + (i + 1)), FreePorts.next(), FreePorts.next(),
          i == 0 ? firstAkkaPort : FreePorts.next(), env);
      Files.createDirectories(settings[i].dataDir());
    }
    ShardsClusterBenchmark bench = new ShardsClusterBenchmark(settings, jvmOptions);
    int exit = 0;
    try {
      bench.run(n, amqpPort);
    } catch (Throwable e) {
      System.out.println("bench-shards FAILED: " + e);
      e.printStackTrace(System.out);
      exit = 1;
    } finally {
      for (int i = k - 1; i >= 0; i--) {
        try {
          if (bench.nodes[i] != null && bench.nodes[i].process.isAlive()) {
            bench.nodes[i].stop();
          }
        } catch (Throwable e) {
          System.out.println("bench-shards FAILED stopping node " + (i + 1) + ": " + e);
          exit = 1;
        }
      }
      io.mysimbdp.node.testing.TempDirs.deleteAllButLogs(work);
      System.out.println("node logs: " + work);
    }
    System.exit(exit);
  }

  private void run(int n, int amqpPort) throws Exception {
    int k = settings.length;
    System.out.printf(Locale.ROOT, "sharding: %,d tenants on %d nodes (node 1: embedded store and broker), one shard per tenant, %d cores%n",
        n, k, Runtime.getRuntime().availableProcessors());
    startAll(amqpPort, "");

    long t0 = System.nanoTime();
    BenchClients.runAll(n, i -> {
      String base = settings[i % k].apiUrl();
      expect(send(HttpRequest.newBuilder(URI.create(base + "/v1/tenants")).header("Authorization", "Bearer " + ADMIN)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + tenant(i) + "\"}"))), 201, "create");
    });
    double create = seconds(t0);
    double running = awaitHosted(n, k);
    row(String.format(Locale.ROOT, "create %,d tenants through the %d nodes' APIs", n, k), create, "all running %.1f s after the last creation", running);

    // The nodes leave one by one, highest first: each hands its tenants to the others.
    for (int i = k - 1; i >= 1; i--) {
      t0 = System.nanoTime();
      nodes[i].stop();
      double stopped = seconds(t0);
      double again = awaitHosted(n, i);
      row(String.format(Locale.ROOT, "node %d leaves (SIGTERM), %d left", i + 1, i), stopped, "all running on the others %.1f s after it exited", again);
    }
    t0 = System.nanoTime();
    nodes[0].stop();
    double lastStopped = seconds(t0);

    // Full restart: node 1 (the store and broker), then the others together.
    t0 = System.nanoTime();
    startAll(amqpPort, "-restarted");
    double ready = seconds(t0);
    double again = awaitHosted(n, k);
    row(String.format(Locale.ROOT, "full restart (node 1 stopped in %.1f s): all %d ready", lastStopped, k), ready,
        "all running %.1f s after ready", again);

    long placementStart = System.nanoTime();
    HttpResponse<String> placement = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + settings[0].managementPort() + "/platform/placement")).GET());
    row(String.format(Locale.ROOT, "GET /platform/placement: %d, %,d bytes", placement.statusCode(), placement.body().length()), seconds(placementStart), "", Double.NaN);

    System.out.println();
    System.out.println("| phase | time s | then | entities per node | RSS MB per node |");
    System.out.println("|---|---|---|---|---|");
    for (String[] r : rows) {
      System.out.println("| " + String.join(" | ", r) + " |");
    }
  }

  private void startAll(int amqpPort, String logSuffix) throws Exception {
    nodes[0] = NodeProcess.start(settings[0], "node1" + logSuffix + ".log", jvmOptions).awaitReady(Duration.ofMinutes(5));
    String password = Files.readString(settings[0].dataDir().resolve("amqp").resolve("amqp-password")).trim();
    for (int i = 1; i < settings.length; i++) {
      Map<String, String> env = new HashMap<>(settings[i].extraEnv());
      env.put("AMQP_URI", "amqp://mysimbdp:" + password + "@127.0.0.1:" + amqpPort + "/default");
      settings[i] = new NodeProcess.Settings(settings[i].dataDir(), settings[i].httpPort(), settings[i].managementPort(), settings[i].akkaPort(), env);
      nodes[i] = NodeProcess.start(settings[i], "node" + (i + 1) + logSuffix + ".log", jvmOptions);
    }
    for (int i = 1; i < settings.length; i++) {
      nodes[i].awaitReady(Duration.ofMinutes(5));
    }
  }

  private void row(String phase, double seconds, String thenFormat, double then) throws IOException {
    StringBuilder hosted = new StringBuilder();
    StringBuilder rss = new StringBuilder();
    for (int i = 0; i < nodes.length; i++) {
      boolean alive = nodes[i] != null && nodes[i].process.isAlive();
      hosted.append(i == 0 ? "" : " / ").append(alive ? Long.toString(hosted(i)) : "-");
      rss.append(i == 0 ? "" : " / ").append(alive ? Long.toString(rssMb(nodes[i].process.pid())) : "-");
    }
    String[] r = {phase, String.format(Locale.ROOT, "%.1f", seconds), Double.isNaN(then) ? "" : String.format(Locale.ROOT, thenFormat, then),
        hosted.toString(), rss.toString()};
    rows.add(r);
    System.out.println(String.join("; ", r));
  }

  /** Seconds until the first {@code upTo} nodes host {@code n} tenants' entities together. */
  private double awaitHosted(int n, int upTo) throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofMinutes(15).toNanos();
    while (System.nanoTime() < deadline) {
      long sum = 0;
      for (int i = 0; i < upTo; i++) {
        sum += hosted(i);
      }
      if (sum >= n) {
        return seconds(t0);
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("fewer than " + n + " entities running on nodes 1.." + upTo + " after 15 minutes");
  }

  /** The entities node {@code i} hosts ({@code mysimbdp_node_tenants}); 0 while it does not answer. */
  private long hosted(int i) {
    try {
      HttpResponse<String> metrics = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + settings[i].managementPort() + "/metrics")).GET());
      for (String line : metrics.body().split("\n")) {
        if (line.startsWith("mysimbdp_node_tenants")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    } catch (RuntimeException notAnswering) {
      // starting or stopping
    }
    return 0;
  }

  private static long rssMb(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.substring("VmRSS:".length()).trim().split("\\s+")[0]) / 1024;
      }
    }
    return -1;
  }

  private static double seconds(long fromNanos) {
    return (System.nanoTime() - fromNanos) / 1e9;
  }

  private static String tenant(int i) {
    return String.format(Locale.ROOT, "bs%05d", i);
  }

}
