package io.mysimbdp.node.embedded;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mysimbdp.node.NodeSettings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Starts whatever the configuration leaves out: the embedded MongoDB-wire-protocol server when no
 * {@code MONGODB_URI} is set, the embedded AMQP broker when no {@code AMQP_URI} is set. Called
 * before the actor system exists; {@link #applyTo} then hands their addresses to the node's config,
 * so the rest of the node only ever sees connection strings.
 */
public final class EmbeddedServices implements AutoCloseable {
  private final Optional<EmbeddedMongo> mongo;
  private final Optional<EmbeddedAmqpBroker> broker;

  private EmbeddedServices(Optional<EmbeddedMongo> mongo, Optional<EmbeddedAmqpBroker> broker) {
    this.mongo = mongo;
    this.broker = broker;
  }

  public static EmbeddedServices startMissing(Config config) throws IOException {
    NodeSettings settings = NodeSettings.from(config);
    Config embedded = config.getConfig("mysimbdp.embedded");
    EmbeddedMongo mongo = null;
    EmbeddedAmqpBroker broker = null;
    try {
      if (settings.mongoUri().isEmpty()) {
        mongo = EmbeddedMongo.start(
                settings.dataDir().resolve("mongodb"),
                embedded.getInt("mongodb.port"),
                embedded.getInt("mongodb.store-files"),
                embedded.getInt("mongodb.cache-mb"));
      }
      if (settings.amqpUri().isEmpty()) {
        broker =
            EmbeddedAmqpBroker.start(
                settings.dataDir().resolve("amqp"),
                embedded.getInt("amqp.port"),
                settings.amqpMaxMessageBytes());
      }
    } catch (IOException | RuntimeException e) {
      if (mongo != null) {
        mongo.close();
      }
      throw e;
    }
    return new EmbeddedServices(Optional.ofNullable(mongo), Optional.ofNullable(broker));
  }

  /** {@code config} with the URIs of the embedded services filled in where they were started. */
  public Config applyTo(Config config) {
    Config result = config;
    if (mongo.isPresent()) {
      result = result.withValue("mysimbdp.mongodb.uri", ConfigValueFactory.fromAnyRef(mongo.get().connectionString()));
    }
    if (broker.isPresent()) {
      result = result.withValue("mysimbdp.amqp.uri", ConfigValueFactory.fromAnyRef(broker.get().uri().toString()));
    }
    return result;
  }

  /** The overrides alone, for tests that build their own config. */
  public Config overrides() {
    return applyTo(ConfigFactory.empty());
  }

  public Optional<EmbeddedMongo> mongo() {
    return mongo;
  }

  public Optional<EmbeddedAmqpBroker> broker() {
    return broker;
  }

  @Override
  public void close() {
    List<RuntimeException> failures = new ArrayList<>();
    broker.ifPresent(b -> closeQuietly(b, failures));
    mongo.ifPresent(m -> closeQuietly(m, failures));
    if (!failures.isEmpty()) {
      throw failures.get(0);
    }
  }

  private static void closeQuietly(AutoCloseable closeable, List<RuntimeException> failures) {
    try {
      closeable.close();
    } catch (Exception e) {
      failures.add(new IllegalStateException("stopping " + closeable + " failed", e));
    }
  }
}
