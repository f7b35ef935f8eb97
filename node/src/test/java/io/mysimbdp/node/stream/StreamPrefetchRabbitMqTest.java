package io.mysimbdp.node.stream;

import io.mysimbdp.node.testing.RabbitMq;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The prefetch checks on a real RabbitMQ, whose queues have a single active consumer: the consumer
 * started with the new prefetch waits until the drained one has closed.
 */
class StreamPrefetchRabbitMqTest extends StreamPrefetchSuite {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
    startNode(dataDir, rabbitMq(rabbit.get()));
  }

  @Override
  String directUri(Tenant t) {
    return tenantBrokerUri(t);
  }
}
