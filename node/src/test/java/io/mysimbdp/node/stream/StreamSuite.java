package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.testing.HttpApi.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/** The stream ingestion checks, for each broker (see the subclasses). */
abstract class StreamSuite extends StreamContract {

  @Test
  void httpMessagesAreStoredOnceWithTheirIds() throws Exception {
    Tenant t = newTenant("http");
    start(t);
    Reply one = publishJson(t, "reading-1", "{\"sensor\":\"a\",\"value\":1}");
    assertEquals(202, one.status(), one::toString);
    assertEquals("reading-1", one.json().path("ids").get(0).asText());
    // The same id again (a client retry): accepted, stored once.
    assertEquals(202, publishJson(t, "reading-1", "{\"sensor\":\"a\",\"value\":1}").status());
    Reply generated = publishJson(t, null, "{\"sensor\":\"b\"}");
    assertEquals(202, generated.status());
    String generatedId = generated.json().path("ids").get(0).asText();
    Reply many = publishNdjson(t, "batch7", null, ndjsonLines(0, 500, null));
    assertEquals(202, many.status(), many::toString);
    assertEquals(500, many.json().path("accepted").asInt());
    assertEquals("batch7-1", many.json().path("ids").get(0).asText());

    awaitCount("records", () -> records(t), 502);
    Set<String> ids = recordIds(t);
    assertTrue(ids.contains(t.id() + ":reading-1"));
    assertTrue(ids.contains(t.id() + ":" + generatedId));
    assertTrue(ids.contains(t.id() + ":batch7-500"));
    awaitCount("stored (incl. the duplicate)", () -> status(t).path("stored").asLong(), 503);
    assertEquals(1, status(t).path("duplicates").asLong());
    assertEquals(0, status(t).path("lag").asLong());
    assertTrue(status(t).path("latencyP99Millis").asLong() >= 0);
    assertEquals(List.of(), deadLetters(t));
  }

  @Test
  void anIdempotencyKeyMakesARetriedRequestStoreNothingTwice() throws Exception {
    Tenant t = newTenant("idem");
    start(t);
    String key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08:3";
    List<String> lines = new ArrayList<>(ndjsonLines(0, 300, null));
    lines.add(100, ""); // a blank line: ids follow line numbers, so the record after it is line 102
    String body = String.join("\n", lines);
    // A first attempt of which only the first 100 records were confirmed (then 429/503), ...
    Reply partial = publishWithKey(t, "application/x-ndjson", String.join("\n", lines.subList(0, 100)), key);
    assertEquals(202, partial.status(), partial::toString);
    // ... the whole request retried, and sent once more for good measure.
    Reply whole = publishWithKey(t, "application/x-ndjson", body, key);
    assertEquals(202, whole.status(), whole::toString);
    assertEquals(key + "-1", whole.json().path("ids").get(0).asText());
    assertEquals(key + "-102", whole.json().path("ids").get(100).asText());
    assertEquals(202, publishWithKey(t, "application/x-ndjson", body, key).status());
    // One JSON record: its id is the key.
    assertEquals(202, publishWithKey(t, "application/json", "{\"single\":true}", "single-1").status());
    Reply again = publishWithKey(t, "application/json", "{\"single\":true}", "single-1");
    assertEquals("single-1", again.json().path("ids").get(0).asText());
    // A key too long to be part of a message id stands for its digest, the same each time.
    String longKey = "k".repeat(200);
    assertEquals(202, publishWithKey(t, "application/json", "{\"long\":true}", longKey).status());
    Reply longAgain = publishWithKey(t, "application/json", "{\"long\":true}", longKey);
    assertTrue(longAgain.json().path("ids").get(0).asText().startsWith("sha256."), longAgain::toString);

    awaitCount("stored, duplicates included", () -> status(t).path("stored").asLong(), 100 + 300 + 300 + 2 + 2);
    assertEquals(302, records(t), "each record once");
    assertTrue(recordIds(t).contains(t.id() + ":" + key + "-301"));
    assertTrue(recordIds(t).contains(t.id() + ":single-1"));
    assertEquals(List.of(), deadLetters(t));
  }

  @Test
  void aBadIdempotencyKeyIsAClearError() {
    Tenant t = newTenant("idem-bad");
    for (String bad : List.of("has space", "k".repeat(201), "slash/y")) {
      Reply reply = publishWithKey(t, "application/json", "{\"a\":1}", bad);
      assertEquals(400, reply.status(), reply::toString);
      assertEquals("invalid_idempotency_key", reply.errorCode());
      assertEquals("Idempotency-Key", reply.json().path("details").path("header").asText());
    }
    var both =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(api.baseUrl + "/v1/tenants/" + t.id() + "/messages"))
            .header("Authorization", "Bearer " + t.key())
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", "k1")
            .header("X-Message-Id", "m1")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"a\":1}"))
            .build();
    Reply conflicting;
    try {
      var response = HTTP.send(both, java.net.http.HttpResponse.BodyHandlers.ofString());
      conflicting = new Reply(response.statusCode(), response.body(), response);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertEquals(400, conflicting.status(), conflicting::toString);
    assertEquals("conflicting_headers", conflicting.errorCode());
    assertEquals(0, records(t));
  }

  @Test
  void twoTenantsPublishingHalfOverHttpHalfStraightToTheBroker() throws Exception {
    int each = 2_000;
    List<Tenant> tenants = List.of(newTenant("pair-a"), newTenant("pair-b"));
    tenants.forEach(StreamContract::start);
    List<Thread> publishers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (Tenant t : tenants) {
      publishers.add(started(() -> {
        try {
          for (int from = 0; from < each / 2; from += 250) {
            Reply r = publishNdjson(t, "h" + from, null, ndjsonLines(from, 250, null));
            assertEquals(202, r.status(), r::toString);
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
      publishers.add(started(() -> {
        try {
          List<Raw> raws = new ArrayList<>();
          for (int from = 0; from < each / 2; from += 100) {
            List<String> ids = IntStream.range(from, from + 100).mapToObj(i -> "d" + i).toList();
            List<String> data = IntStream.range(from, from + 100).mapToObj(i -> "{\"n\":" + i + "}").toList();
            raws.add(batch(t, ids.subList(0, 50), data.subList(0, 50)));
            for (int i = 50; i < 100; i++) {
              raws.add(envelope(t, ids.get(i), "default", data.get(i)));
            }
          }
          publishDirect(directUri(t), t.exchange(), raws);
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    for (Thread p : publishers) {
      p.join();
    }
    assertEquals(List.of(), failures);
    for (Tenant t : tenants) {
      awaitCount("records of " + t.id(), () -> records(t), each);
      Thread.sleep(300);
      assertEquals(each, records(t), "exactly, no duplicates");
      assertEquals(each, recordIds(t).size());
      assertEquals(List.of(), deadLetters(t));
    }
  }

  private static Thread started(Runnable body) {
    Thread thread = new Thread(body);
    thread.start();
    return thread;
  }

  @Test
  void badHttpInputIsAClearError() throws Exception {
    Tenant t = newTenant("badhttp");
    String path = "/v1/tenants/" + t.id() + "/messages";
    Reply notJson = api.send("POST", path, t.key(), "application/json", "{not json".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, notJson.status(), notJson::toString);
    assertEquals("malformed_body", notJson.errorCode());
    Reply array = api.send("POST", path, t.key(), "application/json", "[1,2]".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, array.status());
    assertEquals("not_an_object", array.errorCode());
    Reply badLine = publishNdjson(t, null, null, List.of("{\"a\":1}", "\"just a string\""));
    assertEquals(400, badLine.status());
    assertEquals("not_an_object", badLine.errorCode());
    assertEquals(2, badLine.json().path("details").path("line").asInt());
    Reply badId = publishJson(t, "has spaces", "{\"a\":1}");
    assertEquals(400, badId.status());
    assertEquals("invalid_message_id", badId.errorCode());
    Reply xml = api.send("POST", path, t.key(), "application/xml", "<a/>".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, xml.status());
    Reply otherTenant = api.send("POST", "/v1/tenants/someone-else/messages", t.key(), "application/json", "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals(403, otherTenant.status());

    // 100 MB announced: refused from the Content-Length, before the body travels.
    String tooLarge = announceLargeBody(path, t.key(), 100L * 1024 * 1024);
    assertTrue(tooLarge.startsWith("HTTP/1.1 413"), tooLarge);
    assertContains(tooLarge, "payload_too_large");
    assertEquals(0, records(t));
  }

  @Test
  void badBrokerMessagesGoToTheDeadLetterStoreAndTheStreamGoesOn() throws Exception {
    Tenant t = newTenant("badamqp");
    start(t);
    List<Raw> raws = new ArrayList<>();
    raws.add(bare("not-json", "default", "{this is not json"));
    raws.add(bare("an-array", "default", "[1,2,3]"));
    raws.add(bare(null, "default", "{\"no\":\"message id\"}"));
    raws.add(envelope(t, null, "default", "{\"envelope\":\"without id\"}"));
    raws.add(envelope(t, "no-function", "unmapped-category", "{\"x\":1}"));
    raws.add(envelope(t, "rejected", "sensors", "{\"n\":7,\"poison\":true}"));
    raws.add(envelope(t, "crashing", "sensors", "{\"n\":8,\"crash\":true}"));
    raws.add(envelope(t, "dup", "default", "{\"copy\":1}"));
    raws.add(envelope(t, "dup", "default", "{\"copy\":2}"));
    raws.add(envelope(t, "good", "sensors", "{\"n\":9}"));
    raws.add(bare("bare-good", "default", "{\"seed\":\"style\"}"));
    publishDirect(directUri(t), t.exchange(), raws);

    awaitCount("records", () -> records(t), 3);
    awaitCount("dead letters", () -> deadLetters(t).size(), 7);
    assertEquals(Set.of(t.id() + ":dup", t.id() + ":good", t.id() + ":bare-good"), recordIds(t));
    assertContains(deadLetter(t, "message:not-json").getString("reason"), "not JSON");
    assertContains(deadLetter(t, "message:an-array").getString("reason"), "not an object");
    assertContains(deadLetter(t, "message:no-function").getString("reason"), "unmapped-category");
    assertContains(deadLetter(t, "message:rejected").getString("reason"), "poisoned reading 7");
    assertEquals("function", deadLetter(t, "message:rejected").getString("stage"));
    assertContains(deadLetter(t, "message:crashing").getString("reason"), "failed 3 times");
    long missingIds = deadLetters(t).stream().filter(d -> d.getString("reason").contains("message id is missing")).count();
    assertEquals(2, missingIds, () -> deadLetters(t).toString());
    awaitCount("failed", () -> status(t).path("failed").asLong(), 7);
    assertEquals(0, status(t).path("lag").asLong());

    // A 100 MB message: the broker refuses it (its limit is the node's AMQP client limit).
    byte[] huge = new byte[100 * 1024 * 1024];
    Raw tooLarge = bare("huge", "default", "");
    assertThrows(Exception.class, () -> publishDirect(directUri(t), t.exchange(), List.of(new Raw(tooLarge.properties(), huge))));
    publishDirect(directUri(t), t.exchange(), List.of(envelope(t, "after-huge", "default", "{\"ok\":true}")));
    awaitCount("records after the huge message", () -> records(t), 4);
  }

  @Test
  void onePercentPoisonEndsInTheDeadLetterStore() throws Exception {
    Tenant t = newTenant("poison");
    start(t);
    int total = 3_000;
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      lines.add(i % 100 == 42 ? "{\"n\":" + i + ",\"poison\":true}" : "{\"n\":" + i + "}");
    }
    for (int from = 0; from < total; from += 500) {
      Reply r = publishNdjson(t, "p" + from, "sensors", lines.subList(from, from + 500));
      assertEquals(202, r.status(), r::toString);
    }
    awaitCount("records", () -> records(t), total - total / 100);
    awaitCount("dead letters", () -> deadLetters(t).size(), total / 100);
    Document letter = deadLetter(t, "message:p0-43");
    assertContains(letter.getString("reason"), "poisoned reading 42");
    assertEquals("message", ((Document) letter.get("source")).getString("kind"));
    awaitCount("failed", () -> status(t).path("failed").asLong(), total / 100);
  }

  @Test
  void stopDrainsAndAStartedStreamResumesWhenItsEntityStartsAgain() throws Exception {
    Tenant t = newTenant("drain");
    start(t);
    int total = 3_000;
    // Requests of one full envelope each (200 records): the queue's length in records is exact.
    for (int from = 0; from < total; from += 200) {
      assertEquals(202, publishNdjson(t, "s" + from, null, ndjsonLines(from, 200, null)).status());
    }
    Reply stopped = api.postJson("/v1/tenants/" + t.id() + "/stream/stop", t.key(), "");
    assertEquals(200, stopped.status(), stopped::toString);
    assertEquals("stopped", stopped.json().path("state").asText());
    // Nothing lost, nothing in between: every message is stored or back in the queue.
    long stored = records(t);
    Thread.sleep(500);
    assertEquals(stored, records(t), "a stopped stream stores nothing more");
    assertEquals(total, stored + status(t).path("lag").asLong(), "stored + queued = published");

    start(t);
    awaitCount("records after restart", () -> records(t), total);

    // Hand-off: the entity drains its workers and stops; the next message starts it again and the
    // remembered state restarts the stream with it.
    for (int from = total; from < total + 1000; from += 500) {
      assertEquals(202, publishNdjson(t, "s" + from, null, ndjsonLines(from, 500, null)).status());
    }
    ClusterSharding.get(node.testKit.system()).entityRefFor(TenantIngestor.ENTITY_KEY, t.id()).tell(TenantIngestor.HandOff.INSTANCE);
    Thread.sleep(1000);
    ClusterSharding.get(node.testKit.system()).entityRefFor(TenantIngestor.ENTITY_KEY, t.id()).tell(TenantIngestor.Wake.INSTANCE);
    awaitCount("records after hand-off", () -> records(t), total + 1000);
    assertEquals("started", status(t).path("state").asText());
    assertEquals(total + 1000, recordIds(t).size());
    assertEquals(List.of(), deadLetters(t));
  }
}
