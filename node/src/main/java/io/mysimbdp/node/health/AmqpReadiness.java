package io.mysimbdp.node.health;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import io.mysimbdp.node.broker.Broker;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Readiness: the node reaches the AMQP broker. Registered in management.conf. */
public final class AmqpReadiness implements Supplier<CompletionStage<Boolean>> {
  private final Broker broker;

  public AmqpReadiness(ActorSystem system) {
    this.broker = Broker.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return broker.ping();
  }
}
