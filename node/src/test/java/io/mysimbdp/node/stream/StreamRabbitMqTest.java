package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.ShutdownSignalException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mysimbdp.node.testing.RabbitMq;
import java.nio.file.Path;
import java.util.List;
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

  @BeforeAll
  static void startNode() throws Exception {
    var rabbit = RabbitMq.get();
    Assumptions.assumeTrue(rabbit.isPresent(), RabbitMq::whyMissing);
    startNode(
        dataDir,
        ConfigFactory.empty()
            .withValue("mysimbdp.amqp.uri", ConfigValueFactory.fromAnyRef(rabbit.get().amqp()))
            .withValue("mysimbdp.amqp.management-uri", ConfigValueFactory.fromAnyRef(rabbit.get().management())));
  }

  @AfterAll
  static void stop() {
    stopNode();
  }

  @Override
  String directUri(Tenant t) {
    // The tenant's own credentials, as the tenant would.
    return "amqp://" + t.broker().path("username").asText() + ":" + t.broker().path("password").asText()
        + "@" + t.broker().path("host").asText() + ":" + t.broker().path("port").asInt() + "/%2F";
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
}
