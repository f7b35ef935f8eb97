package io.mysimbdp.node.http;

import akka.actor.typed.ActorSystem;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.tenant.TenantRepository;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Report routes under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * GET /reports?from=&amp;to=&amp;limit=  tenant  performance reports that ended in [from, to) (ISO-8601
 *                                    instants; default: the last hour), oldest first, each with
 *                                    the load balancer's decisions about the tenant in its interval
 * GET /stats                     tenant  live figures from the tenant's ingestor on its node
 * </pre>
 */
public final class ReportRoutes extends ApiDirectives implements TenantSubRoutes {
  private static final int DEFAULT_LIMIT = 1_000;
  private static final int MAX_LIMIT = 10_000;
  private static final Duration DEFAULT_WINDOW = Duration.ofHours(1);

  private final ActorSystem<?> system;
  private final TenantRepository tenants;
  private final ReportStore store;
  private final Duration askTimeout;

  public ReportRoutes(ActorSystem<?> system, Authenticator authenticator, NodeSettings settings, TenantRepository tenants, ReportStore store) {
    super(authenticator, settings.maxControlBodyBytes());
    this.system = system;
    this.tenants = tenants;
    this.store = store;
    this.askTimeout = settings.askTimeout();
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return concat(
        path("reports", () -> get(() -> existing(tenantId, () -> reports(tenantId)))),
        path("stats", () -> get(() -> existing(tenantId, () -> stats(tenantId)))));
  }

  private Route reports(String tenantId) {
    return parameterOptional("from", from -> parameterOptional("to", to -> parameterOptional("limit", limit -> {
      Instant end;
      Instant start;
      try {
        end = to.map(Instant::parse).orElseGet(Instant::now);
      } catch (DateTimeParseException e) {
        return badParameter("to", "'to' must be an ISO-8601 instant such as 2026-11-28T10:00:00Z, not '" + to.get() + "'");
      }
      try {
        start = from.map(Instant::parse).orElse(end.minus(DEFAULT_WINDOW));
      } catch (DateTimeParseException e) {
        return badParameter("from", "'from' must be an ISO-8601 instant such as 2026-11-28T09:00:00Z, not '" + from.get() + "'");
      }
      if (!start.isBefore(end)) {
        return badParameter("from", "'from' (" + start + ") must be before 'to' (" + end + ")");
      }
      Optional<Integer> count = limit.flatMap(ReportRoutes::parseLimit);
      if (limit.isPresent() && count.isEmpty()) {
        return badParameter("limit", "'limit' must be a whole number from 1 to " + MAX_LIMIT + ", not '" + limit.get() + "'");
      }
      return onSuccess(store.reports(tenantId, start, end, count.orElse(DEFAULT_LIMIT)), reports -> {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("tenant", tenantId);
        body.put("from", start);
        body.put("to", end);
        body.put("reports", reports);
        return completeJson(StatusCodes.OK, body);
      });
    })));
  }

  private Route stats(String tenantId) {
    return onSuccess(
        ClusterSharding.get(system).entityRefFor(TenantIngestor.ENTITY_KEY, tenantId).ask(TenantIngestor.GetStats::new, askTimeout),
        stats -> completeJson(StatusCodes.OK, stats.stats()));
  }

  private static Optional<Integer> parseLimit(String text) {
    try {
      int n = Integer.parseInt(text);
      return n >= 1 && n <= MAX_LIMIT ? Optional.of(n) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static Route badParameter(String name, String message) {
    return error(StatusCodes.BAD_REQUEST, "invalid_parameter", message, Map.of("parameter", name));
  }

  private Route existing(String tenantId, Supplier<Route> inner) {
    return onSuccess(tenants.find(tenantId), tenant -> tenant.isPresent()
        ? inner.get()
        : error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + tenantId + "'"));
  }
}
