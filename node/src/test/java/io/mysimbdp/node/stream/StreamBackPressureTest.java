package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.mysimbdp.protocol.ProtocolJson;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.RabbitMq;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full tenant queue, in messages or in bytes, answers 429 with Retry-After, and the tenant gets
 * in again once its consumer caught up: no buffer grows anywhere. (RabbitMQ: x-max-length and
 * x-max-length-bytes with x-overflow=reject-publish.) Names have a prefix of their own: the
 * queue-bounds policy this test makes the node put must not reach other tests' queues on a shared
 * broker.
 */
class StreamBackPressureTest extends StreamContract {
  static final int MAX_QUEUE_BYTES = 64 * 1024;
  static final String PREFIX = "bp-" + UUID.randomUUID().toString().substring(0, 8) + ".";
  @TempDir static Path dataDir;
  static RabbitMq.Uris rabbit;

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
    StreamBackPressureTest.rabbit = rabbit.get();
    startNode(
        dataDir,
        ConfigFactory.parseString(
                "mysimbdp.stream.max-queue-length = 20\n"
                    + "mysimbdp.stream.max-queue-bytes = " + MAX_QUEUE_BYTES + "\n"
                    + "mysimbdp.stream.name-prefix = \"" + PREFIX + "\"\n")
            .withFallback(rabbitMq(rabbit.get())));
  }

  @AfterAll
  static void stop() throws Exception {
    if (rabbit != null) {
      management("DELETE", "/api/policies/%2F/" + PREFIX + "queue-bounds");
    }
    stopNode();
  }

  @Override
  String directUri(Tenant tenant) {
    throw new UnsupportedOperationException();
  }

  @Test
  void aFullQueueIs429WithRetryAfterUntilTheConsumerCatchesUp() throws Exception {
    Tenant t = newTenant("full");
    int accepted = 0;
    Reply refused = null;
    for (int i = 0; i < 40 && refused == null; i++) {
      Reply r = publishJson(t, "m" + i, "{\"n\":" + i + "}");
      if (r.status() == 202) {
        accepted++;
      } else {
        refused = r;
      }
    }
    assertEquals(20, accepted, "the queue holds 20 messages");
    assertEquals(429, refused.status(), refused::toString);
    assertEquals("queue_full", refused.errorCode());
    assertEquals("1", refused.raw().headers().firstValue("Retry-After").orElse(""));

    start(t);
    awaitCount("records", () -> records(t), 20);
    assertEquals(202, publishJson(t, "after", "{\"n\":99}").status());
    awaitCount("records", () -> records(t), 21);
  }

  /** Messages of 10 KB: the 64 KiB queue is full after a few, long before its 20 messages. */
  @Test
  void aQueueFullInBytesIs429() {
    Tenant t = newTenant("bytes");
    assertBoundedInBytes(t, MAX_QUEUE_BYTES, 10_000);
  }

  /**
   * A queue declared before the byte bound existed (other arguments: a redeclaration is a channel
   * error on RabbitMQ) is kept and still works; the bound reaches it through the policy.
   */
  @Test
  void aQueueDeclaredEarlierWithOtherArgumentsIsKeptAndBoundedByThePolicy() throws Exception {
    String id = "older-" + UUID.randomUUID().toString().substring(0, 8);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(rabbit.amqp());
    try (Connection connection = factory.newConnection("test-older-declaration")) {
      Channel channel = connection.createChannel();
      channel.queueDeclare(PREFIX + id, true, false, false,
          Map.of("x-single-active-consumer", true, "x-max-length", 20, "x-overflow", "reject-publish"));
    }
    Reply created = api.postJson("/v1/tenants", api.adminToken, "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.status(), created::toString);
    Tenant t = new Tenant(id, created.json().path("apiKey").asText(), created.json().path("broker"));
    Reply small = publishJson(t, "small", "{\"n\":1}");
    assertEquals(202, small.status(), small::toString);

    String queue = "/api/queues/%2F/" + URLEncoder.encode(PREFIX + id, StandardCharsets.UTF_8);
    Instant deadline = Instant.now().plus(WAIT);
    JsonNode effective = null;
    while (Instant.now().isBefore(deadline)) {
      effective = ProtocolJson.JSON.readTree(management("GET", queue).body()).path("effective_policy_definition");
      if (effective.has("max-length-bytes")) {
        break;
      }
      Thread.sleep(200);
    }
    assertEquals(MAX_QUEUE_BYTES, effective.path("max-length-bytes").asLong(), () -> "the queue's policy: " + queue);
    assertBoundedInBytes(t, MAX_QUEUE_BYTES, 10_000);
  }

  static HttpResponse<String> management(String method, String path) throws Exception {
    URI management = URI.create(rabbit.management());
    String auth = "Basic " + Base64.getEncoder().encodeToString(URLDecoder.decode(management.getRawUserInfo(), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
    String base = management.getScheme() + "://" + management.getHost() + ":" + management.getPort();
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", auth).method(method, HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
