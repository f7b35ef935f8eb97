package io.mysimbdp.node.bench;

import static io.mysimbdp.node.bench.BenchClients.CLIENTS;
import static io.mysimbdp.node.bench.BenchClients.expect;
import static io.mysimbdp.node.bench.BenchClients.send;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * Many tenants on one node (issue #12): the node runs as its own process ({@link NodeProcess}, the
 * embedded store; the embedded broker, or RabbitMQ when {@code AMQP_URI} is set), and this main
 *
 * <ol>
 *   <li>creates N tenants from 8 clients,
 *   <li>starts each one's stream,
 *   <li>reads the node's threads, open files and RSS ({@code /proc/PID}), and its CPU while idle
 *       (nothing sent) over {@code BENCH_IDLE_SECONDS} (60 s),
 *   <li>sends 20 records to each tenant (one NDJSON request each, 8 clients), and waits until every
 *       tenant holds exactly its 20 records: the time from the last 202 to the last record stored.
 * </ol>
 *
 * <p>Then the node's live heap: its heap used after a full GC ({@code jcmd}). The node's JVM takes
 * the options in {@code BENCH_NODE_JVM_OPTIONS} (e.g. {@code -Xmx1g}, as a pod's memory limit sets
 * it); without them the JVM's default maximum heap is a quarter of the machine's memory, and RSS
 * shows what the heap grew to, not what the node needs.
 *
 * <p>With {@code BENCH_SHARDS=1} it measures sharding instead of streams (one shard per tenant):
 * after the creations, the time until every tenant's entity runs, then a full restart of the node
 * (same store) and the time until every entity runs again.
 *
 * <p>Run: {@code scripts/bench-tenants.sh [N]} (default 10,000). Prints one table.
 */
public final class TenantDensityBenchmark {
  private static final String ADMIN = "bench-tenants-admin-token-0123456789";
  private static final int RECORDS_PER_TENANT = 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long CLOCK_TICKS = 100; // USER_HZ on Linux

  private final List<String[]> rows = new ArrayList<>();
  private final long pid;
  private final String base;

  private TenantDensityBenchmark(long pid, String base) {
    this.pid = pid;
    this.base = base;
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int idleSeconds = Integer.parseInt(System.getenv().getOrDefault("BENCH_IDLE_SECONDS", "60"));
    Path work = Files.createTempDirectory("mysimbdp-bench-tenants");
    int mongoPort = FreePorts.next();
    Map<String, String> env = new HashMap<>(Map.of("EMBEDDED_MONGODB_PORT", Integer.toString(mongoPort), "MYSIMBDP_ADMIN_TOKEN", ADMIN));
    String amqp = System.getenv("AMQP_URI");
    if (amqp != null && !amqp.isBlank()) {
      env.put("AMQP_URI", amqp);
    }
    NodeProcess.Settings settings = new NodeProcess.Settings(work.resolve("node"), FreePorts.next(), FreePorts.next(), FreePorts.next(), env);
    Files.createDirectories(settings.dataDir());
    String[] jvmOptions = System.getenv().getOrDefault("BENCH_NODE_JVM_OPTIONS", "").trim().isEmpty()
        ? new String[0] : System.getenv("BENCH_NODE_JVM_OPTIONS").trim().split("\\s+");
    NodeProcess[] node = {NodeProcess.start(settings, "node.log", jvmOptions).awaitReady()};
    int exit = 0;
    try (MongoClient mongo = MongoClients.create("mongodb://127.0.0.1:" + mongoPort)) {
      TenantDensityBenchmark bench = new TenantDensityBenchmark(node[0].process.pid(), settings.apiUrl());
      if ("1".equals(System.getenv("BENCH_SHARDS"))) {
        exit = bench.shards(n, settings, node);
      } else {
        exit = bench.run(n, idleSeconds, mongo, amqp == null || amqp.isBlank() ? "embedded broker" : "RabbitMQ " + URI.create(amqp).getHost());
      }
    } catch (Throwable e) {
      System.out.println("bench-tenants FAILED: " + e);
      e.printStackTrace(System.out);
      exit = 1;
    } finally {
      try {
        node[0].stop();
      } catch (Throwable e) {
        // said and counted, but the exit below must still come (the HTTP client's threads would keep this JVM up)
        System.out.println("bench-tenants FAILED stopping the node: " + e);
        exit = 1;
      }
      io.mysimbdp.node.testing.TempDirs.deleteAllButLogs(work);
      System.out.println("node log: " + node[0].log);
    }
    System.exit(exit);
  }

  private int run(int n, int idleSeconds, MongoClient mongo, String broker) throws Exception {
    System.out.printf(Locale.ROOT, "%,d tenants on one node (embedded store, %s), %d clients, %d cores, node JVM options: %s%n", n, broker,
        CLIENTS, Runtime.getRuntime().availableProcessors(), System.getenv().getOrDefault("BENCH_NODE_JVM_OPTIONS", "(none)"));
    row("before", Double.NaN, Double.NaN);

    String[] keys = new String[n];
    Phase create = timed(n, i -> {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/v1/tenants")).header("Authorization", "Bearer " + ADMIN)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + tenant(i) + "\"}")));
      expect(r, 201, "create " + tenant(i));
      keys[i] = json(r.body()).path("apiKey").asText();
    });
    row("create " + n + " tenants", create.seconds, create.cpuSeconds);

    Phase start = timed(n, i -> {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + tenant(i) + "/stream/start"))
          .header("Authorization", "Bearer " + keys[i]).POST(HttpRequest.BodyPublishers.noBody()));
      expect(r, 200, "start the stream of " + tenant(i));
    });
    row("start " + n + " streams", start.seconds, start.cpuSeconds);

    long cpu0 = cpuTicks();
    long t0 = System.nanoTime();
    Thread.sleep(idleSeconds * 1000L);
    double idleCpu = (cpuTicks() - cpu0) / (double) CLOCK_TICKS;
    double idleWall = (System.nanoTime() - t0) / 1e9;
    row(String.format(Locale.ROOT, "idle %d s: %.1f %% of one core", idleSeconds, 100 * idleCpu / idleWall), idleWall, idleCpu);

    AtomicLong lastAccepted = new AtomicLong();
    long sendStart = System.nanoTime();
    Phase sendAll = timed(n, i -> {
      StringBuilder body = new StringBuilder();
      for (int r = 0; r < RECORDS_PER_TENANT; r++) {
        body.append("{\"station\":\"s").append(r).append("\",\"value\":").append(r).append("}\n");
      }
      HttpResponse<String> r;
      do {
        r = send(HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + tenant(i) + "/messages"))
            .header("Authorization", "Bearer " + keys[i]).header("Content-Type", "application/x-ndjson").header("X-Message-Id", "b" + i)
            .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
        if (r.statusCode() == 429 || r.statusCode() == 503) {
          sleep(Duration.ofMillis(200)); // the API asks to retry later
        }
      } while (r.statusCode() == 429 || r.statusCode() == 503);
      expect(r, 202, "send to " + tenant(i));
      lastAccepted.accumulateAndGet(System.nanoTime(), Math::max);
    });
    double accepted = (lastAccepted.get() - sendStart) / 1e9;
    // Every tenant holds exactly its records (ids are "b<i>-<line>": a duplicate would be a write
    // refused or a second document; counting documents shows either a loss or an extra).
    Map<Integer, Long> pending = new ConcurrentHashMap<>();
    for (int i = 0; i < n; i++) {
      pending.put(i, 0L);
    }
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    long lastStored = 0;
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      for (Integer i : List.copyOf(pending.keySet())) {
        long stored = mongo.getDatabase("tenant_" + tenant(i)).getCollection("records").countDocuments();
        if (stored >= RECORDS_PER_TENANT) {
          pending.remove(i);
          lastStored = System.nanoTime();
          if (stored > RECORDS_PER_TENANT) {
            throw new IllegalStateException(tenant(i) + " holds " + stored + " records, sent " + RECORDS_PER_TENANT);
          }
        }
      }
      if (!pending.isEmpty()) {
        Thread.sleep(500);
      }
    }
    long exactlyOnce = 0;
    for (int i = 0; i < n; i++) {
      if (mongo.getDatabase("tenant_" + tenant(i)).getCollection("records").countDocuments() == RECORDS_PER_TENANT) {
        exactlyOnce++;
      }
    }
    double storedAfter = lastStored == 0 ? Double.NaN : Math.max(0, (lastStored - lastAccepted.get()) / 1e9);
    row(String.format(Locale.ROOT, "%d records to each: all 202 after %.1f s, all stored %.1f s after the last 202; %,d of %,d tenants hold exactly %d",
        RECORDS_PER_TENANT, accepted, storedAfter, exactlyOnce, n, RECORDS_PER_TENANT), sendAll.seconds, sendAll.cpuSeconds);

    System.out.println("live heap (used after a full GC): " + liveHeapMb() + " MB");
    System.out.println();
    printTable(rows);
    return exactlyOnce == n ? 0 : 1;
  }

  private static void printTable(List<String[]> rows) {
    System.out.printf("| phase | time s | node CPU s | threads | open files | RSS MB | peak RSS MB | heap committed / used MB |%n"
        + "|---|---|---|---|---|---|---|---|%n");
    rows.forEach(r -> System.out.printf("| %s | %s | %s | %s | %s | %s | %s | %s |%n", (Object[]) r));
  }

  /**
   * The node's heap as the JVM has it now, without a collection ({@code jcmd GC.heap_info}):
   * committed (what RSS holds of it) and used (live and garbage), in MB.
   */
  private String heapCommittedAndUsed() {
    try {
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      Process info = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
      String out = new String(info.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      info.waitFor();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
      return m.find() ? Long.parseLong(m.group(1)) / 1024 + " / " + Long.parseLong(m.group(2)) / 1024 : "?";
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  /** The node's heap used right after a full GC (jcmd GC.run, then GC.heap_info), in MB; -1 if jcmd could not tell. */
  private long liveHeapMb() throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    new ProcessBuilder(jcmd, Long.toString(pid), "GC.run").redirectErrorStream(true).start().waitFor();
    Process info = new ProcessBuilder(jcmd, Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
    String out = new String(info.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    info.waitFor();
    Process histogram = new ProcessBuilder(jcmd, Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
    String classes = new String(histogram.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    histogram.waitFor();
    System.out.println("largest classes on the heap (jcmd GC.class_histogram):");
    classes.lines().skip(1).limit(22).forEach(line -> System.out.println("  " + line));
    java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
    return used.find() ? Long.parseLong(used.group(1)) / 1024 : -1;
  }

  /** One shard per tenant at N tenants: entities started after creation, and after a full restart. */
  private int shards(int n, NodeProcess.Settings settings, NodeProcess[] node) throws Exception {
    System.out.printf(Locale.ROOT, "sharding: %,d tenants on one node, one shard per tenant%n", n);
    row("before", Double.NaN, Double.NaN);
    Phase create = timed(n, i -> expect(send(HttpRequest.newBuilder(URI.create(base + "/v1/tenants")).header("Authorization", "Bearer " + ADMIN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + tenant(i) + "\"}"))), 201, "create"));
    row("create " + n + " tenants", create.seconds, create.cpuSeconds);
    double started = awaitHosted(n, settings.managementPort());
    row(String.format(Locale.ROOT, "every entity running %.1f s after the last creation", started), started, Double.NaN);
    long t0 = System.nanoTime();
    node[0].stop();
    double stopped = (System.nanoTime() - t0) / 1e9;
    t0 = System.nanoTime();
    node[0] = NodeProcess.start(settings, "node-restarted.log").awaitReady();
    TenantDensityBenchmark restarted = new TenantDensityBenchmark(node[0].process.pid(), base);
    double ready = (System.nanoTime() - t0) / 1e9;
    double again = awaitHosted(n, settings.managementPort());
    restarted.rows.addAll(rows);
    restarted.row(String.format(Locale.ROOT, "full restart: stopped in %.1f s, ready %.1f s after start, every entity running %.1f s after ready",
        stopped, ready, again), ready + again, Double.NaN);
    long placementStart = System.nanoTime();
    HttpResponse<String> placement = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + settings.managementPort() + "/platform/placement")).GET());
    restarted.row(String.format(Locale.ROOT, "GET /platform/placement: %d, %,d bytes in %.2f s", placement.statusCode(), placement.body().length(),
        (System.nanoTime() - placementStart) / 1e9), Double.NaN, Double.NaN);
    System.out.println();
    printTable(restarted.rows);
    return 0;
  }

  /** Seconds until the node hosts {@code n} tenants' entities ({@code mysimbdp_node_tenants}). */
  private static double awaitHosted(int n, int managementPort) throws Exception {
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofMinutes(15).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> metrics = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/metrics")).GET());
      for (String line : metrics.body().split("\n")) {
        if (line.startsWith("mysimbdp_node_tenants") && (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) >= n) {
          return (System.nanoTime() - t0) / 1e9;
        }
      }
      Thread.sleep(1000);
    }
    throw new IllegalStateException("fewer than " + n + " entities running after 15 minutes");
  }

  private record Phase(double seconds, double cpuSeconds) {}

  /** Runs {@code work} for 0..n-1 on 8 clients; answers the wall and node CPU time it took. */
  private Phase timed(int n, IntConsumer work) throws Exception {
    long cpu0 = cpuTicks();
    long t0 = System.nanoTime();
    BenchClients.runAll(n, work);
    return new Phase((System.nanoTime() - t0) / 1e9, (cpuTicks() - cpu0) / (double) CLOCK_TICKS);
  }

  private void row(String phase, double seconds, double cpuSeconds) throws IOException {
    String[] r = {phase, fmt(seconds), fmt(cpuSeconds), Long.toString(status("Threads:")), Long.toString(openFiles()),
        Long.toString(status("VmRSS:") / 1024), Long.toString(status("VmHWM:") / 1024), heapCommittedAndUsed()};
    rows.add(r);
    System.out.printf("%s: %s s, node CPU %s s, threads %s, open files %s, RSS %s MB (peak %s MB), heap committed / used %s MB%n",
        (Object[]) r);
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String tenant(int i) {
    return String.format(Locale.ROOT, "bt%05d", i);
  }

  private long status(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }

  private long openFiles() throws IOException {
    try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      return fds.count();
    }
  }

  /** The node's user + system CPU so far, in clock ticks. */
  private long cpuTicks() throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }


  private static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
