package io.mysimbdp.node.stream;

import io.mysimbdp.node.testing.RabbitMq;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** Many tenants' streams on a real RabbitMQ (TEST_AMQP_URI, or scripts/rabbitmq.sh). */
class ManyTenantsRabbitMqTest extends ManyTenantsSuite {
  @TempDir static Path dataDir;

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
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
}
