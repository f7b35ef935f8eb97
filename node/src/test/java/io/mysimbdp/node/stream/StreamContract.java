package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.node.entity.IngestionServices;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.RabbitMq;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.MessageBatch;
import io.mysimbdp.protocol.MessageEnvelope;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.bson.Document;

/**
 * What every broker must do for stream ingestion, run against the embedded broker and RabbitMQ by
 * the subclasses: a node in the test JVM, real HTTP, real AMQP, records counted in the store.
 */
abstract class StreamContract {
  static final String POISON_FUNCTION = "test-poison";
  /** Two outputs per record, each with two arrays under one index (see the test that uses it). */
  static final String TWO_REFUSED_OUTPUTS_FUNCTION = "test-two-refused-outputs";
  static final Duration WAIT = Duration.ofSeconds(60);

  static TestNode node;
  static HttpApi api;
  static MongoClient mongo;

  /** Test functions and categories: sensors → a function that rejects {"poison": true}. */
  static Config streamTestConfig() {
    return ConfigFactory.parseString(
        "mysimbdp.ingestion.category-functions { default = identity, sensors = " + POISON_FUNCTION + ", refused = "
            + TWO_REFUSED_OUTPUTS_FUNCTION + " }\n"
            + "mysimbdp.ingestion.unmapped-categories = reject\n"
            + "mysimbdp.stream.consume.restart-min-backoff = 200ms\n"
            + "mysimbdp.stream.consume.restart-max-backoff = 2s\n");
  }

  static void startNode(Path dataDir, Config overrides) throws Exception {
    node = TestNode.start(dataDir, overrides.withFallback(streamTestConfig()));
    api = node.api;
    IngestionServices.get(node.testKit.system())
        .categories()
        .registry()
        .register(
            POISON_FUNCTION,
            (record, context) -> {
              if (Boolean.TRUE.equals(record.get("poison"))) {
                throw new FunctionException("poisoned reading " + record.get("n"));
              }
              if (Boolean.TRUE.equals(record.get("crash"))) {
                throw new IllegalStateException("the function crashed");
              }
              return List.of(record);
            });
    IngestionServices.get(node.testKit.system())
        .categories()
        .registry()
        .register(TWO_REFUSED_OUTPUTS_FUNCTION, (record, context) -> List.of(Map.of("a", List.of(1, 2), "b", List.of(3, 4)), Map.of("a", List.of(5, 6), "b", List.of(7, 8))));
    mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString());
  }

  static void stopNode() {
    if (mongo != null) {
      mongo.close();
    }
    if (node != null) {
      node.close();
    }
  }

  /** The URI a test publishes to the broker with directly, for this tenant. */
  abstract String directUri(Tenant tenant);

  /** The embedded broker's URI: it has a single user, tests publish directly with it. */
  static String embeddedBrokerUri() {
    return node.embedded.broker().orElseThrow().uri().toString();
  }

  /** A real RabbitMQ as the node's broker, with its management API (a broker user per tenant). */
  static Config rabbitMq(RabbitMq.Uris rabbit) {
    return ConfigFactory.empty()
        .withValue("mysimbdp.amqp.uri", ConfigValueFactory.fromAnyRef(rabbit.amqp()))
        .withValue("mysimbdp.amqp.management-uri", ConfigValueFactory.fromAnyRef(rabbit.management()));
  }

  /** The tenant's own RabbitMQ credentials, as the tenant would publish with them. */
  static String tenantBrokerUri(Tenant t) {
    return "amqp://" + t.broker().path("username").asText() + ":" + t.broker().path("password").asText()
        + "@" + t.broker().path("host").asText() + ":" + t.broker().path("port").asInt() + "/%2F";
  }

  record Tenant(String id, String key, JsonNode broker) {
    String exchange() {
      return "mysimbdp.tenant." + id;
    }
  }

  static Tenant newTenant(String prefix) {
    String id = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    Reply created = api.postJson("/v1/tenants", api.adminToken, "{\"id\":\"" + id + "\"}");
    assertEquals(201, created.status(), created::toString);
    if (created.json().path("broker").path("username").isMissingNode() || created.json().path("broker").path("username").isNull()) {
      // No broker user per tenant (the embedded broker): its exchange is declared on first use,
      // and these tests publish to it directly (with the node's user) before anything else.
      Reply credentials = api.postJson("/v1/tenants/" + id + "/stream/credentials", api.adminToken, "");
      assertEquals(200, credentials.status(), credentials::toString);
    }
    return new Tenant(id, created.json().path("apiKey").asText(), created.json().path("broker"));
  }

  static void start(Tenant t) {
    Reply started = api.postJson("/v1/tenants/" + t.id() + "/stream/start", t.key(), "");
    assertEquals(200, started.status(), started::toString);
    assertEquals("started", started.json().path("state").asText());
  }

  static Reply publishNdjson(Tenant t, String idPrefix, String category, List<String> lines) {
    String path = "/v1/tenants/" + t.id() + "/messages" + (category == null ? "" : "?category=" + category);
    return sendWithHeaders("POST", path, t.key(), "application/x-ndjson", String.join("\n", lines), idPrefix);
  }

  static Reply publishJson(Tenant t, String id, String json) {
    return sendWithHeaders("POST", "/v1/tenants/" + t.id() + "/messages", t.key(), "application/json", json, id);
  }

  /** POST .../messages with an Idempotency-Key header. */
  static Reply publishWithKey(Tenant t, String contentType, String body, String idempotencyKey) {
    var request =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.baseUrl + "/v1/tenants/" + t.id() + "/messages"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + t.key())
            .header("Content-Type", contentType)
            .header("Idempotency-Key", idempotencyKey)
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
    try {
      var response = HTTP.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.body(), response);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static Reply sendWithHeaders(String method, String path, String token, String contentType, String body, String messageId) {
    var request =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.baseUrl + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", contentType)
            .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (messageId != null) {
      request.header("X-Message-Id", messageId);
    }
    try {
      var response = HTTP.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.body(), response);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Announces a body of {@code length} bytes (Content-Length) on a raw socket and answers the
   * status line and body the node sends back before any of the body is sent: the size limit is
   * enforced from the header, the 100 MB never need to travel.
   */
  static String announceLargeBody(String path, String token, long length) throws java.io.IOException {
    URI uri = URI.create(api.baseUrl);
    try (var socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(30_000);
      String head = "POST " + path + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: Bearer " + token
          + "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n{";
      socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      byte[] buffer = new byte[8192];
      int n = socket.getInputStream().read(buffer);
      return n <= 0 ? "" : new String(buffer, 0, n, StandardCharsets.UTF_8);
    }
  }

  static final java.net.http.HttpClient HTTP = HttpApi.CLIENT;

  static long records(Tenant t) {
    return mongo.getDatabase("tenant_" + t.id()).getCollection("records").countDocuments();
  }

  static Set<String> recordIds(Tenant t) {
    Set<String> ids = new HashSet<>();
    mongo.getDatabase("tenant_" + t.id()).getCollection("records").find().projection(new Document("_id", 1)).forEach(d -> ids.add(d.getString("_id")));
    return ids;
  }

  static List<Document> deadLetters(Tenant t) {
    return mongo.getDatabase("tenant_" + t.id()).getCollection("dead_letters").find().into(new ArrayList<>());
  }

  static Document deadLetter(Tenant t, String letterId) {
    return mongo.getDatabase("tenant_" + t.id()).getCollection("dead_letters").find(Filters.eq("_id", letterId)).first();
  }

  static JsonNode status(Tenant t) {
    Reply reply = api.get("/v1/tenants/" + t.id() + "/stream", t.key());
    assertEquals(200, reply.status(), reply::toString);
    return reply.json();
  }

  static void awaitCount(String what, LongSupplier actual, long expected) throws InterruptedException {
    Instant deadline = Instant.now().plus(WAIT);
    long last = -1;
    while (Instant.now().isBefore(deadline)) {
      last = actual.getAsLong();
      if (last >= expected) {
        break;
      }
      Thread.sleep(100);
    }
    assertEquals(expected, last, what);
  }

  static List<String> ndjsonLines(int from, int count, String extra) {
    List<String> lines = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      lines.add("{\"n\":" + i + ",\"temperature\":" + ThreadLocalRandom.current().nextInt(-20, 40) + (extra == null ? "" : "," + extra) + "}");
    }
    return lines;
  }

  /** A raw AMQP message, published straight to the broker. */
  record Raw(AMQP.BasicProperties properties, byte[] body) {}

  /** {@code count} envelopes of one record each, ids {@code idPrefix + i}, category default. */
  static List<Raw> singles(Tenant t, String idPrefix, int count) {
    List<Raw> raws = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      raws.add(envelope(t, idPrefix + i, "default", "{\"n\":" + i + "}"));
    }
    return raws;
  }

  static Raw envelope(Tenant t, String id, String category, String dataJson) {
    String body =
        "{\"tenant\":\"" + t.id() + "\"" + (id == null ? "" : ",\"id\":\"" + id + "\"") + ",\"category\":\"" + category
            + "\",\"data\":" + dataJson + ",\"sentAt\":\"" + Instant.now() + "\"}";
    return new Raw(new AMQP.BasicProperties.Builder().contentType(MessageEnvelope.CONTENT_TYPE).deliveryMode(2).build(), body.getBytes(StandardCharsets.UTF_8));
  }

  static Raw batch(Tenant t, List<String> ids, List<String> data) {
    StringBuilder body = new StringBuilder("{\"tenant\":\"" + t.id() + "\",\"sentAt\":\"" + Instant.now() + "\",\"messages\":[");
    for (int i = 0; i < ids.size(); i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append("{\"id\":\"").append(ids.get(i)).append("\",\"data\":").append(data.get(i)).append('}');
    }
    body.append("]}");
    return new Raw(new AMQP.BasicProperties.Builder().contentType(MessageBatch.CONTENT_TYPE).deliveryMode(2).build(), body.toString().getBytes(StandardCharsets.UTF_8));
  }

  static Raw bare(String messageId, String type, String body) {
    return new Raw(
        new AMQP.BasicProperties.Builder().contentType("application/json").messageId(messageId).type(type).deliveryMode(2).build(),
        body.getBytes(StandardCharsets.UTF_8));
  }

  /** Publishes with confirms to {@code exchange}; throws if the broker refuses. */
  static void publishDirect(String uri, String exchange, List<Raw> messages) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(uri);
    factory.setAutomaticRecoveryEnabled(false);
    try (Connection connection = factory.newConnection("test-publisher")) {
      Channel channel = connection.createChannel();
      channel.confirmSelect();
      for (Raw m : messages) {
        channel.basicPublish(exchange, "", m.properties(), m.body());
      }
      channel.waitForConfirmsOrDie(30_000);
    }
  }

  /**
   * Publishes messages of {@code padBytes} to the stopped stream of {@code t} until one is refused:
   * a queue of {@code maxQueueBytes} is full after about maxQueueBytes / padBytes, 429 queue_full.
   */
  static void assertBoundedInBytes(Tenant t, long maxQueueBytes, int padBytes) {
    String pad = "x".repeat(padBytes);
    int accepted = 0;
    Reply refused = null;
    long most = maxQueueBytes / padBytes + 1;
    for (int i = 0; i < 2 * most + 2 && refused == null; i++) {
      Reply r = publishJson(t, "big" + i, "{\"n\":" + i + ",\"pad\":\"" + pad + "\"}");
      if (r.status() == 202) {
        accepted++;
      } else {
        refused = r;
      }
    }
    assertNotNull(refused, "the queue took " + accepted + " messages of " + padBytes + " bytes, over " + maxQueueBytes + " bytes");
    assertEquals(429, refused.status(), refused::toString);
    assertEquals("queue_full", refused.errorCode());
    assertTrue(accepted >= 1 && accepted <= most, accepted + " messages of " + padBytes + " bytes accepted");
  }

  static Map<String, String> headers(Reply reply) {
    return Map.of("Retry-After", reply.raw().headers().firstValue("Retry-After").orElse(""));
  }

  static void assertContains(String text, String part) {
    assertTrue(text != null && text.contains(part), "expected '" + part + "' in: " + text);
  }
}
