package io.mysimbdp.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node as a user runs it: {@link Main} in its own JVM, configured only by environment
 * variables, on the embedded default. Its data and admin token survive a stop and a start.
 */
class NodeProcessTest {
  private static final Duration READY_WITHIN = Duration.ofSeconds(90);

  @Test
  void tenantsAndKeysSurviveARestart(@TempDir Path dataDir) throws Exception {
    int httpPort = FreePorts.next();
    int managementPort = FreePorts.next();
    int akkaPort = FreePorts.next();
    Map<String, String> env =
        Map.of(
            "DATA_DIR", dataDir.toString(),
            "HTTP_PORT", Integer.toString(httpPort),
            "MANAGEMENT_PORT", Integer.toString(managementPort),
            "AKKA_PORT", Integer.toString(akkaPort));

    Process first = startNode(env, dataDir.resolve("first.log"));
    String aliceKey;
    String adminToken;
    try {
      awaitReady(managementPort, first, dataDir.resolve("first.log"));
      Path tokenFile = dataDir.resolve("admin-token");
      assertTrue(Files.exists(tokenFile), "the generated admin token is stored under DATA_DIR");
      adminToken = Files.readString(tokenFile).trim();
      assertTrue(Files.readString(dataDir.resolve("first.log")).contains(adminToken), "and printed once");

      HttpApi api = new HttpApi("http://127.0.0.1:" + httpPort, adminToken);
      aliceKey = api.createTenant("alice");
      String bobKey = api.createTenant("bob");
      assertEquals(200, api.putJson("/v1/tenants/alice/constraints", adminToken, "{\"maxFiles\":3}").status());
      assertEquals(3, api.get("/v1/tenants/alice/constraints", aliceKey).json().path("maxFiles").asInt());
      assertEquals(403, api.get("/v1/tenants/alice/constraints", bobKey).status());
    } finally {
      stop(first);
    }
    // 143 = terminated by SIGTERM, after the JVM's shutdown hooks (coordinated shutdown) ran.
    assertTrue(first.exitValue() == 0 || first.exitValue() == 143, "exit code " + first.exitValue());
    String firstLog = Files.readString(dataDir.resolve("first.log"));
    assertTrue(firstLog.contains("embedded MongoDB-wire-protocol server stopped"), firstLog);

    Process second = startNode(env, dataDir.resolve("second.log"));
    try {
      awaitReady(managementPort, second, dataDir.resolve("second.log"));
      HttpApi api = new HttpApi("http://127.0.0.1:" + httpPort, adminToken);
      Reply constraints = api.get("/v1/tenants/alice/constraints", aliceKey);
      assertEquals(200, constraints.status(), constraints::toString);
      assertEquals(3, constraints.json().path("maxFiles").asInt());
      assertEquals(200, api.get("/v1/tenants", adminToken).status(), "the same admin token after restart");
      assertTrue(!Files.readString(dataDir.resolve("second.log")).contains(adminToken), "printed only on first start");
    } finally {
      stop(second);
    }
  }

  private static Process startNode(Map<String, String> env, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.equals("MONGODB_URI") || k.equals("AMQP_URI") || k.equals("MYSIMBDP_ADMIN_TOKEN"));
    builder.environment().putAll(env);
    return builder.start();
  }

  private static void awaitReady(int managementPort, Process process, Path log) throws Exception {
    HttpApi management = new HttpApi("http://127.0.0.1:" + managementPort, null);
    Instant deadline = Instant.now().plus(READY_WITHIN);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError("the node exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (management.get("/ready", null).status() == 200) {
          return;
        }
      } catch (RuntimeException e) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    throw new AssertionError("not ready within " + READY_WITHIN + ":\n" + Files.readString(log));
  }

  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("the node did not stop within 60 s of SIGTERM");
    }
  }

}
