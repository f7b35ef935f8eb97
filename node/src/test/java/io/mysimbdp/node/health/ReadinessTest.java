package io.mysimbdp.node.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** /ready means: Up in the cluster, MongoDB reachable, AMQP broker reachable. */
class ReadinessTest {

  @Test
  void readyWhenUpAndBothBackendsAnswer_notReadyWhenTheBrokerIsGone(@TempDir Path dataDir) throws Exception {
    try (TestNode node = TestNode.start(dataDir)) {
      HttpApi management = new HttpApi("http://127.0.0.1:" + node.managementPort, null);
      awaitStatus(management, "/ready", s -> s == 200, Duration.ofSeconds(30));
      assertEquals(200, management.get("/alive", null).status());

      Reply members = management.get("/cluster/members", null);
      assertEquals(200, members.status(), members::toString);
      assertEquals("Up", members.json().path("members").get(0).path("status").asText());

      // Management write routes are off: nobody downs or removes a node over HTTP.
      String address = members.json().path("selfNode").asText();
      Reply down = management.send("PUT", "/cluster/members/" + address, null, "application/x-www-form-urlencoded",
          "operation=Down".getBytes());
      assertNotEquals(200, down.status(), down::toString);
      Reply leave = management.send("DELETE", "/cluster/members/" + address, null, null, null);
      assertNotEquals(200, leave.status(), leave::toString);

      node.embedded.broker().orElseThrow().close();
      awaitStatus(management, "/ready", s -> s != 200, Duration.ofSeconds(30));
      assertEquals(200, management.get("/alive", null).status(), "alive: the process itself is fine");
    }
  }

  @Test
  void notReadyWhenTheStoreIsGone(@TempDir Path dataDir) throws Exception {
    try (TestNode node = TestNode.start(dataDir)) {
      HttpApi management = new HttpApi("http://127.0.0.1:" + node.managementPort, null);
      awaitStatus(management, "/ready", s -> s == 200, Duration.ofSeconds(30));
      node.embedded.mongo().orElseThrow().close();
      awaitStatus(management, "/ready", s -> s != 200, Duration.ofSeconds(30));
    }
  }

  static void awaitStatus(HttpApi api, String path, IntPredicate wanted, Duration within) throws InterruptedException {
    Instant deadline = Instant.now().plus(within);
    int last = -1;
    while (Instant.now().isBefore(deadline)) {
      try {
        last = api.get(path, null).status();
        if (wanted.test(last)) {
          return;
        }
      } catch (RuntimeException e) {
        last = -1;
      }
      Thread.sleep(250);
    }
    assertTrue(false, path + " did not reach the wanted status within " + within + "; last " + last);
  }
}
