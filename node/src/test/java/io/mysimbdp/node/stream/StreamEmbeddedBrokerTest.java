package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
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
