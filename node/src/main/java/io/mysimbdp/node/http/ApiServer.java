package io.mysimbdp.node.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.List;

/** Binds the tenant API; the binding is released by coordinated shutdown. */
public final class ApiServer extends AllDirectives {

  private ApiServer() {}

  /** Whether this system's tenant API is bound (and not yet unbound by shutdown). */
  public static boolean isServing(ActorSystem<?> system) {
    return Serving.ID.apply(system).bound;
  }

  /** Per-system flag: set when the API is bound, cleared when coordinated shutdown unbinds it. */
  private static final class Serving implements akka.actor.typed.Extension {
    static final akka.actor.typed.ExtensionId<Serving> ID =
        new akka.actor.typed.ExtensionId<>() {
          @Override
          public Serving createExtension(ActorSystem<?> system) {
            return new Serving();
          }
        };

    volatile boolean bound;
  }

  /**
   * Every API route, sealed with the JSON error handlers: the public OpenAPI document at
   * {@code GET /v1/openapi.json}, and the tenant routes, which all need a key. CORS wraps both, so
   * that errors too reach a page on an allowed origin.
   */
  public static Route root(TenantRoutes tenantRoutes, List<TenantSubRoutes> featureRoutes, Cors cors) {
    ApiServer d = new ApiServer();
    byte[] openApi = OpenApiDocument.json();
    Route api =
        d.concat(
            d.path(PathMatchers.segment("v1").slash("openapi.json"), () -> d.get(() -> d.complete(OpenApiDocument.response(openApi)))),
            d.pathPrefix(
                PathMatchers.segment("v1").slash("tenants"),
                () -> tenantRoutes.authenticated(caller -> tenantRoutes.routes(caller, featureRoutes))));
    return cors.handle(() -> d.handleExceptions(
        ApiErrors.exceptionHandler(),
        () -> d.handleRejections(ApiErrors.rejectionHandler(), () -> api)));
  }

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port, Route route) {
    CompletionStage<ServerBinding> binding = Http.get(system).newServerAt(host, port).bind(route);
    return binding.whenComplete(
        (bound, failure) -> {
          if (bound != null) {
            bound.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            Serving serving = Serving.ID.apply(system);
            serving.bound = true;
            akka.actor.CoordinatedShutdown.get(system).addTask(
                akka.actor.CoordinatedShutdown.PhaseBeforeServiceUnbind(), "api-not-ready", () -> {
                  serving.bound = false;
                  return java.util.concurrent.CompletableFuture.completedFuture(akka.Done.getInstance());
                });
            InetSocketAddress address = bound.localAddress();
            system.log().info("tenant API listening on http://{}:{}/v1", host, address.getPort());
          } else {
            system.log().error("could not bind the tenant API on {}:{}, stopping: {}", host, port, failure.toString());
            system.terminate();
          }
        });
  }
}
