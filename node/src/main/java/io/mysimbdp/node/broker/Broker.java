package io.mysimbdp.node.broker;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.mysimbdp.node.NodeSettings;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's access to the AMQP 0-9-1 broker (RabbitMQ, or the embedded broker): one configured
 * connection factory, and one long-lived connection for control work (declaring topology, health).
 * The AMQP client blocks, so every call runs on Akka's blocking dispatcher.
 */
public final class Broker implements Extension {
  private static final Logger log = LoggerFactory.getLogger(Broker.class);

  public static final ExtensionId<Broker> ID =
      new ExtensionId<>() {
        @Override
        public Broker createExtension(ActorSystem<?> system) {
          return new Broker(system);
        }
      };

  public static Broker get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ConnectionFactory factory;
  private final Executor blocking;
  private Connection control;

  private Broker(ActorSystem<?> system) {
    NodeSettings settings = NodeSettings.from(system.settings().config());
    String uri =
        settings
            .amqpUri()
            .orElseThrow(() -> new IllegalStateException("mysimbdp.amqp.uri is not set and no embedded broker was started"));
    this.factory = new ConnectionFactory();
    try {
      factory.setUri(uri);
    } catch (Exception e) {
      throw new IllegalArgumentException("mysimbdp.amqp.uri is not a valid AMQP URI: " + e.getMessage(), e);
    }
    factory.setConnectionTimeout(Math.toIntExact(settings.amqpConnectionTimeout().toMillis()));
    // Connections are reopened by their owners (on demand here, RestartSource in streams), so the
    // client's own background recovery would only race with them.
    factory.setAutomaticRecoveryEnabled(false);
    // Refuse oversized messages in the client too, not only at the broker.
    factory.setMaxInboundMessageBodySize(settings.amqpMaxMessageBytes());
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-amqp-connection",
            () -> CompletableFuture.supplyAsync(() -> {
              closeControl();
              return Done.getInstance();
            }, blocking));
  }

  /** A copy of the configured factory, for components that open their own connections. */
  public ConnectionFactory connectionFactory() {
    return factory.clone();
  }

  /** Whether the broker accepts a connection now. */
  public CompletionStage<Boolean> ping() {
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return controlConnection().isOpen();
              } catch (IOException | RuntimeException e) {
                log.debug("AMQP broker not reachable: {}", e.toString());
                return false;
              }
            },
            blocking)
        .exceptionally(e -> false);
  }

  /** The control connection, reopened when the broker dropped it. */
  public synchronized Connection controlConnection() throws IOException {
    if (control == null || !control.isOpen()) {
      closeControl();
      try {
        control = factory.newConnection("mysimbdp-control");
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IOException("timed out connecting to the AMQP broker", e);
      }
    }
    return control;
  }

  private synchronized void closeControl() {
    if (control != null) {
      try {
        control.abort(2000);
      } finally {
        control = null;
      }
    }
  }
}
