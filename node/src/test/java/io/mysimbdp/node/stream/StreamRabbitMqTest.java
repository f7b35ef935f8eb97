package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.ShutdownSignalException;
import io.mysimbdp.node.testing.RabbitMq;
import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.protocol.ProtocolJson;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stream ingestion on a real RabbitMQ (scripts/rabbitmq.sh, or TEST_AMQP_URI from .ci/run), with a
 * broker user per tenant created through the management API.
 */
class StreamRabbitMqTest extends StreamSuite {
  @TempDir static Path dataDir;
  static RabbitMq.Uris rabbit;

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
    StreamRabbitMqTest.rabbit = rabbit.get();
    startNode(dataDir, rabbitMq(rabbit.get()));
  }

  @AfterAll
  static void stop() {
    stopNode();
  }

  @Override
  String directUri(Tenant t) {
    return tenantBrokerUri(t);
  }

  @Test
  void aTenantsBrokerUserPublishesToItsOwnExchangeOnly() throws Exception {
    Tenant alice = newTenant("alice");
    Tenant bob = newTenant("bob");
    assertFalse(alice.broker().path("password").asText().isEmpty(), alice.broker()::toString);
    assertEquals(alice.exchange(), alice.broker().path("exchange").asText());
    start(bob);

    publishDirect(directUri(alice), alice.exchange(), List.of(envelope(alice, "mine", "default", "{\"ok\":1}")));
    Exception refused =
        assertThrows(Exception.class, () -> publishDirect(directUri(alice), bob.exchange(), List.of(envelope(bob, "not-mine", "default", "{\"x\":1}"))));
    Throwable cause = refused instanceof ShutdownSignalException || refused.getCause() == null ? refused : refused.getCause();
    assertTrue(String.valueOf(cause.getMessage()).contains("ACCESS_REFUSED"), String.valueOf(cause));
    assertThrows(Exception.class, () -> publishDirect(directUri(alice), "", List.of(bare("q", "default", "{}"))), "nor the default exchange");
    Thread.sleep(500);
    assertEquals(0, records(bob));
  }

  /**
   * What a broker restart does to the node, without restarting a broker other test runs share: the
   * broker closes the node's consuming connection (CONNECTION_FORCED, through the management API)
   * while messages flow, twice. The stream reconnects with backoff; what was delivered and not acked
   * comes back and is written again idempotently; acks in flight on the dead connection time out.
   * (The full broker restart with 100,000 messages: scripts/stream-demo.sh restart.)
   */
  @Test
  void theStreamRecoversWhenTheBrokerClosesItsConnectionMidStream() throws Exception {
    Tenant t = newTenant("conn-loss");
    start(t);
    int total = 6_000;
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread publisher = new Thread(() -> {
      try {
        // 100 per AMQP message, ~3,000 messages/s: the stream is still running when it is cut.
        for (int from = 0; from < total; from += 100) {
          List<String> ids = IntStream.range(from, from + 100).mapToObj(i -> "c" + i).toList();
          List<String> data = IntStream.range(from, from + 100).mapToObj(i -> "{\"n\":" + i + "}").toList();
          publishDirect(directUri(t), t.exchange(), List.of(batch(t, ids, data)));
          Thread.sleep(30);
        }
      } catch (Throwable e) {
        failed.set(e);
      }
    });
    publisher.start();
    // The node's shared consumer connection: every tenant's stream on it recovers.
    String connection = io.mysimbdp.node.broker.ConsumerConnections.get(node.testKit.system()).connectionNamePrefix();
    awaitCount("records before the first cut", () -> Math.min(records(t), 500), 500);
    assertTrue(closeConnections(connection) > 0, "the broker closed the stream's connection");
    awaitCount("records before the second cut", () -> Math.min(records(t), total / 2), total / 2);
    assertTrue(closeConnections(connection) > 0, "the broker closed the stream's new connection");
    publisher.join();
    assertEquals(null, failed.get());
    awaitCount("records", () -> records(t), total);
    Thread.sleep(300);
    assertEquals(total, records(t), "exactly, no duplicates");
    assertEquals(total, recordIds(t).size());
    assertEquals(List.of(), deadLetters(t));
  }

  /** Has the broker close the connections whose client name starts so (waits up to 15 s for one); answers how many. */
  static int closeConnections(String clientName) throws Exception {
    URI management = URI.create(rabbit.management());
    String auth = "Basic " + Base64.getEncoder().encodeToString(URLDecoded(management.getRawUserInfo()).getBytes(StandardCharsets.UTF_8));
    String base = management.getScheme() + "://" + management.getHost() + ":" + management.getPort();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(15));
    while (true) {
      HttpResponse<String> list = HTTP.send(
          HttpRequest.newBuilder(URI.create(base + "/api/connections?columns=name,client_properties.connection_name")).header("Authorization", auth).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, list.statusCode(), list::body);
      List<String> names = new ArrayList<>();
      for (JsonNode c : ProtocolJson.JSON.readTree(list.body())) {
        if (c.path("client_properties").path("connection_name").asText().startsWith(clientName)) {
          names.add(c.path("name").asText());
        }
      }
      if (!names.isEmpty() || Instant.now().isAfter(deadline)) {
        for (String name : names) {
          HttpResponse<String> closed = HTTP.send(
              HttpRequest.newBuilder(URI.create(base + "/api/connections/" + URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20")))
                  .header("Authorization", auth).header("X-Reason", "test: broker restart").DELETE().build(),
              HttpResponse.BodyHandlers.ofString());
          assertTrue(closed.statusCode() == 204 || closed.statusCode() == 404, closed::body);
        }
        return names.size();
      }
      Thread.sleep(250);
    }
  }

  private static String URLDecoded(String s) {
    return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
