package io.mysimbdp.node.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.mysimbdp.node.Main;
import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.protocol.MessageBatch;
import io.mysimbdp.protocol.ProtocolJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heavy stream demonstrations, against a real node process (started here, with the embedded
 * store under a temp dir) and the RabbitMQ of scripts/rabbitmq.sh. Run by scripts/stream-demo.sh:
 *
 * <pre>
 *   pair N        two tenants, N messages each, half over HTTP, half straight to RabbitMQ
 *   restart N     RabbitMQ restarted in the middle of an N-message stream
 *   kill N        the node killed with kill -9 in the middle of an N-message stream, then restarted
 *   poison N      a clean run, then a run with 1% poison messages: counts and throughput
 *   bench N       end-to-end messages/s, latency at fixed rates, next to the broker's own ceiling
 * </pre>
 *
 * Publishing is at-least-once with stable message ids: a request that was not confirmed (503, a
 * connection reset) is sent again with the same ids, so "confirmed" is every message, and the final
 * count must equal it exactly.
 */
public final class StreamLoad {
  static {
    io.mysimbdp.node.CommonPoolParallelism.ensure(); // a main that embeds a node: before anything starts the common pool
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final String ADMIN = "load-admin-token-0123456789abcdef";

  final String amqpUri = env("AMQP_URI");
  final String managementUri = env("AMQP_MANAGEMENT_URI");
  final Path dataDir;
  final int httpPort = FreePorts.next();
  final int mongoPort = FreePorts.next();
  final int managementPort = FreePorts.next();
  final int akkaPort = FreePorts.next();
  final String base = "http://127.0.0.1:" + httpPort;
  Process node;
  MongoClient mongo;

  StreamLoad() throws Exception {
    this.dataDir = Files.createTempDirectory("stream-load");
  }

  public static void main(String[] args) throws Exception {
    String scenario = args.length > 0 ? args[0] : "pair";
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    StreamLoad load = new StreamLoad();
    int exit = 0;
    try {
      load.startNode();
      load.mongo = MongoClients.create("mongodb://127.0.0.1:" + load.mongoPort);
      switch (scenario) {
        case "pair" -> load.pair(n);
        case "restart" -> load.restartBroker(n);
        case "kill" -> load.killNode(n);
        case "poison" -> load.poison(n);
        case "bench" -> load.bench(n);
        default -> throw new IllegalArgumentException("unknown scenario " + scenario);
      }
    } catch (Throwable e) {
      // halt() below skips the default handler: say what failed, and fail.
      System.out.println(scenario + " FAILED: " + e);
      e.printStackTrace(System.out);
      System.out.println("  node log: " + load.dataDir.resolve("node.log"));
      exit = 1;
    } finally {
      if (load.mongo != null) {
        load.mongo.close();
      }
      load.stopNode();
      System.out.flush();
      Runtime.getRuntime().halt(exit);
    }
  }

  // ---- scenarios -----------------------------------------------------------------------------

  void pair(int n) throws Exception {
    List<JsonNode> tenants = List.of(createTenant("pair-a"), createTenant("pair-b"));
    for (JsonNode t : tenants) {
      startStream(t);
    }
    long t0 = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> work = new ArrayList<>();
    for (JsonNode t : tenants) {
      work.add(pool.submit(() -> publishHttp(t, "h", 0, n / 2, 500, 2)));
      work.add(pool.submit(() -> publishDirect(t, "d", 0, n / 2, 100)));
    }
    for (Future<?> f : work) {
      f.get();
    }
    double publishSeconds = (System.nanoTime() - t0) / 1e9;
    for (JsonNode t : tenants) {
      awaitRecords(id(t), n, Duration.ofMinutes(10));
    }
    double totalSeconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("pair: 2 tenants x %,d messages (half HTTP, half direct to RabbitMQ with the tenant's own credentials)%n", n);
    System.out.printf("  published+confirmed in %.1f s, all stored in %.1f s: %.0f msg/s end to end%n", publishSeconds, totalSeconds, 2.0 * n / totalSeconds);
    for (JsonNode t : tenants) {
      String id = id(t);
      System.out.printf("  %s: records=%d distinct ids=%d dead letters=%d stream=%s%n", id, records(id), distinctIds(id), deadLetters(id), streamStatus(t));
    }
    pool.shutdownNow();
  }

  void restartBroker(int n) throws Exception {
    JsonNode t = createTenant("rabbit-restart");
    startStream(t);
    Thread restarter = new Thread(() -> {
      try {
        awaitRecords(id(t), n / 3, Duration.ofMinutes(5));
        System.out.printf("  restarting RabbitMQ at %d records stored%n", records(id(t)));
        long r0 = System.nanoTime();
        Process p = new ProcessBuilder("scripts/rabbitmq.sh", "restart").inheritIO().start();
        p.waitFor();
        System.out.printf("  RabbitMQ back after %.1f s%n", (System.nanoTime() - r0) / 1e9);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    restarter.start();
    long t0 = System.nanoTime();
    long retries = publishHttp(t, "m", 0, n, 500, 2);
    restarter.join();
    awaitRecords(id(t), n, Duration.ofMinutes(10));
    Thread.sleep(2000);
    System.out.printf("restart: %,d messages over HTTP, RabbitMQ restarted mid-stream; %d requests retried (503 while the broker was down)%n", n, retries);
    System.out.printf("  confirmed=%d records=%d distinct ids=%d dead letters=%d in %.1f s; stream=%s%n",
        n, records(id(t)), distinctIds(id(t)), deadLetters(id(t)), (System.nanoTime() - t0) / 1e9, streamStatus(t));
  }

  void killNode(int n) throws Exception {
    JsonNode t = createTenant("node-kill");
    startStream(t);
    long t0 = System.nanoTime();
    // Straight to RabbitMQ, so publishing goes on while the node is down.
    Thread publisher = new Thread(() -> publishDirect(t, "m", 0, n, 100));
    publisher.start();
    awaitRecords(id(t), n / 3, Duration.ofMinutes(5));
    long before = records(id(t));
    long pid = node.pid();
    new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start().waitFor();
    node.waitFor();
    System.out.printf("  kill -9 %d at %d records stored%n", pid, before);
    mongo.close();
    startNode();
    mongo = MongoClients.create("mongodb://127.0.0.1:" + mongoPort);
    publisher.join();
    awaitRecords(id(t), n, Duration.ofMinutes(10));
    Thread.sleep(2000);
    System.out.printf("kill: %,d messages straight to RabbitMQ (all confirmed), node killed with kill -9 and restarted%n", n);
    System.out.printf("  confirmed=%d records=%d distinct ids=%d dead letters=%d in %.1f s; stream=%s%n",
        n, records(id(t)), distinctIds(id(t)), deadLetters(id(t)), (System.nanoTime() - t0) / 1e9, streamStatus(t));
  }

  /** A warm-up (not counted), then clean and 1% poison runs alternately, twice: the JIT and the load are not on one side. */
  void poison(int n) throws Exception {
    timedRun("warm-up (not counted)", n / 5, 0);
    double clean = 0;
    double poisoned = 0;
    for (int round = 0; round < 2; round++) {
      clean += timedRun("clean", n, 0);
      poisoned += timedRun("1% poison", n, 100);
    }
    clean /= 2;
    poisoned /= 2;
    System.out.printf("poison: clean %.0f msg/s, with 1%% poison %.0f msg/s (%.1f%% of clean; mean of 2 runs each, alternated)%n", clean, poisoned, 100 * poisoned / clean);
  }

  private double timedRun(String label, int n, int poisonEvery) throws Exception {
    JsonNode t = createTenant("poison");
    startStream(t);
    long t0 = System.nanoTime();
    publishDirect(t, "m", 0, n, 100, poisonEvery);
    long expectedDead = poisonEvery == 0 ? 0 : n / poisonEvery;
    awaitRecords(id(t), n - expectedDead, Duration.ofMinutes(10));
    double seconds = (System.nanoTime() - t0) / 1e9;
    Thread.sleep(1000);
    System.out.printf("  %s: %,d messages in %.1f s = %.0f msg/s; records=%d distinct ids=%d dead letters=%d%n",
        label, n, seconds, n / seconds, records(id(t)), distinctIds(id(t)), deadLetters(id(t)));
    org.bson.Document letter = mongo.getDatabase("tenant_" + id(t)).getCollection("dead_letters").find().first();
    if (letter != null) {
      System.out.printf("    a dead letter: stage=%s reason=%s%n", letter.get("stage"), letter.get("reason"));
    }
    return n / seconds;
  }

  void bench(int n) throws Exception {
    double ceiling = brokerCeiling(n, 1, false);
    // Like for like with a tenant's queue: declared with its arguments (single active consumer,
    // max length with reject-publish, a dead-letter exchange), fed through a fanout exchange, the
    // message properties StreamPublisher sets.
    double tenantLikeCeiling = brokerCeiling(n, 1, true);
    // The platform carries 200 records per AMQP message (publish.batch-size): the like-for-like
    // ceiling publishes the same batched envelopes (at least 1,000 of them) and counts records.
    int per = 200;
    int batchedRecords = Math.max(n, 1_000 * per);
    double batchedCeiling = brokerCeiling(batchedRecords, per, false);
    System.out.printf("bench: broker ceiling, 1 record per AMQP message: %.0f msg/s (plain queue), %.0f msg/s (queue and exchange as a tenant's); with %d records per AMQP message: %.0f records/s (%,d records)%n",
        ceiling, tenantLikeCeiling, per, batchedCeiling, batchedRecords);
    // Sustained: as fast as the node takes it (HTTP NDJSON requests of 500, 4 in parallel). First on
    // the fresh node (its JIT compiles the whole path meanwhile: a minute and more of compiler time),
    // printed but not judged: it is the node's warm-up. Then BENCH_RUNS (default 3) measured runs on
    // the warmed node (the steady state), each on a new tenant and each followed by the plain
    // ceiling again, so a change of the machine's load shows on both sides. Every run is judged
    // against the highest 1-per-message ceiling of the whole benchmark.
    ExecutorService pool = Executors.newFixedThreadPool(4);
    double cold = sustainedRun("cold (fresh node, the warm-up; not judged)", n, per, pool);
    List<Double> ceilings = new ArrayList<>(List.of(ceiling, tenantLikeCeiling));
    List<Double> warm = new ArrayList<>();
    int runs = Integer.parseInt(System.getenv().getOrDefault("BENCH_RUNS", "3"));
    for (int run = 1; run <= runs; run++) {
      warm.add(sustainedRun("warm, run " + run + " of " + runs, n, per, pool));
      double again = brokerCeiling(n, 1, false);
      ceilings.add(again);
      System.out.printf("  broker ceiling again, 1 record per AMQP message: %.0f msg/s%n", again);
    }
    double best = ceilings.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    List<Double> ratios = warm.stream().map(w -> w / best).sorted().toList();
    System.out.printf("  against the highest of the %d 1-per-message ceilings (%.0f msg/s): warm runs %s -> median %.2f, min %.2f, max %.2f (target 0.60); cold %.2f%n",
        ceilings.size(), best, warm.stream().map(w -> String.format("%.2f", w / best)).toList(), ratios.get(ratios.size() / 2),
        ratios.get(0), ratios.get(ratios.size() - 1), cold / best);
    // BENCH_RATES: the fixed rates, comma-separated (default 1000,5000,10000; "none": sustained only).
    String rates = System.getenv().getOrDefault("BENCH_RATES", "1000,5000,10000");
    for (String r0 : rates.equals("none") ? new String[0] : rates.split(",")) {
      int rate = Integer.parseInt(r0.strip());
      JsonNode r = createTenant("bench-" + rate);
      startStream(r);
      int total = rate * 10;
      long start = System.nanoTime();
      for (int sent = 0; sent < total; sent += 100) {
        long due = start + (long) (sent * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        int from = sent;
        pool.submit(() -> publishHttp(r, "m", from, 100, 100, 1));
      }
      double published = (System.nanoTime() - start) / 1e9;
      awaitRecords(id(r), total, Duration.ofMinutes(5));
      double stored = (System.nanoTime() - start) / 1e9;
      JsonNode rs = streamStatus(r);
      // The last request is sent at 10 s if the publishers kept up; all stored soon after if the node did.
      System.out.printf("  fixed rate %,d msg/s for 10 s (HTTP NDJSON x100): p50 %s ms, p99 %s ms (publish -> stored); last request sent at %.1f s, all stored at %.1f s (%.0f msg/s)%n",
          rate, rs.path("latencyP50Millis"), rs.path("latencyP99Millis"), published, stored, total / stored);
    }
    pool.shutdownNow();
  }

  /** One sustained run on a new tenant: msg/s end to end, printed with the node's CPU per message. */
  double sustainedRun(String label, int n, int per, ExecutorService pool) throws Exception {
    JsonNode t = createTenant("bench-max");
    startStream(t);
    Duration cpu0 = nodeCpu();
    long t0 = System.nanoTime();
    List<Future<Long>> parts = new ArrayList<>();
    for (int p = 0; p < 4; p++) {
      int from = p * (n / 4);
      parts.add(pool.submit(() -> publishHttp(t, "m", from, n / 4, 500, 1)));
    }
    for (Future<Long> f : parts) {
      f.get();
    }
    double publishedSeconds = (System.nanoTime() - t0) / 1e9;
    awaitRecords(id(t), (n / 4) * 4, Duration.ofMinutes(10));
    double seconds = (System.nanoTime() - t0) / 1e9;
    double sustained = (n / 4) * 4 / seconds;
    // The node's own CPU per message: what the node costs, whatever else the machine runs.
    double cpuMillisPer1000 = (nodeCpu().minus(cpu0).toNanos() / 1e6) / ((n / 4) * 4 / 1000.0);
    JsonNode s = streamStatus(t);
    System.out.printf("  mysimbdp sustained end to end, %s (HTTP NDJSON x500 -> %d per AMQP message, confirms -> consume -> write -> ack): %.0f msg/s (published+confirmed in %.1f s, all stored in %.1f s); p50 %s ms, p99 %s ms (queueing: published faster than stored); node CPU %.0f ms per 1,000 messages%n",
        label, per, sustained, publishedSeconds, seconds, s.path("latencyP50Millis"), s.path("latencyP99Millis"), cpuMillisPer1000);
    return sustained;
  }

  /**
   * The broker's own ceiling: one durable queue, persistent messages published with confirms
   * (waited for every 1,000), consumed with acks (multiple, every 100), the same AMQP client.
   * {@code perMessage} records per AMQP message (1: a bare record; more: the batched envelope);
   * answers records/s.
   */
  double brokerCeiling(int records, int perMessage, boolean tenantLike) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(amqpUri);
    String queue = "ceiling-" + UUID.randomUUID();
    String exchange = tenantLike ? queue : "";
    int n = records / perMessage;
    byte[] body;
    if (perMessage == 1) {
      body = "{\"tenant\":\"x\",\"id\":\"m-000001\",\"category\":\"default\",\"data\":{\"n\":1,\"temperature\":21},\"sentAt\":\"2025-01-01T00:00:00Z\"}".getBytes(StandardCharsets.UTF_8);
    } else {
      StringBuilder b = new StringBuilder("{\"tenant\":\"x\",\"sentAt\":\"2025-01-01T00:00:00Z\",\"messages\":[");
      for (int i = 0; i < perMessage; i++) {
        b.append(i == 0 ? "" : ",").append("{\"id\":\"m-").append(100000 + i).append("\",\"category\":\"default\",\"data\":{\"n\":").append(i).append(",\"temperature\":21}}");
      }
      body = b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }
    try (Connection pc = factory.newConnection("ceiling-pub"); Connection cc = factory.newConnection("ceiling-con")) {
      Channel setup = pc.createChannel();
      if (tenantLike) {
        setup.exchangeDeclare(queue + ".dead", "fanout", true);
        setup.exchangeDeclare(exchange, "fanout", true);
        setup.queueDeclare(queue, true, false, false, Map.of("x-single-active-consumer", true, "x-dead-letter-exchange", queue + ".dead",
            "x-max-length", 1_000_000, "x-overflow", "reject-publish"));
        setup.queueBind(queue, exchange, "");
      } else {
        setup.queueDeclare(queue, true, false, false, Map.of());
      }
      Channel consume = cc.createChannel();
      consume.basicQos(1000);
      AtomicLong consumed = new AtomicLong();
      long t0 = System.nanoTime();
      consume.basicConsume(queue, false, (tag, delivery) -> {
        long c = consumed.incrementAndGet();
        if (c % 100 == 0) {
          consume.basicAck(delivery.getEnvelope().getDeliveryTag(), true);
        }
      }, tag -> {});
      Channel publish = pc.createChannel();
      publish.confirmSelect();
      AMQP.BasicProperties persistent = new AMQP.BasicProperties.Builder().deliveryMode(2).contentType("application/json").build();
      for (int i = 0; i < n; i++) {
        if (tenantLike) {
          AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().deliveryMode(2).contentType("application/vnd.mysimbdp.message+json")
              .messageId("m-" + i).timestamp(new java.util.Date()).build();
          publish.basicPublish(exchange, "", false, properties, body);
        } else {
          publish.basicPublish("", queue, persistent, body);
        }
        if (i % 1000 == 999) {
          publish.waitForConfirmsOrDie(30_000);
        }
      }
      publish.waitForConfirmsOrDie(30_000);
      while (consumed.get() < n) {
        Thread.sleep(5);
      }
      double rate = (double) n * perMessage / ((System.nanoTime() - t0) / 1e9);
      setup.queueDelete(queue);
      if (tenantLike) {
        setup.exchangeDelete(exchange);
        setup.exchangeDelete(queue + ".dead");
      }
      return rate;
    }
  }

  // ---- publishing ----------------------------------------------------------------------------

  long publishHttp(JsonNode t, String prefix, int from, int count, int perRequest, int unused) {
    return publishHttp(t, prefix, from, count, perRequest, unused, 0);
  }

  /** NDJSON requests with stable ids (X-Message-Id prefix), each retried until 202; answers the retries. */
  long publishHttp(JsonNode t, String prefix, int from, int count, int perRequest, int unused, int poisonEvery) {
    long retries = 0;
    for (int start = from; start < from + count; start += perRequest) {
      int size = Math.min(perRequest, from + count - start);
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < size; i++) {
        int n = start + i;
        boolean poison = poisonEvery > 0 && n % poisonEvery == poisonEvery / 2;
        body.append("{\"n\":").append(n).append(",\"temperature\":21").append(poison ? ",\"poison\":true" : "").append("}\n");
      }
      String category = poisonEvery > 0 ? "?category=sensors" : "";
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + id(t) + "/messages" + category))
              .timeout(Duration.ofSeconds(60))
              .header("Authorization", "Bearer " + t.path("apiKey").asText())
              .header("Content-Type", "application/x-ndjson")
              .header("X-Message-Id", prefix + "-" + start)
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      while (true) {
        try {
          HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 202) {
            break;
          }
          if (response.statusCode() != 429 && response.statusCode() != 503) {
            throw new IllegalStateException("publish answered " + response.statusCode() + ": " + response.body());
          }
        } catch (java.io.IOException e) {
          // the node is down (kill scenario) or restarting: send the same ids again
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return retries;
        }
        retries++;
        sleep(500);
      }
    }
    return retries;
  }

  /** Batched envelopes (per AMQP message) with the tenant's own credentials, confirmed, retried until confirmed. */
  void publishDirect(JsonNode t, String prefix, int from, int count, int perMessage) {
    publishDirect(t, prefix, from, count, perMessage, 0);
  }

  /** As above; every {@code poisonEvery}-th message (0: none) has data that is not an object. */
  void publishDirect(JsonNode t, String prefix, int from, int count, int perMessage, int poisonEvery) {
    JsonNode b = t.path("broker");
    String uri = b.path("username").isMissingNode()
        ? amqpUri
        : "amqp://" + b.path("username").asText() + ":" + b.path("password").asText() + "@" + b.path("host").asText() + ":" + b.path("port").asInt() + "/%2F";
    String exchange = b.path("exchange").asText();
    AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().contentType(MessageBatch.CONTENT_TYPE).deliveryMode(2).build();
    int start = from;
    int window = 20;
    while (start < from + count) {
      try {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(uri);
        factory.setAutomaticRecoveryEnabled(false);
        try (Connection connection = factory.newConnection("load-direct")) {
          Channel channel = connection.createChannel();
          channel.confirmSelect();
          while (start < from + count) {
            int windowEnd = Math.min(from + count, start + window * perMessage);
            for (int s = start; s < windowEnd; s += perMessage) {
              StringBuilder body = new StringBuilder("{\"tenant\":\"" + id(t) + "\",\"sentAt\":\"" + Instant.now() + "\",\"messages\":[");
              for (int i = s; i < Math.min(windowEnd, s + perMessage); i++) {
                boolean poison = poisonEvery > 0 && i % poisonEvery == poisonEvery / 2;
                body.append(i == s ? "" : ",").append("{\"id\":\"").append(prefix).append('-').append(i).append("\",\"data\":")
                    .append(poison ? "\"not an object\"" : "{\"n\":" + i + "}").append('}');
              }
              channel.basicPublish(exchange, "", properties, body.append("]}").toString().getBytes(StandardCharsets.UTF_8));
            }
            channel.waitForConfirmsOrDie(30_000);
            start = windowEnd;
          }
        }
      } catch (Exception e) {
        // not confirmed: send the same window (same ids) again once the broker is back
        sleep(500);
      }
    }
  }

  // ---- the node, the API, the store ----------------------------------------------------------

  void startNode() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(nodeCommand(java))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("node.log").toFile()));
    Map<String, String> env = builder.environment();
    env.put("DATA_DIR", dataDir.toString());
    env.put("HTTP_PORT", Integer.toString(httpPort));
    env.put("MANAGEMENT_PORT", Integer.toString(managementPort));
    env.put("AKKA_PORT", Integer.toString(akkaPort));
    env.put("EMBEDDED_MONGODB_PORT", Integer.toString(mongoPort));
    env.put("MYSIMBDP_ADMIN_TOKEN", ADMIN);
    env.put("AMQP_URI", amqpUri);
    env.put("AMQP_MANAGEMENT_URI", managementUri);
    env.put("WAKE_INTERVAL", "3s");
    node = builder.start();
    Instant deadline = Instant.now().plusSeconds(120);
    while (Instant.now().isBefore(deadline)) {
      if (!node.isAlive()) {
        throw new IllegalStateException("the node exited: see " + dataDir.resolve("node.log"));
      }
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/ready")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not yet
      }
      sleep(500);
    }
    throw new IllegalStateException("the node was not ready within 120 s");
  }

  /** STREAM_LOAD_JFR=file: the node records a Java Flight Recording (profile settings) into file. */
  List<String> nodeCommand(String java) {
    List<String> command = new ArrayList<>(List.of(java, "-Xmx1g"));
    String jfr = System.getenv("STREAM_LOAD_JFR");
    if (jfr != null && !jfr.isBlank()) {
      command.add("-XX:StartFlightRecording=settings=profile,filename=" + jfr + ",dumponexit=true");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    return command;
  }

  Duration nodeCpu() {
    return node.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
  }

  void stopNode() throws Exception {
    if (node != null && node.isAlive()) {
      node.destroy();
      node.waitFor(60, TimeUnit.SECONDS);
    }
  }

  JsonNode createTenant(String prefix) throws Exception {
    String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
    HttpResponse<String> r = HTTP.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/tenants")).header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("create tenant: " + r.statusCode() + " " + r.body());
    }
    JsonNode created = ProtocolJson.JSON.readTree(r.body());
    if (!created.path("broker").hasNonNull("username")) {
      // No broker user per tenant (the embedded broker): its exchange is declared on first use;
      // this load publishes to it directly (with the node's user), so it asks for it now.
      HttpResponse<String> declared = HTTP.send(
          HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + id + "/stream/credentials")).header("Authorization", "Bearer " + ADMIN)
              .POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      if (declared.statusCode() != 200) {
        throw new IllegalStateException("stream credentials: " + declared.statusCode() + " " + declared.body());
      }
    }
    return ((com.fasterxml.jackson.databind.node.ObjectNode) created).put("id", id);
  }

  void startStream(JsonNode t) throws Exception {
    HttpResponse<String> r = HTTP.send(
        HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + id(t) + "/stream/start")).header("Authorization", "Bearer " + t.path("apiKey").asText())
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("start stream: " + r.statusCode() + " " + r.body());
    }
  }

  JsonNode streamStatus(JsonNode t) {
    try {
      HttpResponse<String> r = HTTP.send(
          HttpRequest.newBuilder(URI.create(base + "/v1/tenants/" + id(t) + "/stream")).header("Authorization", "Bearer " + t.path("apiKey").asText()).build(),
          HttpResponse.BodyHandlers.ofString());
      return ProtocolJson.JSON.readTree(r.body());
    } catch (Exception e) {
      return ProtocolJson.JSON.createObjectNode().put("error", e.toString());
    }
  }

  static String id(JsonNode t) {
    return t.path("id").asText();
  }

  long records(String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments();
  }

  long distinctIds(String tenant) {
    long n = 0;
    for (Object ignored : mongo.getDatabase("tenant_" + tenant).getCollection("records").distinct("_id", String.class)) {
      n++;
    }
    return n;
  }

  long deadLetters(String tenant) {
    return mongo.getDatabase("tenant_" + tenant).getCollection("dead_letters").countDocuments();
  }

  /** Waits for the count; gives up at {@code within}, or once it has not moved for 90 s (records lost). */
  void awaitRecords(String tenant, long expected, Duration within) throws InterruptedException {
    Instant deadline = Instant.now().plus(within);
    long last = -1;
    Instant moved = Instant.now();
    while (Instant.now().isBefore(deadline)) {
      try {
        // The collection's size (O(1)) to follow progress: countDocuments scans and decodes every
        // record in the embedded store, and polled 4 times a second it was 11% of the node's CPU.
        long now = mongo.getDatabase("tenant_" + tenant).getCollection("records").estimatedDocumentCount();
        if (now >= expected) {
          return;
        }
        if (now != last) {
          last = now;
          moved = Instant.now();
        } else if (Duration.between(moved, Instant.now()).toSeconds() >= 90) {
          throw new IllegalStateException("tenant " + tenant + " has " + now + " records, expected " + expected + "; no progress for 90 s");
        }
      } catch (com.mongodb.MongoException e) {
        // the store is restarting with the node
        moved = Instant.now();
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("tenant " + tenant + " has " + records(tenant) + " records, expected " + expected);
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String env(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(name + " is not set: eval \"$(scripts/rabbitmq.sh start)\" first");
    }
    return value;
  }
}
