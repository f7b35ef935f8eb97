package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node that cannot take another tenant's stream says so: 503, Retry-After, a JSON reason. */
class StreamCapacityTest extends StreamContract {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    startNode(dataDir, ConfigFactory.parseString("mysimbdp.stream.consume.max-streams-per-node = 2"));
  }

  @AfterAll
  static void stop() {
    stopNode();
  }

  @Override
  String directUri(Tenant tenant) {
    return embeddedBrokerUri();
  }

  @Test
  void aStartPastTheNodesStreamsIsRefusedWithRetryAfterUntilOneStops() throws Exception {
    List<Tenant> tenants = List.of(newTenant("cap-a"), newTenant("cap-b"), newTenant("cap-c"));
    start(tenants.get(0));
    start(tenants.get(1));
    start(tenants.get(1)); // already started: still fine

    Reply refused = api.postJson("/v1/tenants/" + tenants.get(2).id() + "/stream/start", tenants.get(2).key(), "");
    assertEquals(503, refused.status(), refused::toString);
    assertEquals("node_at_capacity", refused.errorCode());
    assertContains(refused.json().path("message").asText(), "max-streams-per-node");
    assertFalse(headers(refused).get("Retry-After").isEmpty(), "Retry-After");
    assertEquals("stopped", status(tenants.get(2)).path("state").asText(), "a refused start is not remembered");

    Reply stopped = api.postJson("/v1/tenants/" + tenants.get(0).id() + "/stream/stop", tenants.get(0).key(), "");
    assertEquals(200, stopped.status(), stopped::toString);
    start(tenants.get(2));
    assertEquals(202, publishNdjson(tenants.get(2), "after", null, ndjsonLines(0, 3, null)).status());
    awaitCount("records of the stream started once there was room", () -> records(tenants.get(2)), 3);
  }
}
