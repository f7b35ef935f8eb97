package io.mysimbdp.node.testing;

import io.mysimbdp.node.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node as a user runs it: {@link Main} in its own JVM, configured by environment variables,
 * output to a log file. Stopped by its own PID (SIGTERM, or SIGKILL to simulate a crash).
 */
public final class NodeProcess {
  public static final Duration READY_WITHIN = Duration.ofSeconds(90);

  public final Process process;
  public final Path log;
  public final int managementPort;

  private NodeProcess(Process process, Path log, int managementPort) {
    this.process = process;
    this.log = log;
    this.managementPort = managementPort;
  }

  /** Ports and data dir of one node, reused across its restarts. */
  public record Settings(Path dataDir, int httpPort, int managementPort, int akkaPort, Map<String, String> extraEnv) {
    public static Settings fresh(Path dataDir) {
      return new Settings(dataDir, FreePorts.next(), FreePorts.next(), FreePorts.next(), Map.of());
    }

    public String apiUrl() {
      return "http://127.0.0.1:" + httpPort;
    }
  }

  public static NodeProcess start(Settings settings, String logName, String... jvmOptions) throws IOException {
    Path log = settings.dataDir().getParent().resolve(logName);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java));
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.equals("MONGODB_URI") || k.equals("AMQP_URI") || k.equals("MYSIMBDP_ADMIN_TOKEN"));
    Map<String, String> env = new HashMap<>(Map.of(
        "DATA_DIR", settings.dataDir().toString(),
        "HTTP_PORT", Integer.toString(settings.httpPort()),
        "MANAGEMENT_PORT", Integer.toString(settings.managementPort()),
        "AKKA_PORT", Integer.toString(settings.akkaPort())));
    env.putAll(settings.extraEnv());
    builder.environment().putAll(env);
    return new NodeProcess(builder.start(), log, settings.managementPort());
  }

  public NodeProcess awaitReady() throws Exception {
    return awaitReady(READY_WITHIN);
  }

  public NodeProcess awaitReady(Duration within) throws Exception {
    HttpApi management = new HttpApi("http://127.0.0.1:" + managementPort, null);
    Instant deadline = Instant.now().plus(within);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError("the node exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (management.get("/ready", null).status() == 200) {
          return this;
        }
      } catch (RuntimeException e) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    throw new AssertionError("not ready within " + within + ":\n" + Files.readString(log));
  }

  /** SIGTERM: coordinated shutdown, then exit. */
  public void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("the node did not stop within 60 s of SIGTERM");
    }
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public String adminToken(Settings settings) throws IOException {
    return Files.readString(settings.dataDir().resolve("admin-token")).trim();
  }
}
