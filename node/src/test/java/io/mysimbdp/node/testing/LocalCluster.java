package io.mysimbdp.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.node.embedded.EmbeddedAmqpBroker;
import io.mysimbdp.node.embedded.EmbeddedMongo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Several node processes on loopback forming one cluster, for process-level tests: a store and a
 * broker that outlive every node, then N {@link NodeProcess}es (Main in its own JVM) that join one
 * another as seed nodes ({@code CLUSTER_JOIN=seed-nodes}, {@code SEED_NODES}).
 *
 * <ul>
 *   <li>Store: the embedded MongoDB-wire server, started in the test JVM on a free port.
 *   <li>Broker: {@link Broker#EMBEDDED} the embedded AMQP broker in the test JVM on a free port, or
 *       {@link Broker#RABBITMQ} the real RabbitMQ of {@link RabbitMq} (TEST_AMQP_URI, or started
 *       by scripts/rabbitmq.sh), with its management URI so tenants get broker users.
 * </ul>
 *
 * <p>Node {@code i} (1-based) keeps its ports, data dir and environment across restarts; every
 * incarnation logs to {@code node<i>-<n>.log} under the cluster's directory. Nodes are signalled
 * by PID only. {@link #close()} stops every node it started (SIGTERM, then SIGKILL after a short
 * wait), then the store and the broker.
 *
 * <pre>{@code
 * try (LocalCluster cluster = LocalCluster.start(dir, 3, LocalCluster.Broker.EMBEDDED, Map.of())) {
 *   HttpApi admin = cluster.admin(1);
 *   Duration took = cluster.stop(2);       // SIGTERM, waits for the exit on its own
 *   cluster.restart(2);                    // same ports and data dir, waits until ready
 *   cluster.awaitAllUp();                  // every live node sees every live node Up
 * }
 * }</pre>
 */
public final class LocalCluster implements AutoCloseable {
  public static final String ADMIN_TOKEN = "local-cluster-admin-token-0123456789";
  /** A node that does not exit on its own this long after SIGTERM is killed (and the call fails). */
  public static final Duration STOP_WITHIN = Duration.ofSeconds(150);
  public static final Duration FORMED_WITHIN = Duration.ofSeconds(120);
  /** Several JVMs starting at once on a small, busy machine: more than {@link NodeProcess#READY_WITHIN}. */
  public static final Duration READY_WITHIN = Duration.ofSeconds(240);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(20);

  public enum Broker {
    EMBEDDED,
    RABBITMQ
  }

  /** One node: its fixed settings and its current process (null while stopped). */
  public static final class Member {
    public final int index;
    public final NodeProcess.Settings settings;
    private NodeProcess process;
    private int incarnation;

    private Member(int index, NodeProcess.Settings settings) {
      this.index = index;
      this.settings = settings;
    }

    public String akkaAddress() {
      return "akka://mysimbdp@127.0.0.1:" + settings.akkaPort();
    }

    public String apiUrl() {
      return settings.apiUrl();
    }

    public String managementUrl() {
      return "http://127.0.0.1:" + settings.managementPort();
    }

    /** The running process, or null while the node is stopped. */
    public NodeProcess process() {
      return process;
    }

    public boolean isRunning() {
      return process != null && process.process.isAlive();
    }

    public long pid() {
      if (process == null) {
        throw new IllegalStateException("node " + index + " is not running");
      }
      return process.process.pid();
    }

    /** The current (or last) incarnation's log file. */
    public Path log() {
      return process == null ? null : process.log;
    }
  }

  private final Path dir;
  private EmbeddedMongo mongo;
  private EmbeddedAmqpBroker embeddedBroker;
  private final String amqpUri;
  private final String amqpManagementUri;
  private final Map<String, String> extraEnv;
  private final String[] jvmOptions;
  private final List<Member> members = new ArrayList<>();
  private final Map<Integer, Integer> lastExit = new HashMap<>();

  private LocalCluster(
      Path dir, EmbeddedMongo mongo, EmbeddedAmqpBroker embeddedBroker, String amqpUri, String amqpManagementUri,
      Map<String, String> extraEnv, String[] jvmOptions) {
    this.dir = dir;
    this.mongo = mongo;
    this.embeddedBroker = embeddedBroker;
    this.amqpUri = amqpUri;
    this.amqpManagementUri = amqpManagementUri;
    this.extraEnv = extraEnv;
    this.jvmOptions = jvmOptions;
  }

  /**
   * Starts the store and the broker, then {@code nodes} node processes, and waits until every one is
   * ready and all are Up in one cluster. {@code extraEnv} goes to every node (e.g. WAKE_INTERVAL).
   * Skips (JUnit assumption) when RABBITMQ is asked for and none is available.
   */
  public static LocalCluster start(Path dir, int nodes, Broker broker, Map<String, String> extraEnv, String... jvmOptions) throws Exception {
    Files.createDirectories(dir);
    String amqpUri;
    String managementUri = null;
    EmbeddedAmqpBroker embeddedBroker = null;
    if (broker == Broker.RABBITMQ) {
      var rabbit = RabbitMq.get();
      org.junit.jupiter.api.Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
      amqpUri = rabbit.get().amqp();
      managementUri = rabbit.get().management();
    } else {
      embeddedBroker = EmbeddedAmqpBroker.start(dir.resolve("amqp"), 0);
      amqpUri = embeddedBroker.uri().toString();
    }
    EmbeddedMongo mongo;
    try {
      mongo = EmbeddedMongo.start(dir.resolve("mongodb"), 0);
    } catch (IOException | RuntimeException e) {
      if (embeddedBroker != null) {
        embeddedBroker.close();
      }
      throw e;
    }
    // The node's own logging (logback.xml: Akka's cluster, sharding and shutdown lines at INFO), not
    // the test JVM's quieter logback-test.xml, which the test class path would pick.
    String[] options = jvmOptions.length == 0 ? new String[] {"-Xmx384m", "-Dlogback.configurationFile=logback.xml"} : jvmOptions;
    LocalCluster cluster = new LocalCluster(dir, mongo, embeddedBroker, amqpUri, managementUri, Map.copyOf(extraEnv), options);
    try {
      for (int i = 0; i < nodes; i++) {
        cluster.members.add(cluster.newMember());
      }
      for (Member m : cluster.members) {
        cluster.launch(m);
      }
      for (Member m : cluster.members) {
        m.process.awaitReady(READY_WITHIN);
      }
      cluster.awaitAllUp();
      return cluster;
    } catch (Exception | Error e) {
      cluster.close();
      throw e;
    }
  }

  private Member newMember() throws IOException {
    int index = members.size() + 1;
    Path data = Files.createDirectories(dir.resolve("node" + index));
    NodeProcess.Settings base = NodeProcess.Settings.fresh(data);
    return new Member(index, base);
  }

  private void launch(Member m) throws IOException {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("CLUSTER_JOIN", "seed-nodes");
    env.put("SEED_NODES", seedsFor(m));
    env.put("MONGODB_URI", mongo.connectionString());
    env.put("AMQP_URI", amqpUri);
    if (amqpManagementUri != null) {
      env.put("AMQP_MANAGEMENT_URI", amqpManagementUri);
    }
    env.put("MYSIMBDP_ADMIN_TOKEN", ADMIN_TOKEN);
    NodeProcess.Settings s = m.settings;
    NodeProcess.Settings withEnv = new NodeProcess.Settings(s.dataDir(), s.httpPort(), s.managementPort(), s.akkaPort(), env);
    m.incarnation++;
    m.process = NodeProcess.start(withEnv, "node" + m.index + "-" + m.incarnation + ".log", jvmOptions);
  }

  /**
   * The seed nodes node {@code m} starts with. When the cluster is first formed: every node, node 1
   * first (the first seed node joins itself when no other seed answers, so only node 1 may form the
   * cluster). Later (a restart, an added node): only the other running nodes, never itself. A
   * restarted node 1 with itself first in the list would join itself, and so form a second cluster
   * beside the running one, whenever the others took longer than {@code seed-node-timeout} (5 s) to
   * answer it: it happened on a loaded machine, and both clusters ran the same tenants.
   */
  private String seedsFor(Member m) {
    List<Member> others = members.stream().filter(o -> o != m && o.isRunning()).toList();
    List<Member> seeds = others.isEmpty() ? members : others;
    return seeds.stream().map(Member::akkaAddress).collect(Collectors.joining(","));
  }

  /** Node {@code i}, 1-based. */
  public Member node(int i) {
    return members.get(i - 1);
  }

  public int size() {
    return members.size();
  }

  public List<Member> members() {
    return List.copyOf(members);
  }

  /**
   * The last {@code perNode} WARN and ERROR lines of every node's current log, for a failing test to
   * say what the nodes saw (their logs go with the test's temporary directory).
   */
  public String problems(int perNode) {
    StringBuilder out = new StringBuilder();
    for (Member m : members) {
      Path log = m.log();
      if (log == null || !java.nio.file.Files.exists(log)) {
        continue;
      }
      try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(log, java.nio.charset.StandardCharsets.UTF_8)) {
        List<String> bad = lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
        out.append("\n--- node ").append(m.index).append(" (").append(m.akkaAddress()).append("): ")
            .append(bad.size()).append(" WARN/ERROR line(s), the last ").append(Math.min(perNode, bad.size())).append(':');
        bad.subList(Math.max(0, bad.size() - perNode), bad.size()).forEach(l -> out.append("\n").append(l));
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        out.append("\n--- node ").append(m.index).append(": log unreadable: ").append(e);
      }
    }
    return out.toString();
  }

  /** The shared store's connection string (for the test's own client). */
  public String mongoUri() {
    return mongo.connectionString();
  }

  public String amqpUri() {
    return amqpUri;
  }

  public Path dir() {
    return dir;
  }

  /** An HTTP client for node {@code i}'s tenant API with the admin token. */
  public HttpApi admin(int i) {
    return new HttpApi(node(i).apiUrl(), ADMIN_TOKEN);
  }

  /**
   * The store goes away for {@code outage}, as when its process stops: the embedded server closes
   * every connection and stops listening, then starts again on the same port with the same files.
   */
  public synchronized void storeOutage(Duration outage) throws IOException, InterruptedException {
    int port = mongo.port();
    mongo.close();
    Thread.sleep(outage.toMillis());
    mongo = EmbeddedMongo.start(dir.resolve("mongodb"), port);
  }

  /**
   * The broker goes away for {@code outage} and comes back with its state (durable queues and
   * persistent messages): the embedded broker is closed and started again on the same port and
   * data; RabbitMQ is restarted with {@code scripts/rabbitmq.sh restart} (only one the tests
   * started themselves, or CI's, whose settings are in the environment).
   */
  public synchronized void brokerOutage(Duration outage) throws Exception {
    if (embeddedBroker == null) {
      RabbitMq.restart();
      return;
    }
    int port = embeddedBroker.port();
    embeddedBroker.close();
    Thread.sleep(outage.toMillis());
    embeddedBroker = EmbeddedAmqpBroker.start(dir.resolve("amqp"), port);
  }

  /** Starts one more node that joins the running cluster; waits until it is ready and Up everywhere. */
  public Member add() throws Exception {
    Member m = newMember();
    members.add(m);
    launch(m);
    m.process.awaitReady(READY_WITHIN);
    awaitAllUp();
    return m;
  }

  /**
   * SIGTERM to node {@code i} (by PID); waits until the process exits on its own (coordinated
   * shutdown: it leaves the cluster and hands its tenants off) and answers how long that took. A
   * node still running after {@link #STOP_WITHIN} is killed and the call fails.
   */
  public Duration stop(int i) throws Exception {
    Member m = node(i);
    NodeProcess p = running(m);
    long start = System.nanoTime();
    p.process.destroy();
    boolean exited = p.process.waitFor(STOP_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (!exited) {
      p.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      m.process = null;
      throw new AssertionError("node " + i + " did not exit within " + STOP_WITHIN + " of SIGTERM; killed. Log: " + p.log);
    }
    m.process = null;
    lastExit.put(i, p.process.exitValue());
    return took;
  }

  /** The exit code of node {@code i}'s last stopped or killed incarnation. */
  public int lastExitCode(int i) {
    Integer code = lastExit.get(i);
    if (code == null) {
      throw new IllegalStateException("node " + i + " has not exited");
    }
    return code;
  }

  /** SIGKILL to node {@code i} (by PID): it dies at once, as in a crash. */
  public void kill(int i) throws Exception {
    Member m = node(i);
    NodeProcess p = running(m);
    p.process.destroyForcibly();
    p.process.waitFor(30, TimeUnit.SECONDS);
    m.process = null;
    lastExit.put(i, p.process.exitValue());
  }

  /**
   * Waits up to {@code within} for node {@code i} to exit on its own (downed by the others, say) and
   * answers whether it did; an exited node counts as stopped.
   */
  public boolean awaitExit(int i, Duration within) throws InterruptedException {
    Member m = node(i);
    NodeProcess p = m.process;
    if (p == null) {
      return true;
    }
    if (!p.process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      return false;
    }
    m.process = null;
    lastExit.put(i, p.process.exitValue());
    return true;
  }

  /** Starts node {@code i} again (it must be stopped) with its ports and data dir; waits until ready. */
  public Member start(int i) throws Exception {
    Member m = node(i);
    if (m.isRunning()) {
      throw new IllegalStateException("node " + i + " is running");
    }
    launch(m);
    m.process.awaitReady(READY_WITHIN);
    return m;
  }

  /** Stops node {@code i} with SIGTERM (see {@link #stop}), starts it again, waits until ready and Up everywhere. */
  public Duration restart(int i) throws Exception {
    Duration took = stop(i);
    start(i);
    awaitAllUp();
    return took;
  }

  private static NodeProcess running(Member m) {
    if (m.process == null || !m.process.process.isAlive()) {
      throw new IllegalStateException("node " + m.index + " is not running");
    }
    return m.process;
  }

  /** Waits until every running node sees exactly the running nodes, all Up and none unreachable. */
  public void awaitAllUp() throws Exception {
    awaitAllUp(FORMED_WITHIN);
  }

  public void awaitAllUp(Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    String last = "";
    while (Instant.now().isBefore(deadline)) {
      List<Member> live = members.stream().filter(Member::isRunning).toList();
      Set<String> expected = live.stream().map(Member::akkaAddress).collect(Collectors.toCollection(TreeSet::new));
      boolean all = true;
      for (Member m : live) {
        View view = view(m);
        last = "node " + m.index + " sees " + view;
        if (!view.up().equals(expected) || !view.others().isEmpty()) {
          all = false;
          break;
        }
      }
      if (all) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("the running nodes are not all Up in one cluster within " + within + "; last: " + last);
  }

  /** A node's view of the cluster: members Up, members in any other state or unreachable. */
  public record View(Set<String> up, Set<String> others) {}

  public View view(Member m) {
    Set<String> up = new TreeSet<>();
    Set<String> others = new TreeSet<>();
    try {
      HttpApi.Reply reply = new HttpApi(m.managementUrl(), null).get("/cluster/members", null);
      if (reply.status() != 200) {
        others.add("(status " + reply.status() + ")");
        return new View(up, others);
      }
      JsonNode json = reply.json();
      for (JsonNode member : json.path("members")) {
        String status = member.path("status").asText();
        (status.equals("Up") ? up : others).add(member.path("node").asText() + (status.equals("Up") ? "" : " " + status));
      }
      for (JsonNode unreachable : json.path("unreachable")) {
        others.add(unreachable.path("node").asText() + " unreachable");
      }
    } catch (RuntimeException e) {
      others.add("(not answering: " + e.getMessage() + ")");
    }
    return new View(up, others);
  }

  /**
   * Stops every running node (SIGTERM to all, then SIGKILL to any still running after a short
   * wait), then the store and the broker this cluster started. Never throws for a node.
   */
  @Override
  public void close() {
    List<NodeProcess> running = new ArrayList<>();
    for (Member m : members) {
      if (m.process != null && m.process.process.isAlive()) {
        running.add(m.process);
        m.process.process.destroy();
      }
    }
    Instant deadline = Instant.now().plus(CLOSE_WAIT);
    for (NodeProcess p : running) {
      try {
        long left = Math.max(0, Duration.between(Instant.now(), deadline).toMillis());
        if (!p.process.waitFor(left, TimeUnit.MILLISECONDS)) {
          p.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        p.process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    for (Member m : members) {
      m.process = null;
    }
    try {
      if (embeddedBroker != null) {
        embeddedBroker.close();
      }
    } finally {
      mongo.close();
    }
  }
}
