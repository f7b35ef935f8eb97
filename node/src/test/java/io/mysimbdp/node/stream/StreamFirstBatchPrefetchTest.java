package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new tenant's consumer starts on assumed message sizes (the largest the broker takes: a prefetch
 * of 1) and takes its own prefetch from its first stored batch, not at the node's periodic check
 * (an hour away here): its first seconds no longer run one message at a time.
 */
class StreamFirstBatchPrefetchTest extends StreamContract {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    startNode(dataDir, ConfigFactory.parseString("mysimbdp.stream.consume.prefetch-check-interval = 1h"));
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
  void aNewConsumerTakesItsMeasuredPrefetchFromItsFirstBatch() throws Exception {
    Tenant t = newTenant("first-batch");
    start(t);
    assertEquals(1, status(t).path("prefetch").asInt(), "unmeasured: the largest messages are assumed");

    publishDirect(directUri(t), t.exchange(), singles(t, "a-", 1));
    awaitCount("records", () -> records(t), 1);
    // One-record messages of ~100 bytes: the upper bound (prefetch 1000), by neither records nor bytes held.
    awaitCount("prefetch", () -> status(t).path("prefetch").asLong(), 1000);

    publishDirect(directUri(t), t.exchange(), singles(t, "b-", 200));
    awaitCount("records", () -> records(t), 201);
    assertEquals(201, recordIds(t).size());
    assertEquals(0, status(t).path("duplicates").asLong());
  }
}
