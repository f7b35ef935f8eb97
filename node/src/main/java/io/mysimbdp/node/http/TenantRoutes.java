package io.mysimbdp.node.http;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.NodeSettings;
import akka.actor.typed.javadsl.AskPattern;
import akka.pattern.StatusReply;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.MoveRequest;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.node.stream.StreamTopology;
import io.mysimbdp.protocol.CreateTenantRequest;
import io.mysimbdp.protocol.CreatedTenant;
import io.mysimbdp.protocol.IngestorStatus;
import io.mysimbdp.protocol.Tenant;
import io.mysimbdp.protocol.TenantConstraints;
import io.mysimbdp.protocol.TenantId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Tenant administration and profile routes under {@code /v1/tenants}:
 *
 * <pre>
 * POST /v1/tenants                       admin   create, answers the API key (and broker credentials) once
 * GET  /v1/tenants                       admin   list
 * GET  /v1/tenants/{id}                  tenant  profile
 * GET  /v1/tenants/{id}/constraints      tenant  constraints
 * PUT  /v1/tenants/{id}/constraints      admin   replace constraints (JSON or YAML)
 * POST /v1/tenants/{id}/api-key          admin   issue a new key, the old one stops working
 * GET  /v1/tenants/{id}/ingestor         tenant  the node the tenant's ingestor runs on
 * POST /v1/tenants/{id}/move             admin   move the tenant to a node ({"node": address}): 202 with the
 *                                                balancer's decision; 409 when refused
 * </pre>
 */
public final class TenantRoutes extends ApiDirectives {
  private static final int LIST_LIMIT = 1000;

  private final ActorSystem<?> system;
  private final TenantRepository tenants;
  private final NodeSettings settings;
  private final Duration askTimeout;
  private final StreamTopology streamTopology;

  public TenantRoutes(
      ActorSystem<?> system, TenantRepository tenants, Authenticator authenticator, NodeSettings settings, StreamTopology streamTopology) {
    super(authenticator, settings.maxControlBodyBytes());
    this.system = system;
    this.tenants = tenants;
    this.settings = settings;
    this.askTimeout = settings.askTimeout();
    this.streamTopology = streamTopology;
  }

  /** Routes under {@code /v1/tenants}, for the caller already authenticated. */
  public Route routes(Caller caller, List<TenantSubRoutes> featureRoutes) {
    return concat(
        pathEndOrSingleSlash(
            () ->
                adminOnly(
                    caller,
                    () ->
                        concat(
                            post(() -> controlBody(CreateTenantRequest.class, false, this::createTenant)),
                            get(() -> onSuccess(tenants.list(LIST_LIMIT), list -> completeJson(StatusCodes.OK, list)))))),
        pathPrefix(
            PathMatchers.segment(),
            id ->
                forTenant(
                    caller,
                    id,
                    () ->
                        concat(
                            pathEndOrSingleSlash(() -> get(() -> withTenant(id, t -> completeJson(StatusCodes.OK, t)))),
                            path("constraints", () -> constraints(caller, id)),
                            path("api-key", () -> post(() -> adminOnly(caller, () -> rotateKey(id)))),
                            path("ingestor", () -> get(() -> withTenant(id, t -> ingestorStatus(id)))),
                            path("move", () -> post(() -> adminOnly(caller, () -> controlBody(MoveRequest.class, false, move -> withTenant(id, t -> move(id, move)))))),
                            featureRoutes(caller, id, featureRoutes)))));
  }

  private Route featureRoutes(Caller caller, String id, List<TenantSubRoutes> featureRoutes) {
    if (featureRoutes.isEmpty()) {
      return reject();
    }
    Route[] routes = featureRoutes.stream().map(r -> r.routes(caller, id)).toArray(Route[]::new);
    return concat(routes[0], java.util.Arrays.copyOfRange(routes, 1, routes.length));
  }

  private Route createTenant(CreateTenantRequest request) {
    Optional<String> problem = TenantId.problem(request.id());
    if (problem.isPresent()) {
      return error(StatusCodes.BAD_REQUEST, "invalid_tenant_id", problem.get(), Map.of("field", "id"));
    }
    return onSuccess(
        tenants.create(request.id()),
        result ->
            result instanceof TenantRepository.Created created
                ? onSuccess(withStreamTopology(created.tenant()).thenCompose(answer -> placed(request.id()).thenApply(p -> answer)),
                    answer -> completeJson(StatusCodes.CREATED, answer))
                : error(StatusCodes.CONFLICT, "tenant_exists", "tenant '" + request.id() + "' already exists"));
  }

  /**
   * Where the broker has per-tenant users, declares the new tenant's queues and creates its broker
   * user now (shown once, like the key): the tenant may publish straight to its exchange at once.
   * Elsewhere (the embedded broker) a tenant publishes over HTTP, and its queues are declared on
   * first use — the stream's start, the first publish, or credentials issued — which keeps the
   * broker's work out of creation (most of its cost: 10,000 tenants in 94 s with it). A broker that
   * is down does not fail the creation: the topology is declared on first use, and the admin can
   * issue credentials later.
   */
  private CompletionStage<CreatedTenant> withStreamTopology(CreatedTenant created) {
    String id = created.tenant().id();
    CompletionStage<Void> declared = streamTopology.hasTenantUsers() ? streamTopology.declare(id) : CompletableFuture.completedFuture(null);
    return declared
        .thenCompose(ok -> streamTopology.issueCredentials(id))
        .thenApply(created::withBroker)
        .exceptionally(
            failure -> {
              system.log().warn("tenant {} created, but its stream topology or broker user is not (yet): {}", id, failure.toString());
              return created;
            });
  }

  /**
   * Has the load balancer place the new tenant before it is answered, so that its first request
   * starts it on the least loaded node. Without an answer in time the tenant starts where it is
   * first needed, and the balancer takes it from there.
   */
  private CompletionStage<Void> placed(String id) {
    return AskPattern.<LoadBalancer.Command, LoadBalancer.Placed>ask(
            LoadBalancer.proxy(system), replyTo -> new LoadBalancer.Place(id, replyTo), askTimeout, system.scheduler())
        .handle((placed, failure) -> {
          if (failure != null) {
            system.log().warn("tenant {} created, but the load balancer did not place it in time: {}", id, failure.toString());
          }
          return null;
        });
  }

  private Route constraints(Caller caller, String id) {
    return concat(
        get(() -> withTenant(id, t -> completeJson(StatusCodes.OK, t.constraints()))),
        put(
            () ->
                adminOnly(
                    caller,
                    () ->
                        controlBody(
                            TenantConstraints.class,
                            true,
                            requested -> {
                              List<String> problems = requested.problems();
                              if (!problems.isEmpty()) {
                                return error(
                                    StatusCodes.UNPROCESSABLE_ENTITY,
                                    "invalid_constraints",
                                    String.join("; ", problems),
                                    Map.of("problems", problems));
                              }
                              TenantConstraints effective = requested.withDefaults(settings.defaultConstraints());
                              return onSuccess(
                                  tenants.updateConstraints(id, effective),
                                  updated ->
                                      updated
                                          .map(t -> completeJson(StatusCodes.OK, t.constraints()))
                                          .orElseGet(() -> noSuchTenant(id)));
                            }))));
  }

  private Route rotateKey(String id) {
    return onSuccess(
        tenants.rotateKey(id),
        key ->
            key.map(k -> completeJson(StatusCodes.OK, Map.of("tenant", id, "apiKey", k)))
                .orElseGet(() -> noSuchTenant(id)));
  }

  private Route move(String id, MoveRequest request) {
    if (request.node() == null || request.node().isBlank()) {
      return error(StatusCodes.BAD_REQUEST, "invalid_node", "'node' must name a cluster member, e.g. akka://mysimbdp@127.0.0.1:2552", Map.of("field", "node"));
    }
    CompletionStage<BalancerDecision> moved =
        AskPattern.<LoadBalancer.Command, StatusReply<LoadBalancer.Moved>>ask(
                LoadBalancer.proxy(system), replyTo -> new LoadBalancer.Move(id, request.node(), replyTo), askTimeout, system.scheduler())
            .thenApply(reply -> reply.getValue().decision());
    return onComplete(moved, result -> {
      if (result.isSuccess()) {
        return completeJson(StatusCodes.ACCEPTED, result.get());
      }
      Throwable cause = result.failed().get() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : result.failed().get();
      if (cause instanceof StatusReply.ErrorMessage refused) {
        return error(StatusCodes.CONFLICT, "move_refused", refused.getMessage());
      }
      return complete(ApiErrors.responseFor(cause));
    });
  }

  private Route ingestorStatus(String id) {
    return onSuccess(
        ClusterSharding.get(system)
            .entityRefFor(TenantIngestor.ENTITY_KEY, id)
            .ask(TenantIngestor.GetStatus::new, askTimeout),
        status -> completeJson(StatusCodes.OK, new IngestorStatus(status.tenant(), status.node(), status.startedAt())));
  }

  /** Runs {@code inner} with the tenant's profile, or answers 404. */
  private Route withTenant(String id, Function<Tenant, Route> inner) {
    return onSuccess(tenants.find(id), tenant -> tenant.map(inner).orElseGet(() -> noSuchTenant(id)));
  }

  private static Route noSuchTenant(String id) {
    return error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + id + "'");
  }
}
