package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stream ingestion on the embedded (Qpid) broker: the zero-install default. */
class StreamEmbeddedBrokerTest extends StreamSuite {
  @TempDir static Path dataDir;

  static final int MAX_QUEUE_BYTES = 2 << 20;

  @BeforeAll
  static void startNode() throws Exception {
    startNode(dataDir, ConfigFactory.parseString("mysimbdp.stream.max-queue-bytes = " + MAX_QUEUE_BYTES));
  }

  @AfterAll
  static void stop() {
    stopNode();
  }

  @Override
  String directUri(Tenant tenant) {
    return embeddedBrokerUri();
  }

  /** #13 item 10: two outputs of one message refused by the store are two dead letters, not one. */
  @Test
  void everyRefusedOutputOfAMessageIsADeadLetterOfItsOwn() throws Exception {
    Tenant t = newTenant("refused");
    // The store refuses a document whose two fields of one index are both arrays.
    mongo.getDatabase("tenant_" + t.id()).getCollection("records")
        .createIndex(com.mongodb.client.model.Indexes.ascending("a", "b"), new com.mongodb.client.model.IndexOptions().unique(true));
    start(t);
    assertEquals(202, publishNdjson(t, "two", "refused", List.of("{\"n\":1}")).status());
    awaitCount("dead letters", () -> deadLetters(t).size(), 2);
    assertEquals("write", deadLetter(t, "message:two-1:write:0").getString("stage"));
    assertEquals("write", deadLetter(t, "message:two-1:write:1").getString("stage"));
    assertEquals(0, records(t));
  }

  @Test
  void theEmbeddedBrokerHasNoPerTenantUsersAndSaysSo() {
    Tenant t = newTenant("nouser");
    assertTrue(t.broker().path("username").isMissingNode(), t.broker()::toString);
    assertContains(t.broker().path("note").asText(), "publish over HTTP");
    assertContains(t.broker().path("exchange").asText(), t.id());
  }

  /** qpid.max_size: messages of 200 KB fill the 2 MiB queue after about ten. */
  @Test
  void aQueueFullInBytesIs429() {
    assertBoundedInBytes(newTenant("bytes"), MAX_QUEUE_BYTES, 200_000);
  }
}
