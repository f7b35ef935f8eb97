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

  /** Every API route, sealed with the JSON error handlers. */
  public static Route root(TenantRoutes tenantRoutes, List<TenantSubRoutes> featureRoutes) {
    ApiServer d = new ApiServer();
    Route api =
        d.pathPrefix(
            PathMatchers.segment("v1").slash("tenants"),
            () -> tenantRoutes.authenticated(caller -> tenantRoutes.routes(caller, featureRoutes)));
    return d.handleExceptions(
        ApiErrors.exceptionHandler(),
        () -> d.handleRejections(ApiErrors.rejectionHandler(), () -> api));
  }

  public static CompletionStage<ServerBinding> start(ActorSystem<?> system, String host, int port, Route route) {
    CompletionStage<ServerBinding> binding = Http.get(system).newServerAt(host, port).bind(route);
    return binding.whenComplete(
        (bound, failure) -> {
          if (bound != null) {
            bound.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            InetSocketAddress address = bound.localAddress();
            system.log().info("tenant API listening on http://{}:{}/v1", host, address.getPort());
          } else {
            system.log().error("could not bind the tenant API on {}:{}, stopping: {}", host, port, failure.toString());
            system.terminate();
          }
        });
  }
}
