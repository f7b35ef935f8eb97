package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * A full tenant queue answers 429 with Retry-After, and the tenant gets in again once its consumer
 * caught up: no buffer grows anywhere. (RabbitMQ: x-max-length with x-overflow=reject-publish.)
 */
class StreamBackPressureTest extends StreamContract {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
    startNode(dataDir, ConfigFactory.parseString("mysimbdp.stream.max-queue-length = 20").withFallback(rabbitMq(rabbit.get())));
  }

  @AfterAll
  static void stop() {
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
}
