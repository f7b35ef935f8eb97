package io.mysimbdp.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.node.testing.NodeProcess;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node as a user runs it: {@link Main} in its own JVM, configured only by environment
 * variables, on the embedded default. Its data and admin token survive a stop and a start.
 */
class NodeProcessTest {

  @Test
  void tenantsAndKeysSurviveARestart(@TempDir Path dir) throws Exception {
    NodeProcess.Settings settings = NodeProcess.Settings.fresh(dir.resolve("data"));
    Files.createDirectories(settings.dataDir());
    NodeProcess first = NodeProcess.start(settings, "first.log");
    String aliceKey;
    String adminToken;
    try {
      first.awaitReady();
      Path tokenFile = settings.dataDir().resolve("admin-token");
      assertTrue(Files.exists(tokenFile), "the generated admin token is stored under DATA_DIR");
      adminToken = first.adminToken(settings);
      assertTrue(Files.readString(first.log).contains(adminToken), "and printed once");

      HttpApi api = new HttpApi(settings.apiUrl(), adminToken);
      aliceKey = api.createTenant("alice");
      String bobKey = api.createTenant("bob");
      assertEquals(200, api.putJson("/v1/tenants/alice/constraints", adminToken, "{\"maxFiles\":3}").status());
      assertEquals(3, api.get("/v1/tenants/alice/constraints", aliceKey).json().path("maxFiles").asInt());
      assertEquals(403, api.get("/v1/tenants/alice/constraints", bobKey).status());
    } finally {
      first.stop();
    }
    // 143 = terminated by SIGTERM, after the JVM's shutdown hooks (coordinated shutdown) ran.
    assertTrue(first.process.exitValue() == 0 || first.process.exitValue() == 143, "exit code " + first.process.exitValue());
    String firstLog = Files.readString(first.log);
    assertTrue(firstLog.contains("embedded MongoDB-wire-protocol server stopped"), firstLog);

    NodeProcess second = NodeProcess.start(settings, "second.log");
    try {
      second.awaitReady();
      HttpApi api = new HttpApi(settings.apiUrl(), adminToken);
      Reply constraints = api.get("/v1/tenants/alice/constraints", aliceKey);
      assertEquals(200, constraints.status(), constraints::toString);
      assertEquals(3, constraints.json().path("maxFiles").asInt());
      assertEquals(200, api.get("/v1/tenants", adminToken).status(), "the same admin token after restart");
      assertTrue(!Files.readString(second.log).contains(adminToken), "printed only on first start");
    } finally {
      second.stop();
    }
  }
}
