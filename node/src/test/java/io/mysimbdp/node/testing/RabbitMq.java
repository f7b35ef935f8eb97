package io.mysimbdp.node.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real RabbitMQ for tests. Taken from the environment when {@code .ci/run} (or the developer)
 * started one ({@code TEST_AMQP_URI}, {@code TEST_AMQP_MANAGEMENT_URI}); otherwise started once per
 * test JVM with {@code scripts/rabbitmq.sh start} when {@code rabbitmq-server} is installed, and
 * stopped when the JVM exits (only if this JVM started it). Empty when neither works: the RabbitMQ
 * tests are then skipped, with the reason.
 */
public final class RabbitMq {
  public record Uris(String amqp, String management) {}

  private static Optional<Uris> uris;
  private static String problem = "";

  private RabbitMq() {}

  public static synchronized Optional<Uris> get() {
    if (uris == null) {
      uris = locate();
    }
    return uris;
  }

  public static String whyMissing() {
    return problem;
  }

  private static Optional<Uris> locate() {
    String amqp = System.getenv("TEST_AMQP_URI");
    String management = System.getenv("TEST_AMQP_MANAGEMENT_URI");
    if (amqp != null && !amqp.isBlank()) {
      return Optional.of(new Uris(amqp, management));
    }
    Path script = script();
    if (script == null || !Files.isExecutable(Path.of("/usr/lib/rabbitmq/bin/rabbitmq-server"))) {
      problem = "no TEST_AMQP_URI and no rabbitmq-server installed (scripts/rabbitmq.sh install)";
      return Optional.empty();
    }
    try {
      boolean wasRunning = run(script, "status").exitCode == 0;
      Result started = run(script, "start");
      if (started.exitCode != 0) {
        problem = "scripts/rabbitmq.sh start failed: " + started.env;
        return Optional.empty();
      }
      if (!wasRunning) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            run(script, "stop");
          } catch (Exception e) {
            // the JVM is leaving anyway
          }
        }, "stop-test-rabbitmq"));
      }
      return Optional.of(new Uris(started.env.get("AMQP_URI"), started.env.get("AMQP_MANAGEMENT_URI")));
    } catch (Exception e) {
      problem = "could not start RabbitMQ: " + e;
      return Optional.empty();
    }
  }

  /** Stops and starts the broker (only when the tests started it through the script). */
  public static void restart() throws Exception {
    Path script = script();
    if (script == null) {
      throw new IllegalStateException("scripts/rabbitmq.sh not found");
    }
    if (run(script, "restart").exitCode != 0) {
      throw new IllegalStateException("restarting RabbitMQ failed");
    }
  }

  private static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("scripts").resolve("rabbitmq.sh");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  private record Result(int exitCode, Map<String, String> env) {}

  private static Result run(Path script, String command) throws Exception {
    Process process = new ProcessBuilder(script.toString(), command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    Map<String, String> env = new HashMap<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          env.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    }
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("scripts/rabbitmq.sh " + command + " did not finish");
    }
    return new Result(process.exitValue(), env);
  }
}
