package io.mysimbdp.node.health;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import io.mysimbdp.node.coredms.CoreDms;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Readiness: the node reaches MongoDB (a ping answers). Registered in management.conf. */
public final class MongoReadiness implements Supplier<CompletionStage<Boolean>> {
  private final CoreDms coreDms;

  public MongoReadiness(ActorSystem system) {
    this.coreDms = CoreDms.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return coreDms.ping();
  }
}
