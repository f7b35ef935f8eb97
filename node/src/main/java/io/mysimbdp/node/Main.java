package io.mysimbdp.node;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mysimbdp.node.embedded.EmbeddedServices;
import io.mysimbdp.node.tenant.AdminToken;
import java.time.Duration;
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
    // Akka's own hook runs coordinated shutdown on SIGTERM; the embedded services must outlive it,
    // since entities handing off still write to them while the node leaves.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    system.getWhenTerminated().toCompletableFuture().get(EMBEDDED_STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
                  } catch (Exception e) {
                    log.warn("the actor system did not stop within {}; stopping the embedded services anyway", EMBEDDED_STOP_WAIT);
                  }
                  embedded.close();
                },
                "stop-embedded-services"));
  }

  private static Behavior<Void> root() {
    return Behaviors.setup(
        context -> {
          Node.init(context.getSystem());
          return Behaviors.empty();
        });
  }
}
