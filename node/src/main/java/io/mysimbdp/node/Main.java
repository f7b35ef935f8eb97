package io.mysimbdp.node;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mysimbdp.node.embedded.EmbeddedServices;
import io.mysimbdp.node.tenant.AdminToken;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a node: the embedded store and broker when no URIs are given, then the actor system. */
public final class Main {
  static {
    CommonPoolParallelism.ensure(); // before anything starts the common pool
  }

  private static final Logger log = LoggerFactory.getLogger(Main.class);
  private static final Duration EMBEDDED_STOP_WAIT = Duration.ofSeconds(90);

  private Main() {}

  public static void main(String[] args) {
    // A library thread that dies must be logged, not end the JVM (Qpid halts it when no handler is set).
    Thread.setDefaultUncaughtExceptionHandler(
        (thread, e) -> log.error("uncaught exception in thread {}", thread.getName(), e));
    Config config = ConfigFactory.load();
    EmbeddedServices embedded;
    try {
      NodeSettings settings = NodeSettings.from(config);
      String adminToken = AdminToken.resolve(config, settings.dataDir());
      embedded = EmbeddedServices.startMissing(config);
      config = embedded.applyTo(config).withValue("mysimbdp.admin-token", ConfigValueFactory.fromAnyRef(adminToken));
    } catch (Exception e) {
      log.error("the node could not start: {}", e.getMessage(), e);
      System.exit(1);
      return;
    }

    ActorSystem<Void> system = ActorSystem.create(root(), "mysimbdp", config);
    // The embedded services stop in coordinated shutdown's last phase: after every tenant handed off
    // (entities write to them while the node leaves) and the clients closed. A node downed by the
    // others runs the same phases, then Akka exits the JVM at once.
    CompletableFuture<Void> embeddedStopped = new CompletableFuture<>();
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "stop-embedded-services", () ->
        CompletableFuture.runAsync(embedded::close, task -> new Thread(task, "stop-embedded-services").start())
            .whenComplete((ok, failure) -> embeddedStopped.complete(null))
            .thenApply(ok -> Done.done()));
    // On SIGTERM Akka's own hook runs coordinated shutdown; this one holds the JVM until the task
    // above stopped the services, and stops them itself if coordinated shutdown never got there.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    embeddedStopped.get(EMBEDDED_STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
                  } catch (Exception e) {
                    log.warn("coordinated shutdown did not stop the embedded services within {}; stopping them now", EMBEDDED_STOP_WAIT);
                    embedded.close();
                  }
                },
                "await-embedded-services"));
  }

  private static Behavior<Void> root() {
    return Behaviors.setup(
        context -> {
          Node.init(context.getSystem());
          return Behaviors.empty();
        });
  }
}
