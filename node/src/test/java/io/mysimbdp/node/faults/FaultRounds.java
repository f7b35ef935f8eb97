package io.mysimbdp.node.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.LocalCluster;
import io.mysimbdp.node.testing.SteadyPublisher;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.Document;

/**
 * A sequenced load with a checker, in the spirit of Jepsen's queue tests: three node processes, two
 * tenants streaming over HTTP (every record carries a unique {@code seq}; requests are retried, same
 * {@code Idempotency-Key}, on any node until one confirms) and one tenant uploading and ingesting
 * files throughout (every row a unique {@code seq}), while rounds of faults hit the cluster: a node
 * killed with SIGKILL, the broker restarted, the store unreachable, a node frozen with SIGSTOP until
 * the split-brain resolver downs it, a rolling restart, a series of hand-offs. After each round the
 * checker waits for what was confirmed to be stored and reads the store: per tenant
 * {@code confirmed, stored, lost, duplicated, dead-lettered}. Lost and duplicated must be 0.
 *
 * <p>{@code scripts/faults.sh [rounds] [embedded|rabbitmq|both]} runs it as a program;
 * {@code FaultRoundsTest} runs one short round of each fault kind on every push.
 */
public final class FaultRounds {

  public enum Fault {
    KILL9("kill -9"),
    BROKER_RESTART("broker restart"),
    STORE_OUTAGE("store unreachable"),
    FREEZE("node frozen (SIGSTOP)"),
    ROLLING_RESTART("rolling restart"),
    HANDOFFS("hand-offs");

    final String label;

    Fault(String label) {
      this.label = label;
    }
  }

  /**
   * How hard and how long: {@code sbrStableAfter} is the split-brain resolver's (the default 20 s in
   * production; shorter so a frozen node is downed sooner in the suite), {@code freeze} must exceed it
   * plus failure detection for the node to be downed.
   */
  public record Settings(
      LocalCluster.Broker broker, int rounds, List<Fault> faults, Duration storeOutage, Duration brokerOutage, Duration freeze,
      Duration sbrStableAfter, int handoffs, int perRequest, Duration interval, int fileRows, Duration settleWithin) {

    /** The heavy run of the issue: 20 s store outage, 30 s freeze under the production resolver, 20 hand-offs. */
    public static Settings heavy(LocalCluster.Broker broker, int rounds) {
      return new Settings(broker, rounds, List.of(Fault.values()), Duration.ofSeconds(20), Duration.ofSeconds(5),
          Duration.ofSeconds(30), Duration.ofSeconds(20), 20, 10, Duration.ofMillis(100), 500, Duration.ofMinutes(4));
    }
  }

  /** One tenant's figures at a check. */
  public record Count(String tenant, String kind, long confirmed, long stored, long lost, long duplicated, long unexpected, long deadLettered) {
    public boolean clean() {
      return lost == 0 && duplicated == 0;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%-22s %-6s confirmed %,8d  stored %,8d  lost %,4d  duplicated %,4d  unexpected %,4d  dead-lettered %,4d",
          tenant, kind, confirmed, stored, lost, duplicated, unexpected, deadLettered);
    }
  }

  /**
   * One round: what was done, its counts, and {@code problems}: what went wrong besides the records
   * (a node that did not exit on its own within the grace period Kubernetes gives it, or with an
   * error code).
   */
  public record Round(int number, Fault fault, String detail, Duration took, List<Count> counts, List<String> problems) {
    public boolean clean() {
      return counts.stream().allMatch(Count::clean) && problems.isEmpty();
    }
  }

  private final Settings settings;
  private final PrintStream out;
  private LocalCluster cluster;
  private MongoClient mongo;
  private final Map<String, String> keys = new LinkedHashMap<>();
  private final Map<String, SteadyPublisher> publishers = new LinkedHashMap<>();
  private FileFeeder feeder;

  private FaultRounds(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  /** Runs every round and answers them; the cluster is gone afterwards. */
  public static List<Round> run(Path dir, Settings settings, PrintStream out) throws Exception {
    return new FaultRounds(settings, out).runAll(dir);
  }

  private List<Round> runAll(Path dir) throws Exception {
    List<Round> rounds = new ArrayList<>();
    Map<String, String> env = Map.of("WAKE_INTERVAL", "3s", "SBR_STABLE_AFTER", settings.sbrStableAfter().toSeconds() + "s");
    try (LocalCluster started = LocalCluster.start(dir, 3, settings.broker(), env);
        MongoClient client = MongoClients.create(started.mongoUri())) {
      cluster = started;
      mongo = client;
      String run = UUID.randomUUID().toString().substring(0, 6);
      HttpApi admin = cluster.admin(1);
      for (String name : List.of("fs1-" + run, "fs2-" + run, "fb-" + run)) {
        keys.put(name, admin.createTenant(name));
      }
      // The batch tenant keeps every file it ingests: room for all the rounds' files.
      admin.constraints("fb-" + run, "{\"maxFiles\":100000,\"maxFileSizeMegabytes\":64,\"formats\":[\"csv\"]}");
      List<String> streaming = List.of("fs1-" + run, "fs2-" + run);
      for (int t = 0; t < streaming.size(); t++) {
        startStream(t + 2, streaming.get(t));
      }
      for (String tenant : streaming) {
        publishers.put(tenant, new SteadyPublisher(tenant, keys.get(tenant), this::liveUrls, settings.perRequest(), settings.interval())
            .withIdempotencyKey().start());
      }
      String batchTenant = "fb-" + run;
      feeder = new FileFeeder(batchTenant, keys.get(batchTenant), settings.fileRows());
      feeder.start();
      for (String tenant : keys.keySet()) {
        awaitSomethingStored(tenant);
      }
      out.printf("fault rounds on %s: 3 nodes, tenants %s (stream) and %s (batch)%n", settings.broker(), streaming, batchTenant);
      for (int r = 1; r <= settings.rounds(); r++) {
        Fault fault = settings.faults().get((r - 1) % settings.faults().size());
        long t0 = System.nanoTime();
        List<String> problems = new ArrayList<>();
        String detail = inflict(fault, problems);
        cluster.awaitAllUp();
        List<Count> counts = settle(false);
        publishers.forEach((tenant, p) -> {
          if (p.failure() != null) {
            problems.add("the publisher of " + tenant + " stopped: " + p.failure());
          }
        });
        if (feeder.problem.get() != null) {
          problems.add("the files of " + feeder.tenant + ": " + feeder.problem.getAndSet(null));
        }
        Round round = new Round(r, fault, detail, Duration.ofNanos(System.nanoTime() - t0), counts, problems);
        rounds.add(round);
        print(round);
      }
      for (SteadyPublisher p : publishers.values()) {
        p.close();
      }
      feeder.close();
      Round last = new Round(settings.rounds() + 1, null, "load stopped: the final count", Duration.ZERO, settle(true), List.of());
      rounds.add(last);
      print(last);
      return rounds;
    } finally {
      for (SteadyPublisher p : publishers.values()) {
        try {
          p.close();
        } catch (AssertionError | InterruptedException e) {
          out.println("  publisher: " + e.getMessage());
        }
      }
      if (feeder != null) {
        feeder.close();
      }
    }
  }

  private void print(Round round) {
    out.printf("round %d: %s%s (%.1f s) -> %s%n", round.number(), round.fault() == null ? "" : round.fault().label + ": ", round.detail(),
        round.took().toMillis() / 1000.0, round.counts().stream().allMatch(Count::clean) ? "lost 0, duplicated 0" : "LOST OR DUPLICATED");
    round.counts().forEach(c -> out.println("    " + c));
    round.problems().forEach(p -> out.println("    PROBLEM: " + p));
  }

  // ---- the faults

  private String inflict(Fault fault, List<String> problems) throws Exception {
    return switch (fault) {
      case KILL9 -> {
        int victim = nodeOf(publishers.keySet().iterator().next());
        List<String> held = heldBy(victim);
        cluster.kill(victim);
        cluster.start(victim);
        yield "node " + victim + " (held " + held + ") killed and started again";
      }
      case BROKER_RESTART -> {
        cluster.brokerOutage(settings.brokerOutage());
        yield settings.broker() == LocalCluster.Broker.RABBITMQ ? "RabbitMQ restarted" : "embedded broker down " + settings.brokerOutage().toSeconds() + " s";
      }
      case STORE_OUTAGE -> {
        cluster.storeOutage(settings.storeOutage());
        yield "store unreachable for " + settings.storeOutage().toSeconds() + " s";
      }
      case FREEZE -> freeze();
      case ROLLING_RESTART -> {
        StringBuilder took = new StringBuilder();
        Duration grace = gracePeriod();
        for (int i = 1; i <= cluster.size(); i++) {
          if (!cluster.node(i).isRunning()) {
            cluster.start(i);
            cluster.awaitAllUp();
          }
          Duration stop = cluster.stop(i);
          int exit = cluster.lastExitCode(i);
          if (exit != 0 && exit != 143) {
            problems.add("node " + i + " exited with " + exit + " after SIGTERM; log " + cluster.node(i).log());
          }
          if (stop.compareTo(grace) >= 0) {
            problems.add("node " + i + " took " + stop + " to exit, not within the grace period " + grace);
          }
          cluster.start(i);
          cluster.awaitAllUp();
          took.append(took.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "node %d %.1f s", i, stop.toMillis() / 1000.0));
        }
        yield "SIGTERM to exit (grace " + grace.toSeconds() + " s): " + took;
      }
      case HANDOFFS -> handOffs();
    };
  }

  /**
   * SIGSTOP for the freeze, then SIGCONT: the others have downed it meanwhile (when the freeze
   * outlasts failure detection and the resolver's stable-after), so it must leave on its own
   * (exit-jvm); it is started again. How long its exit took is part of the round's detail.
   */
  private String freeze() throws Exception {
    int victim = nodeOf(publishers.keySet().stream().skip(1).findFirst().orElseThrow());
    String address = cluster.node(victim).akkaAddress();
    long pid = cluster.node(victim).pid();
    signal("STOP", pid);
    Thread.sleep(settings.freeze().toMillis());
    signal("CONT", pid);
    long resumed = System.nanoTime();
    LocalCluster.Member witness = cluster.members().stream().filter(m -> m.index != victim && m.isRunning()).findFirst().orElseThrow();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    boolean downed = false;
    while (!downed && Instant.now().isBefore(deadline)) {
      LocalCluster.View view = cluster.view(witness);
      downed = !view.up().contains(address) && view.others().stream().noneMatch(o -> o.startsWith(address));
      if (!downed) {
        Thread.sleep(500);
      }
    }
    String frozen = "node " + victim + " frozen " + settings.freeze().toSeconds() + " s";
    if (!downed) {
      return frozen + ", not downed (it went on)";
    }
    boolean exited = cluster.awaitExit(victim, Duration.ofSeconds(120));
    double exitSeconds = (System.nanoTime() - resumed) / 1e9;
    if (!exited) {
      cluster.kill(victim);
    }
    cluster.start(victim);
    return String.format(Locale.ROOT, "%s, downed by the others, %s %.1f s after SIGCONT, started again", frozen,
        exited ? "exited on its own (" + cluster.lastExitCode(victim) + ")" : "DID NOT EXIT, killed", exitSeconds);
  }

  private String handOffs() throws Exception {
    int moved = 0;
    int refused = 0;
    List<String> tenants = new ArrayList<>(publishers.keySet());
    for (int n = 0; n < settings.handoffs(); n++) {
      String tenant = tenants.get(n % tenants.size());
      int from = nodeOf(tenant);
      int to = from % cluster.size() + 1;
      HttpApi.Reply reply = cluster.admin(to).postJson("/v1/tenants/" + tenant + "/move", LocalCluster.ADMIN_TOKEN,
          "{\"node\":\"" + cluster.node(to).akkaAddress() + "\"}");
      if (reply.status() != 202) {
        refused++;
        continue;
      }
      awaitRunningOn(tenant, to);
      moved++;
    }
    return moved + " hand-offs" + (refused > 0 ? " (" + refused + " refused while a move was under way)" : "");
  }

  private static final java.util.regex.Pattern GRACE = java.util.regex.Pattern.compile("terminationGracePeriodSeconds:\\s*(\\d+)");

  /** terminationGracePeriodSeconds of the node Deployment: how long Kubernetes waits after SIGTERM. */
  static Duration gracePeriod() throws java.io.IOException {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path deployment = d.resolve("k8s/base/node-deployment.yaml");
      if (java.nio.file.Files.exists(deployment)) {
        java.util.regex.Matcher m = GRACE.matcher(java.nio.file.Files.readString(deployment));
        if (m.find()) {
          return Duration.ofSeconds(Long.parseLong(m.group(1)));
        }
      }
    }
    throw new IllegalStateException("no terminationGracePeriodSeconds in k8s/base/node-deployment.yaml above " + Path.of("").toAbsolutePath());
  }

  private static void signal(String name, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IllegalStateException("kill -" + name + " " + pid + " failed");
    }
  }

  // ---- the checker

  /** Waits until each tenant's confirmed records are stored (or the settle time passed), then counts. */
  private List<Count> settle(boolean last) throws InterruptedException {
    Instant deadline = Instant.now().plus(settings.settleWithin());
    Map<String, Set<String>> confirmed = new LinkedHashMap<>();
    publishers.forEach((tenant, p) -> confirmed.put(tenant, p.confirmed()));
    if (last) {
      feeder.awaitIdle(settings.settleWithin());
    }
    confirmed.put(feeder.tenant, feeder.ingested());
    List<Count> counts = new ArrayList<>();
    for (Map.Entry<String, Set<String>> e : confirmed.entrySet()) {
      Count count = count(e.getKey(), e.getValue(), last);
      while (count.lost() > 0 && Instant.now().isBefore(deadline)) {
        Thread.sleep(500);
        count = count(e.getKey(), e.getValue(), last);
      }
      counts.add(count);
    }
    return counts;
  }

  /**
   * Counts one tenant's records by {@code seq}. Records stored but not (yet) confirmed are counted
   * as unexpected only at the last count, once the load stopped and every request was confirmed.
   */
  private Count count(String tenant, Set<String> confirmed, boolean last) {
    MongoDatabase db = mongo.getDatabase("tenant_" + tenant);
    Map<String, Integer> copies = new HashMap<>();
    long stored = 0;
    for (Document d : db.getCollection("records").find().projection(new Document("seq", 1))) {
      Object seq = d.get("seq");
      copies.merge(String.valueOf(seq), 1, Integer::sum);
      stored++;
    }
    long lost = confirmed.stream().filter(id -> !copies.containsKey(id)).count();
    long duplicated = copies.values().stream().mapToLong(c -> c - 1).sum();
    long unexpected = last ? copies.keySet().stream().filter(id -> !confirmed.contains(id)).count() : 0;
    long deadLettered = db.getCollection("dead_letters").countDocuments();
    return new Count(tenant, publishers.containsKey(tenant) ? "stream" : "batch", confirmed.size(), stored, lost, duplicated, unexpected, deadLettered);
  }

  // ---- tenants and nodes

  private List<String> liveUrls() {
    List<String> urls = cluster.members().stream().filter(LocalCluster.Member::isRunning).map(LocalCluster.Member::apiUrl).toList();
    return urls.isEmpty() ? List.of(cluster.node(1).apiUrl()) : urls;
  }

  private void startStream(int node, String tenant) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    HttpApi.Reply reply;
    do {
      reply = new HttpApi(cluster.node(node).apiUrl(), null).postJson("/v1/tenants/" + tenant + "/stream/start", keys.get(tenant), "");
      if (reply.status() == 200) {
        return;
      }
      Thread.sleep(1000);
    } while (Instant.now().isBefore(deadline));
    throw new IllegalStateException("could not start the stream of " + tenant + ": " + reply);
  }

  /** The index of the node the tenant's ingestor runs on, asked of live nodes until one answers. */
  private int nodeOf(String tenant) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
    while (Instant.now().isBefore(deadline)) {
      for (LocalCluster.Member m : cluster.members()) {
        if (!m.isRunning()) {
          continue;
        }
        try {
          HttpApi.Reply reply = new HttpApi(m.apiUrl(), null).get("/v1/tenants/" + tenant + "/ingestor", keys.get(tenant));
          if (reply.status() == 200) {
            String node = reply.json().path("node").asText();
            for (LocalCluster.Member candidate : cluster.members()) {
              if (candidate.akkaAddress().equals(node)) {
                return candidate.index;
              }
            }
          }
        } catch (UncheckedIOException e) {
          // that node is going; ask another
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("no node could say where " + tenant + " runs");
  }

  private List<String> heldBy(int node) throws InterruptedException {
    List<String> held = new ArrayList<>();
    for (String tenant : publishers.keySet()) {
      if (nodeOf(tenant) == node) {
        held.add(tenant);
      }
    }
    return held;
  }

  private void awaitRunningOn(String tenant, int node) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(1));
    while (nodeOf(tenant) != node) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(tenant + " did not move to node " + node + " within a minute");
      }
      Thread.sleep(200);
    }
  }

  private void awaitSomethingStored(String tenant) throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (mongo.getDatabase("tenant_" + tenant).getCollection("records").estimatedDocumentCount() == 0) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(tenant + " stored nothing within 2 minutes" + (tenant.equals(feeder.tenant) ? ": " + feeder.problem.get() : ""));
      }
      Thread.sleep(250);
    }
  }

  /**
   * Uploads files of unique rows one after another and ingests each, retrying on any node while
   * nodes, the broker or the store come and go. A file's rows count as confirmed once it is staged
   * (201, or 409 {@code duplicate_file} for a retried upload the platform already had); an ingestion
   * that ends {@code failed} leaves them unstored: the checker counts them lost.
   */
  private final class FileFeeder implements AutoCloseable {
    final String tenant;
    private final String key;
    private final int rows;
    private final Set<String> staged = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String> problem = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile boolean idle = true;
    private int next;

    FileFeeder(String tenant, String key, int rows) {
      this.tenant = tenant;
      this.key = key;
      this.rows = rows;
      this.thread = new Thread(this::run, "files-" + tenant);
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    Set<String> ingested() {
      return Set.copyOf(staged);
    }

    private void run() {
      int file = 0;
      while (!stopping) {
        idle = false;
        file++;
        StringBuilder csv = new StringBuilder("seq,value\n");
        List<String> seqs = new ArrayList<>();
        for (int row = 1; row <= rows; row++) {
          String seq = "f" + file + "-" + row;
          seqs.add(seq);
          csv.append(seq).append(',').append(row).append('\n');
        }
        try {
          String fileId = upload("faults-" + file + ".csv", csv.toString().getBytes(StandardCharsets.UTF_8));
          staged.addAll(seqs);
          ingest(fileId);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        } catch (RuntimeException e) {
          problem.set(e.toString());
        } finally {
          idle = true;
        }
      }
    }

    private String upload(String name, byte[] bytes) throws InterruptedException {
      while (true) {
        try {
          HttpApi.Reply reply = api().upload(tenant, key, name, null, "text/csv", bytes);
          if (reply.status() == 201) {
            return reply.json().path("id").asText();
          }
          if (reply.status() == 409 && "duplicate_file".equals(reply.errorCode())) {
            return reply.json().path("details").path("fileId").asText();
          }
          if (reply.status() < 500) {
            throw new IllegalStateException("upload of " + name + " answered " + reply);
          }
        } catch (UncheckedIOException e) {
          // that node is down or going: the next one takes it
        }
        Thread.sleep(500);
      }
    }

    private void ingest(String fileId) throws InterruptedException {
      String job = null;
      while (job == null) {
        try {
          HttpApi.Reply reply = api().postJson("/v1/tenants/" + tenant + "/ingestions", key, "{\"files\":[\"" + fileId + "\"]}");
          if (reply.status() == 202) {
            job = reply.json().path("id").asText();
          } else if (reply.status() == 409 && reply.json().path("details").hasNonNull("job")) {
            // A request sent again after its answer was lost: the file is in the job it made.
            job = reply.json().path("details").path("job").asText();
          } else if (reply.status() < 500) {
            throw new IllegalStateException("ingesting " + fileId + " answered " + reply);
          }
        } catch (UncheckedIOException e) {
          // next node
        }
        if (job == null) {
          Thread.sleep(500);
        }
      }
      while (true) {
        try {
          HttpApi.Reply reply = api().get("/v1/tenants/" + tenant + "/ingestions/" + job, key);
          if (reply.status() == 200) {
            JsonNode state = reply.json();
            String s = state.path("state").asText();
            if (s.equals("succeeded")) {
              return;
            }
            if (s.equals("failed")) {
              problem.set("job " + job + " failed: " + state);
              return;
            }
          }
        } catch (UncheckedIOException e) {
          // next node
        }
        Thread.sleep(300);
      }
    }

    private HttpApi api() {
      List<String> urls = liveUrls();
      return new HttpApi(urls.get(Math.floorMod(next++, urls.size())), null);
    }

    void awaitIdle(Duration within) throws InterruptedException {
      Instant deadline = Instant.now().plus(within);
      while (!idle && Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stopping = true;
      thread.join(settings.settleWithin().toMillis());
    }
  }

  /** {@code FaultRounds [rounds] [embedded|rabbitmq|both]}: the heavy run of {@code scripts/faults.sh}. */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    String which = args.length > 1 ? args[1] : "both";
    List<LocalCluster.Broker> brokers = switch (which) {
      case "embedded" -> List.of(LocalCluster.Broker.EMBEDDED);
      case "rabbitmq" -> List.of(LocalCluster.Broker.RABBITMQ);
      case "both" -> List.of(LocalCluster.Broker.EMBEDDED, LocalCluster.Broker.RABBITMQ);
      default -> throw new IllegalArgumentException("broker: embedded, rabbitmq or both, not " + which);
    };
    boolean allClean = true;
    List<String> summary = new ArrayList<>();
    for (LocalCluster.Broker broker : brokers) {
      Path dir = Path.of("target", "faults", broker.name().toLowerCase(Locale.ROOT) + "-" + System.currentTimeMillis()).toAbsolutePath();
      List<Round> result = run(dir, Settings.heavy(broker, rounds), System.out);
      long dirty = result.stream().filter(r -> !r.clean()).count();
      allClean &= dirty == 0;
      Round last = result.get(result.size() - 1);
      summary.add(String.format(Locale.ROOT, "%s: %d rounds, %d with loss or duplicates; final: %s", broker, rounds, dirty, last.counts()));
    }
    System.out.println();
    summary.forEach(System.out::println);
    System.exit(allClean ? 0 : 1);
  }
}
