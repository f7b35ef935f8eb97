package io.mysimbdp.node.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.mysimbdp.node.testing.EmbeddedServicesProcess;
import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.NodeProcess;
import io.mysimbdp.node.testing.SteadyPublisher;
import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.Document;

/**
 * A {@code -Xmx512m} node under the heaviest traffic one tenant may send (issue #13): tenant
 * {@code big} sends single-record messages of 8 MB (the largest body a message may have) while its
 * stream is stopped, so they pile up against its queue's byte bound, then starts its stream; tenant
 * {@code lines} ingests an NDJSON file whose lines are 15 MB each (just under the batch record
 * bound). Meanwhile {@code steady-1} and {@code steady-2} stream small records at a fixed pace; their
 * stored rate under the pressure is compared with their rate before it.
 *
 * <p>Prints, per phase (before; under pressure: from big's first message until its last is stored
 * and the file's job has ended), the steady tenants' stored rate and the node's largest heap use; at the end
 * whether the node stayed up (it runs with {@code -XX:+ExitOnOutOfMemoryError}: an out-of-memory
 * error ends it) and, per tenant, records confirmed, stored, lost and duplicated (by each record's
 * {@code seq}). Exit 0 only when the node stayed up and nothing was lost or duplicated.
 *
 * <p>Run: {@code scripts/heap-demo.sh [messages (300)] [lines (12)]}; with {@code AMQP_URI} the node
 * uses that RabbitMQ, otherwise the embedded broker. The store (and the embedded broker) run in a
 * JVM of their own ({@link EmbeddedServicesProcess}), as MongoDB and RabbitMQ do in production: on
 * the zero-install default they share the node's heap, and the embedded store's cache of 8 MB
 * documents alone can fill 512 MB (seen: a scan of 30 of them ended such a node).
 */
public final class HeapPressureDemo {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure();
  }

  private static final String ADMIN = "heap-demo-admin-token-0123456789abcdef";
  private static final int MESSAGE_CHARS = 8_000_000;
  private static final int LINE_CHARS = 15_000_000;
  private static final int STEADY_PER_REQUEST = 50;
  private static final Duration STEADY_INTERVAL = Duration.ofMillis(100);
  private static final Duration BASELINE = Duration.ofSeconds(30);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private final HttpApi api;
  private final int managementPort;
  private final AtomicLong heapMax = new AtomicLong();
  private volatile boolean watching = true;

  private HeapPressureDemo(HttpApi api, int managementPort) {
    this.api = api;
    this.managementPort = managementPort;
  }

  public static void main(String[] args) throws Exception {
    int messages = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    int lines = args.length > 1 ? Integer.parseInt(args[1]) : 12;
    Path work = Files.createTempDirectory("mysimbdp-heap-demo");
    // The store (and, without AMQP_URI, the broker) in a JVM of their own, as MongoDB and RabbitMQ
    // are in production: the 512 MB are the node's own, not shared with the store's cache.
    EmbeddedServicesProcess services = EmbeddedServicesProcess.start(work.resolve("services"), "-Xmx4g");
    String amqp = System.getenv("AMQP_URI");
    boolean rabbit = amqp != null && !amqp.isBlank();
    Map<String, String> env = new HashMap<>(Map.of("MONGODB_URI", services.mongoUri, "AMQP_URI", rabbit ? amqp : services.amqpUri,
        "MYSIMBDP_ADMIN_TOKEN", ADMIN));
    NodeProcess.Settings settings = new NodeProcess.Settings(work.resolve("node"), FreePorts.next(), FreePorts.next(), FreePorts.next(), env);
    Files.createDirectories(settings.dataDir());
    NodeProcess node = NodeProcess.start(settings, "node.log", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError").awaitReady();
    System.out.printf(Locale.ROOT, "node -Xmx512m (pid %d); the embedded store in its own JVM; %s; %d messages of %,d bytes, %d lines of %,d bytes%n",
        node.process.pid(), rabbit ? "RabbitMQ " + URI.create(amqp).getHost() : "the embedded broker in the store's JVM", messages, MESSAGE_CHARS,
        lines, LINE_CHARS);
    int exit;
    try (MongoClient mongo = MongoClients.create(services.mongoUri)) {
      exit = new HeapPressureDemo(new HttpApi(settings.apiUrl(), ADMIN), settings.managementPort())
          .run(node, mongo, messages, lines, work);
    } catch (Throwable e) {
      System.out.println("heap demo FAILED: " + e);
      e.printStackTrace(System.out);
      exit = 1;
    } finally {
      if (node.process.isAlive()) {
        node.stop();
      }
      services.close();
      io.mysimbdp.node.testing.TempDirs.deleteAllButLogs(work);
      System.out.println("node log: " + node.log);
    }
    System.exit(exit);
  }

  private int run(NodeProcess node, MongoClient mongo, int messages, int lines, Path work) throws Exception {
    Map<String, String> keys = new HashMap<>();
    for (String tenant : List.of("steady-1", "steady-2", "big", "lines")) {
      keys.put(tenant, api.createTenant(tenant));
    }
    api.constraints("lines", "{\"maxFiles\":10,\"maxFileSizeMegabytes\":" + (lines * (LINE_CHARS / 1_000_000 + 1) + 1) + ",\"formats\":[\"ndjson\"]}");
    for (String tenant : List.of("steady-1", "steady-2")) {
      expect(api.postJson("/v1/tenants/" + tenant + "/stream/start", keys.get(tenant), "{}"), 200, "start " + tenant);
    }
    Thread heapWatch = new Thread(this::watchHeap, "heap-watch");
    heapWatch.setDaemon(true);
    heapWatch.start();

    List<SteadyPublisher> steady = new ArrayList<>();
    for (String tenant : List.of("steady-1", "steady-2")) {
      steady.add(new SteadyPublisher(tenant, keys.get(tenant), () -> List.of(api.baseUrl), STEADY_PER_REQUEST, STEADY_INTERVAL, "s")
          .withIdempotencyKey().start());
    }
    awaitStored(mongo, "steady-1", 2 * STEADY_PER_REQUEST, Duration.ofSeconds(60));
    Thread.sleep(5_000); // past the start-up of both consumers
    heapMax.set(0);
    Rates baseline = measure(mongo, BASELINE, null);
    long baselineHeap = heapMax.getAndSet(0);
    System.out.printf(Locale.ROOT, "baseline %.0f s: steady-1 %.0f records/s, steady-2 %.0f records/s, heap max %d MB%n",
        baseline.seconds, baseline.steady1, baseline.steady2, baselineHeap >> 20);

    Path file = work.resolve("lines.ndjson");
    writeLines(file, lines);
    AtomicLong refused = new AtomicLong();
    AtomicLong bigAccepted = new AtomicLong();
    long pressureStart = System.nanoTime();
    CompletableFuture<Void> big = CompletableFuture.runAsync(() -> sendBig(keys.get("big"), messages, refused, bigAccepted));
    CompletableFuture<String> batch = CompletableFuture.supplyAsync(() -> ingestLines(keys.get("lines"), file));
    // The stream starts once the queue has refused messages (its byte bound reached) and 10 s more.
    CompletableFuture<Void> bigStream = CompletableFuture.runAsync(() -> {
      while (refused.get() == 0 && !big.isDone()) {
        sleep(Duration.ofMillis(200));
      }
      sleep(Duration.ofSeconds(10));
      System.out.printf(Locale.ROOT, "+%.1f s: big's queue full (%d accepted, %d refused 429/503 so far): its stream started%n",
          (System.nanoTime() - pressureStart) / 1e9, bigAccepted.get(), refused.get());
      expect(api.postJson("/v1/tenants/big/stream/start", keys.get("big"), "{}"), 200, "start big");
    });
    // Under pressure until big's last message is stored and the file's job has ended.
    CompletableFuture<Void> bigStored = big.thenRunAsync(() -> awaitStored(mongo, "big", messages, Duration.ofMinutes(10)));
    Rates pressure = measure(mongo, null, CompletableFuture.allOf(bigStored, batch, bigStream));
    long pressureHeap = heapMax.get();
    System.out.printf(Locale.ROOT, "pressure %.0f s: steady-1 %.0f records/s (%.2f of baseline), steady-2 %.0f records/s (%.2f), heap max %d MB; "
            + "big: %d messages accepted, %d answers 429/503 on the way; lines: %s%n",
        pressure.seconds, pressure.steady1, pressure.steady1 / baseline.steady1, pressure.steady2, pressure.steady2 / baseline.steady2,
        pressureHeap >> 20, bigAccepted.get(), refused.get(), batch.join());

    for (SteadyPublisher p : steady) {
      p.close();
    }
    awaitStored(mongo, "steady-1", steady.get(0).confirmedCount(), Duration.ofMinutes(2));
    awaitStored(mongo, "steady-2", steady.get(1).confirmedCount(), Duration.ofMinutes(2));
    watching = false;

    boolean alive = node.process.isAlive();
    boolean oom = Files.readString(node.log).contains("OutOfMemoryError");
    Set<String> bigSeqs = seqs("b", messages);
    Set<String> lineSeqs = seqs("l", lines);
    List<String[]> counts = List.of(
        count(mongo, "steady-1", steady.get(0).confirmed()),
        count(mongo, "steady-2", steady.get(1).confirmed()),
        count(mongo, "big", bigSeqs),
        count(mongo, "lines", lineSeqs));
    System.out.println();
    System.out.printf(Locale.ROOT, "node %s, OutOfMemoryError in its log: %s; heap max %d MB (baseline %d MB)%n",
        alive ? "up" : "DOWN (exit " + node.process.exitValue() + ")", oom ? "yes" : "no", pressureHeap >> 20, baselineHeap >> 20);
    System.out.printf(Locale.ROOT, "steady tenants' stored rate under pressure / before: %.2f and %.2f%n",
        pressure.steady1 / baseline.steady1, pressure.steady2 / baseline.steady2);
    System.out.println("| tenant | confirmed | stored | lost | duplicated | dead letters |");
    System.out.println("|---|---|---|---|---|---|");
    boolean clean = alive && !oom;
    for (String[] c : counts) {
      System.out.printf("| %s |%n", String.join(" | ", c));
      clean &= c[3].equals("0") && c[4].equals("0");
    }
    return clean ? 0 : 1;
  }

  private record Rates(double seconds, double steady1, double steady2) {}

  /** The steady tenants' stored rate over {@code span}, or until {@code until} completes. */
  private static Rates measure(MongoClient mongo, Duration span, CompletableFuture<?> until) throws Exception {
    long t0 = System.nanoTime();
    long a0 = stored(mongo, "steady-1");
    long b0 = stored(mongo, "steady-2");
    if (span != null) {
      Thread.sleep(span.toMillis());
    } else {
      until.get(30, java.util.concurrent.TimeUnit.MINUTES);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Rates(seconds, (stored(mongo, "steady-1") - a0) / seconds, (stored(mongo, "steady-2") - b0) / seconds);
  }

  private void sendBig(String key, int messages, AtomicLong refused, AtomicLong accepted) {
    String blob = "x".repeat(MESSAGE_CHARS - 40);
    for (int i = 0; i < messages; i++) {
      byte[] body = ("{\"seq\":\"b" + i + "\",\"blob\":\"" + blob + "\"}").getBytes(StandardCharsets.UTF_8);
      while (true) {
        HttpResponse<String> r = post("/v1/tenants/big/messages", key, "application/json", "big-" + i, body);
        if (r.statusCode() == 202) {
          accepted.incrementAndGet();
          break;
        }
        if (r.statusCode() != 429 && r.statusCode() != 503) {
          throw new IllegalStateException("big message " + i + ": " + r.statusCode() + " " + r.body());
        }
        refused.incrementAndGet();
        sleep(Duration.ofSeconds(Long.parseLong(r.headers().firstValue("Retry-After").orElse("1"))));
      }
    }
  }

  private String ingestLines(String key, Path file) {
    try {
      HttpApi.Reply uploaded = api.sendBody("POST", "/v1/tenants/lines/files?name=lines.ndjson", key, "application/x-ndjson",
          HttpRequest.BodyPublishers.ofFile(file));
      expect(uploaded, 201, "upload lines.ndjson");
      var job = api.ingestAndWait("lines", key, List.of(uploaded.json().path("id").asText()), Duration.ofMinutes(20));
      return String.format(Locale.ROOT, "job %s in %.1f s, %s of %s records written, %s failed", job.path("state").asText(),
          job.path("elapsedMillis").asLong() / 1e3, job.path("records").path("written").asText(), job.path("records").path("read").asText(),
          job.path("records").path("failed").asText());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void writeLines(Path file, int lines) throws IOException {
    String blob = "y".repeat(LINE_CHARS - 40);
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < lines; i++) {
        out.write("{\"seq\":\"l" + i + "\",\"blob\":\"" + blob + "\"}\n");
      }
    }
  }

  private static Set<String> seqs(String prefix, int n) {
    Set<String> all = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      all.add(prefix + i);
    }
    return all;
  }

  /** confirmed, stored, lost, duplicated, dead letters of one tenant, by each record's {@code seq}. */
  private static String[] count(MongoClient mongo, String tenant, Set<String> confirmed) {
    MongoDatabase db = mongo.getDatabase("tenant_" + tenant);
    Map<String, Integer> copies = new HashMap<>();
    for (Document d : db.getCollection("records").find().projection(new Document("seq", 1))) {
      copies.merge(String.valueOf(d.get("seq")), 1, Integer::sum);
    }
    long lost = confirmed.stream().filter(s -> !copies.containsKey(s)).count();
    long duplicated = copies.values().stream().filter(c -> c > 1).mapToLong(c -> c - 1).sum();
    long stored = copies.values().stream().mapToLong(Integer::longValue).sum();
    return new String[] {tenant, Integer.toString(confirmed.size()), Long.toString(stored), Long.toString(lost), Long.toString(duplicated),
        Long.toString(db.getCollection("dead_letters").countDocuments())};
  }

  private static long stored(MongoClient mongo, String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments();
  }

  private static void awaitStored(MongoClient mongo, String tenant, long n, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    while (stored(mongo, tenant) < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(tenant + ": " + stored(mongo, tenant) + " of " + n + " records stored after " + within);
      }
      sleep(Duration.ofMillis(500));
    }
  }

  /** Samples the node's heap use ({@code /metrics}) twice a second, keeping the largest. */
  private void watchHeap() {
    while (watching) {
      try {
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/metrics"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        long heap = 0;
        for (String line : metrics.body().split("\n")) {
          if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
            heap += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          }
        }
        heapMax.accumulateAndGet(heap, Math::max);
      } catch (IOException | RuntimeException e) {
        // a busy node may answer late: the next sample
      } catch (InterruptedException e) {
        return;
      }
      sleep(Duration.ofMillis(500));
    }
  }

  private HttpResponse<String> post(String path, String key, String contentType, String idempotencyKey, byte[] body) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(api.baseUrl + path)).timeout(Duration.ofMinutes(2))
          .header("Authorization", "Bearer " + key).header("Content-Type", contentType).header("Idempotency-Key", idempotencyKey)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void expect(HttpApi.Reply reply, int status, String what) {
    if (reply.status() != status) {
      throw new IllegalStateException(what + ": " + reply);
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
