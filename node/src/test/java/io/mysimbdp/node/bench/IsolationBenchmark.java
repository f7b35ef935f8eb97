package io.mysimbdp.node.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tenant isolation under hostile functions: tenant A ingests the water-quality rows (repeated to N,
 * default 20,000) through Alice's sandboxed JSONata function, alone and while tenant B keeps
 * running one hostile function: B re-enables it ({@code POST .../reset}) and ingests a 12-record
 * file through it, again and again until A's file is done (the worst case: every reset buys B
 * another bound violation). Controls: B idle (the pair's noise) and the same B loop with the
 * identity function (what B's ingestion costs A whatever its function).
 *
 * <p>Each configuration is measured as a pair (A alone, then A alongside B) in every round, so a
 * change of the shared machine's load shows within the pair. A's rate is the job's own figure
 * (records written / the job's elapsed time on the node). Run: {@code scripts/bench-isolation.sh
 * [rows] [rounds] [B's functions, e.g. idle,benign,loop]}.
 */
public final class IsolationBenchmark {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(10);
  /** A's records dead-lettered in measured runs (a bound that fired on a legitimate record). */
  static final AtomicLong LOST = new AtomicLong();

  /** B's functions: none (B idle: the noise of a pair), a benign control, then the hostile ones of the isolation test. */
  static Map<String, String> functionsOfB() {
    Map<String, String> b = new LinkedHashMap<>();
    b.put("idle", "$");
    b.put("benign", "$");
    b.put("loop", "($loop := function($i) { $loop($i + 1) }; $loop(0))");
    b.put("append", "$reduce([1..100000], function($acc, $i) { $append($acc, $i) }, [])");
    b.put("alloc", "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xxxxxxxx')");
    b.put("spread", "{'a': [1..10000000]}");
    b.put("recursion", "($f := function($i) { 1 + $f($i + 1) }; $f(0))");
    b.put("host", "{'x': $class('java.lang.Runtime')}");
    return b;
  }

  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path work = Files.createTempDirectory("mysimbdp-bench-isolation");
    Path source = Path.of("../shared/data/water-quality-10k.csv");
    if (!Files.exists(source)) {
      source = Path.of("../../shared/data/water-quality-10k.csv");
    }
    byte[] csv = repeated(Files.readAllLines(source, StandardCharsets.UTF_8), rows);
    String alice;
    try (InputStream in = IsolationBenchmark.class.getResourceAsStream("/examples/alice.jsonata")) {
      alice = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Map<String, String> functions = functionsOfB();
    if (args.length > 2) { // a subset, e.g. "idle,benign,loop"
      List<String> only = List.of(args[2].split(","));
      functions.keySet().retainAll(only);
    }
    try (TestNode node = TestNode.start(work.resolve("node"));
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      HttpApi api = node.api;
      String a = api.createTenant("a");
      String b = api.createTenant("b");
      api.constraints("a", "{\"maxFiles\":100000}");
      api.constraints("b", "{\"maxFiles\":100000}");
      put(api, "a", a, "alice", Map.of("jsonata", alice));
      map(api, "a", a, "water", "alice", "measurements");
      StringBuilder twelve = new StringBuilder();
      for (int i = 0; i < 12; i++) {
        twelve.append("{\"i\":").append(i).append("}\n");
      }
      byte[] small = twelve.toString().getBytes(StandardCharsets.UTF_8);
      for (var f : functions.entrySet()) {
        put(api, "b", b, f.getKey(), Map.of("jsonata", f.getValue()));
        map(api, "b", b, f.getKey(), f.getKey(), "records");
      }
      System.out.printf(Locale.ROOT, "A: %,d rows through Alice's JSONata; B: 12-record files through one function, reset before each%n", rows);
      for (int i = 0; i < 3; i++) {
        run(api, mongo, "a", a, csv, true); // warm-up: JIT, store
      }
      Map<String, List<Double>> ratios = new LinkedHashMap<>();
      Map<String, List<String>> cells = new LinkedHashMap<>();
      Map<String, List<Double>> extraCpu = new LinkedHashMap<>();
      Map<String, List<Double>> extraCpuPerFile = new LinkedHashMap<>();
      for (int round = 1; round <= rounds; round++) {
        for (String f : functions.keySet()) {
          String loadBefore = load();
          long lostBefore = LOST.get();
          long cpu0 = cpuNanos();
          double alone = run(api, mongo, "a", a, csv, false);
          double cpuAlone = (cpuNanos() - cpu0) / 1e9;
          long lostAlone = LOST.get() - lostBefore;
          AtomicBoolean stop = new AtomicBoolean();
          AtomicLong bRecords = new AtomicLong();
          AtomicLong bFiles = new AtomicLong();
          Thread hostile = new Thread(() -> {
            while (!stop.get()) {
              api.postJson("/v1/tenants/b/functions/" + f + "/reset", b, "");
              HttpApi.Reply up = api.upload("b", b, f + ".ndjson", f, "application/x-ndjson", small);
              JsonNode job = api.ingestAndWait("b", b, List.of(up.json().path("id").asText()), JOB_TIMEOUT);
              bRecords.addAndGet(job.path("records").path("read").asLong());
              bFiles.incrementAndGet();
            }
          }, "tenant-b");
          if (!f.equals("idle")) {
            hostile.start();
            Thread.sleep(300); // B is running before A starts
          }
          long cpu1 = cpuNanos();
          double together = run(api, mongo, "a", a, csv, false);
          double cpuTogether = (cpuNanos() - cpu1) / 1e9;
          stop.set(true);
          if (hostile.isAlive()) {
            hostile.join();
          }
          String loadAfter = load();
          double ratio = together / alone;
          ratios.computeIfAbsent(f, k -> new ArrayList<>()).add(ratio);
          cells.computeIfAbsent(f, k -> new ArrayList<>()).add(String.format(Locale.ROOT, "%.0f/%.0f", alone, together));
          extraCpu.computeIfAbsent(f, k -> new ArrayList<>()).add(cpuTogether - cpuAlone);
          extraCpuPerFile.computeIfAbsent(f, k -> new ArrayList<>())
              .add(bFiles.get() == 0 ? 0 : (cpuTogether - cpuAlone) / bFiles.get());
          System.out.printf(Locale.ROOT, "round %d  B=%-9s A alone %,7.0f rec/s  A with B %,7.0f rec/s  ratio %.2f  "
                  + "JVM CPU %.2f s / %.2f s (B ran %d files, %d records; A dead-lettered %d alone, %d with B; load %s -> %s)%n",
              round, f, alone, together, ratio, cpuAlone, cpuTogether, bFiles.get(), bRecords.get(), lostAlone,
              LOST.get() - lostBefore - lostAlone, loadBefore, loadAfter);
          drop(mongo, "tenant_b", "dead_letters");
          drop(mongo, "tenant_b", "records");
        }
      }
      System.out.println();
      System.out.println("== isolation benchmark: A's rec/s alone / alongside B, per round; median ratio; "
          + "the JVM's CPU time during A's run with B minus without ==");
      for (String f : functions.keySet()) {
        List<Double> r = new ArrayList<>(ratios.get(f));
        r.sort(Double::compare);
        System.out.printf(Locale.ROOT, "B=%-9s %s  median %.2f (min %.2f, max %.2f); JVM CPU added by B: median %.2f s, %.0f ms per B file%n",
            f, String.join("  ", cells.get(f)), r.get(r.size() / 2), r.get(0), r.get(r.size() - 1),
            median(extraCpu.get(f)), 1000 * median(extraCpuPerFile.get(f)));
      }
      System.out.println("A's records dead-lettered in measured runs: " + LOST.get());
      System.out.println("cores " + Runtime.getRuntime().availableProcessors() + ", load at end " + load());
    }
  }

  /** One file of A: upload, ingest, answer A's records/s as the job measured it; then drop its output. */
  /** CPU time of this JVM (the node, its embedded store, both tenants' clients). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }

  static double run(HttpApi api, MongoClient mongo, String tenant, String key, byte[] csv, boolean warmUp) {
    HttpApi.Reply up = api.upload(tenant, key, "wq.csv", "water", "text/csv", csv);
    JsonNode job = api.ingestAndWait(tenant, key, List.of(up.json().path("id").asText()), JOB_TIMEOUT);
    long written = job.path("records").path("written").asLong();
    long failed = job.path("records").path("failed").asLong();
    long expected = csv.length == 0 ? 0 : job.path("records").path("read").asLong();
    var letters = mongo.getDatabase("tenant_" + tenant).getCollection("dead_letters");
    if (failed != 0) {
      System.out.println((warmUp ? "warm-up: " : "") + failed + " dead letter(s) of " + tenant + ", first: "
          + letters.find().first().getString("reason"));
      drop(mongo, "tenant_" + tenant, "dead_letters");
    }
    if (!job.path("state").asText().equals("succeeded") || written + failed != expected) {
      throw new IllegalStateException("tenant " + tenant + ": " + job);
    }
    if (!warmUp) {
      LOST.addAndGet(failed);
    }
    drop(mongo, "tenant_" + tenant, "measurements");
    return written * 1000.0 / job.path("elapsedMillis").asLong();
  }

  static void drop(MongoClient mongo, String database, String collection) {
    var db = mongo.getDatabase(database);
    for (String name : db.listCollectionNames()) {
      if (name.equals(collection)) {
        db.getCollection(collection).drop();
      }
    }
  }

  static byte[] repeated(List<String> lines, int rows) {
    StringBuilder out = new StringBuilder(lines.get(0)).append('\n');
    for (int i = 0; i < rows; i++) {
      out.append(lines.get(1 + i % (lines.size() - 1))).append('\n');
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1];
    } catch (Exception e) {
      return "?";
    }
  }

  static void put(HttpApi api, String tenant, String key, String name, Map<String, Object> spec) throws Exception {
    HttpApi.Reply r = api.putJson("/v1/tenants/" + tenant + "/functions/" + name, key, ProtocolJson.JSON.writeValueAsString(spec));
    if (r.status() != 201) {
      throw new IllegalStateException(r.toString());
    }
  }

  static void map(HttpApi api, String tenant, String key, String category, String function, String collection) {
    HttpApi.Reply r = api.putJson("/v1/tenants/" + tenant + "/categories/" + category, key,
        "{\"function\":\"" + function + "\",\"collection\":\"" + collection + "\"}");
    if (r.status() != 200) {
      throw new IllegalStateException(r.toString());
    }
  }
}
