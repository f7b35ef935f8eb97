package io.mysimbdp.node.health;

import akka.actor.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import io.mysimbdp.node.http.ApiServer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Readiness: the tenant API is bound and takes requests. Registered in management.conf. */
public final class ApiReadiness implements Supplier<CompletionStage<Boolean>> {
  private final akka.actor.typed.ActorSystem<?> system;

  public ApiReadiness(ActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(ApiServer.isServing(system));
  }
}
