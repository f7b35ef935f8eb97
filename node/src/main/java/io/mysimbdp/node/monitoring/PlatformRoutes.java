package io.mysimbdp.node.monitoring;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion;
import akka.cluster.sharding.typed.GetClusterShardingStats;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.http.javadsl.marshallers.jackson.Jackson;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.typesafe.config.Config;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.entity.TenantIngestor;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The platform's own monitoring routes on the Akka Management port, next to {@code /ready},
 * {@code /alive} and {@code /cluster/*}; registered in {@code management.conf} under
 * {@code akka.management.http.routes}. All read-only, all non-blocking (asks and store queries on
 * {@link CompletionStage}s):
 *
 * <pre>
 * GET /platform/overview                       what the dashboard polls: nodes, tenants (node, state, throughput,
 *                                              backlog, latency), recent decisions, moves in flight
 * GET /platform/tenants                        each tenant that reported: node, placement, state, throughput,
 *                                              demand, backlog, p50/p99 latency, errors
 * GET /platform/placement                      shard placement: the regions' shards and entities (Cluster Sharding),
 *                                              and per tenant the node it runs on and the one the balancer placed it on
 * GET /platform/decisions?hours=&amp;tenant=&amp;limit=  the balancer's stored decisions with their reasons, newest first
 * GET /platform/reports?minutes=&amp;limit=          recent performance reports of every tenant (the dashboard's history)
 * GET /platform/nodes-wanted                   {"nodesWanted":n,"nodes":m,"reason":...,"since":...}: the nodes the
 *                                              cluster needs by the balancer's reading of the reports (autoscalers)
 * GET /metrics                                 Prometheus text format ({@link PlatformMetrics})
 * GET /dashboard                               the live dashboard page (plain HTML, and /dashboard.js)
 * </pre>
 *
 * They show tenant names and figures to whoever reaches the management port: keep it internal
 * (see SECURITY.md).
 */
public final class PlatformRoutes extends AllDirectives implements ManagementRouteProvider {
  private static final int RECENT_DECISIONS = 30;

  private final ActorSystem<?> system;
  private final Duration askTimeout;
  private final Duration reportInterval;
  private final int maxReports;
  private final int maxDecisions;
  private final PlatformMetrics metrics;
  private final byte[] dashboardHtml;
  private final byte[] dashboardJs;
  private volatile ActorRef<LoadBalancer.Command> balancer;
  private volatile ReportStore reportStore;

  public PlatformRoutes(ExtendedActorSystem classicSystem) {
    this.system = Adapter.toTyped(classicSystem);
    Config config = system.settings().config();
    this.askTimeout = config.getDuration("mysimbdp.monitoring.ask-timeout");
    this.reportInterval = config.getDuration("mysimbdp.reports.interval");
    this.maxReports = config.getInt("mysimbdp.monitoring.max-reports");
    this.maxDecisions = config.getInt("mysimbdp.monitoring.max-decisions");
    this.metrics = new PlatformMetrics(this::selfNode, () -> TenantMeters.get(system).all());
    this.dashboardHtml = resource("/dashboard/index.html");
    this.dashboardJs = resource("/dashboard/dashboard.js");
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    // Nothing here writes: the same routes whether or not the providers are read-only.
    return get(() -> concat(
        path("metrics", this::metricsRoute),
        pathPrefix("platform", () -> concat(
            path("overview", () -> withOverview(o -> json(overviewBody(o)))),
            path("tenants", () -> withOverview(o -> json(Map.of("at", o.at(), "tenants", tenants(o))))),
            path("placement", () -> withOverview(o -> onSuccess(shardingStats(), stats -> json(placement(o, stats))))),
            path("decisions", this::decisionsRoute),
            path("reports", this::reportsRoute),
            path("nodes-wanted", this::nodesWantedRoute))),
        path("dashboard", () -> page(ContentTypes.TEXT_HTML_UTF8, dashboardHtml)),
        path("dashboard.js", () -> page(ContentTypes.create(akka.http.javadsl.model.MediaTypes.APPLICATION_JAVASCRIPT, akka.http.javadsl.model.HttpCharsets.UTF_8), dashboardJs))));
  }

  // ---- routes ---------------------------------------------------------------------------------

  /**
   * The balancer's counts only where it runs (they are summed over nodes): elsewhere the scrape
   * asks it nothing, as its whole overview (every tenant's view: over Artery's frame size at 10,000
   * tenants, so dropped, and the scrape waited for the ask timeout) would only be thrown away.
   */
  private Route metricsRoute() {
    CompletionStage<Optional<LoadBalancer.Overview>> overview =
        balancerRunsHere() ? overview() : java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());
    return onSuccess(overview, o -> complete(HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.parse(PlatformMetrics.contentType()), metrics.scrape(o)))));
  }

  /** Whether the balancer (a cluster singleton) runs here: on the oldest Up member. */
  private boolean balancerRunsHere() {
    Cluster cluster = Cluster.get(system);
    Member self = cluster.selfMember();
    for (Member member : cluster.state().getMembers()) {
      if (!member.equals(self) && member.status() == MemberStatus.up() && member.isOlderThan(self)) {
        return false;
      }
    }
    return true;
  }

  private Route decisionsRoute() {
    return parameterOptional("hours", hours -> parameterOptional("tenant", tenant -> parameterOptional("limit", limit -> {
      Optional<Integer> h = number(hours, 1, 24 * 30, 24);
      Optional<Integer> n = number(limit, 1, maxDecisions, 100);
      if (h.isEmpty()) {
        return badParameter("hours", "'hours' must be a whole number from 1 to 720");
      }
      if (n.isEmpty()) {
        return badParameter("limit", "'limit' must be a whole number from 1 to " + maxDecisions);
      }
      Optional<String> badTenant = tenant.flatMap(io.mysimbdp.protocol.TenantId::problem);
      if (badTenant.isPresent()) {
        return badParameter("tenant", badTenant.get());
      }
      Instant now = Instant.now();
      return onSuccess(store().decisions(tenant.orElse(null), now.minus(Duration.ofHours(h.get())), now.plusSeconds(1), n.get()),
          decisions -> json(Map.of("from", now.minus(Duration.ofHours(h.get())), "to", now, "decisions", decisions)));
    })));
  }

  private Route nodesWantedRoute() {
    CompletionStage<Optional<LoadBalancer.NodesWanted>> asked =
        AskPattern.<LoadBalancer.Command, LoadBalancer.NodesWanted>ask(balancer(), LoadBalancer.GetNodesWanted::new, askTimeout, system.scheduler())
            .thenApply(Optional::of)
            .exceptionally(failure -> Optional.empty());
    return onSuccess(asked, wanted -> wanted.map(w -> {
      // Plain figures first, for autoscalers and scripts that read one field.
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("nodesWanted", w.nodesWanted());
      body.put("nodes", w.nodes());
      body.put("reason", w.reason());
      body.put("since", w.since());
      return json(body);
    }).orElseGet(() -> error(503, "balancer_unavailable",
        "the load balancer did not answer within " + askTimeout.toMillis() + " ms (the cluster may be forming or moving it); try again")));
  }

  private Route reportsRoute() {
    return parameterOptional("minutes", minutes -> parameterOptional("limit", limit -> {
      Optional<Integer> m = number(minutes, 1, 24 * 60, 10);
      Optional<Integer> n = number(limit, 1, maxReports, maxReports);
      if (m.isEmpty()) {
        return badParameter("minutes", "'minutes' must be a whole number from 1 to 1440");
      }
      if (n.isEmpty()) {
        return badParameter("limit", "'limit' must be a whole number from 1 to " + maxReports);
      }
      Instant since = Instant.now().minus(Duration.ofMinutes(m.get()));
      return onSuccess(store().recentReports(since, n.get()), reports -> json(Map.of("since", since, "reports", reports.stream().map(PlatformRoutes::point).toList())));
    }));
  }

  /** One report, as small as the dashboard's chart needs it. */
  private static Map<String, Object> point(PerformanceReport r) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("tenant", r.customerIdentifier());
    p.put("node", r.node());
    p.put("at", r.endReport());
    p.put("throughput", r.throughput());
    p.put("backlog", r.backlog());
    p.put("latencyP99Millis", r.latencyP99Millis());
    return p;
  }

  private Route page(ContentType type, byte[] body) {
    List<HttpHeader> headers = List.of(
        RawHeader.create("Cache-Control", "no-store"),
        RawHeader.create("X-Content-Type-Options", "nosniff"),
        RawHeader.create("Content-Security-Policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"));
    return complete(HttpResponse.create().withEntity(HttpEntities.create(type, body)).addHeaders(headers));
  }

  // ---- what they show -------------------------------------------------------------------------

  private Map<String, Object> overviewBody(LoadBalancer.Overview o) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("at", o.at());
    body.put("node", selfNode());
    body.put("balancerNode", o.balancerNode());
    body.put("reportIntervalSeconds", reportInterval.toMillis() / 1000.0);
    body.put("nodes", o.nodes());
    body.put("tenants", tenants(o));
    List<BalancerDecision> recent = new ArrayList<>(o.decisions());
    recent.sort((a, b) -> b.decidedAt().compareTo(a.decidedAt()));
    body.put("decisions", recent.subList(0, Math.min(RECENT_DECISIONS, recent.size())));
    body.put("inFlight", o.inFlight());
    body.put("nodesWanted", o.nodesWanted());
    return body;
  }

  private List<Map<String, Object>> tenants(LoadBalancer.Overview o) {
    Map<String, BalancerDecision> moving = new TreeMap<>();
    o.inFlight().forEach(d -> moving.put(d.tenant(), d));
    Instant silentBefore = o.at().minus(reportInterval.multipliedBy(3));
    List<Map<String, Object>> out = new ArrayList<>();
    for (LoadBalancer.TenantView t : o.tenants()) {
      String state = moving.containsKey(t.tenant()) ? "moving"
          : t.reportedAt() != null && t.reportedAt().isBefore(silentBefore) ? "silent"
          : t.lagging() ? "lagging"
          : "running";
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("tenant", t.tenant());
      v.put("node", t.node());
      v.put("placedOn", t.placedOn());
      v.put("state", state);
      v.put("throughput", t.throughput());
      v.put("demand", t.demand());
      v.put("backlog", t.backlog());
      v.put("latencyP50Millis", t.latencyP50Millis());
      v.put("latencyP99Millis", t.latencyP99Millis());
      v.put("errors", t.errors());
      v.put("lagging", t.lagging());
      v.put("reportedAt", t.reportedAt());
      out.add(v);
    }
    return out;
  }

  private Map<String, Object> placement(LoadBalancer.Overview o, ShardRegion.ClusterShardingStats stats) {
    Map<String, String> runningOn = new TreeMap<>();
    List<Map<String, Object>> regions = new ArrayList<>();
    stats.getRegions().forEach((address, region) -> {
      long entities = 0;
      for (Map.Entry<String, Object> shard : region.getStats().entrySet()) {
        entities += ((Number) shard.getValue()).longValue();
        runningOn.put(shard.getKey(), address.toString());
      }
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("node", address.toString());
      r.put("shards", region.getStats().size());
      r.put("entities", entities);
      r.put("unresponsiveShards", new TreeSet<>(region.getFailed()));
      regions.add(r);
    });
    regions.sort((a, b) -> ((String) a.get("node")).compareTo((String) b.get("node")));
    Map<String, LoadBalancer.TenantView> views = new TreeMap<>();
    o.tenants().forEach(t -> views.put(t.tenant(), t));
    Map<String, BalancerDecision> moving = new TreeMap<>();
    o.inFlight().forEach(d -> moving.put(d.tenant(), d));
    TreeSet<String> all = new TreeSet<>(runningOn.keySet());
    all.addAll(views.keySet());
    List<Map<String, Object>> tenants = new ArrayList<>();
    for (String tenant : all) {
      LoadBalancer.TenantView view = views.get(tenant);
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("tenant", tenant);
      t.put("shard", tenant);
      t.put("runningOn", runningOn.get(tenant));
      t.put("placedOn", view == null ? null : view.placedOn());
      t.put("reportedFrom", view == null ? null : view.node());
      t.put("moving", moving.containsKey(tenant) ? moving.get(tenant).to() : null);
      tenants.add(t);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("at", o.at());
    body.put("entityType", TenantIngestor.ENTITY_KEY.name());
    body.put("balancerNode", o.balancerNode());
    body.put("regions", regions);
    body.put("tenants", tenants);
    return body;
  }

  // ---- sources --------------------------------------------------------------------------------

  private CompletionStage<Optional<LoadBalancer.Overview>> overview() {
    return AskPattern.<LoadBalancer.Command, LoadBalancer.Overview>ask(balancer(), LoadBalancer.GetOverview::new, askTimeout, system.scheduler())
        .thenApply(Optional::of)
        .exceptionally(failure -> Optional.empty());
  }

  private Route withOverview(Function<LoadBalancer.Overview, Route> inner) {
    return onSuccess(overview(), o -> o.map(inner).orElseGet(() -> error(503, "balancer_unavailable",
        "the load balancer did not answer within " + askTimeout.toMillis() + " ms (the cluster may be forming or moving it); try again")));
  }

  private CompletionStage<ShardRegion.ClusterShardingStats> shardingStats() {
    return AskPattern.<akka.cluster.sharding.typed.ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
        ClusterSharding.get(system).shardState(),
        replyTo -> new GetClusterShardingStats(TenantIngestor.ENTITY_KEY, askTimeout, replyTo),
        askTimeout.plusSeconds(1), system.scheduler());
  }

  private ActorRef<LoadBalancer.Command> balancer() {
    ActorRef<LoadBalancer.Command> ref = balancer;
    if (ref == null) {
      ref = LoadBalancer.proxy(system);
      balancer = ref;
    }
    return ref;
  }

  private ReportStore store() {
    ReportStore store = reportStore;
    if (store == null) {
      store = new ReportStore(CoreDms.get(system));
      reportStore = store;
    }
    return store;
  }

  private String selfNode() {
    return Cluster.get(system).selfMember().address().toString();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private Route json(Object body) {
    return complete(StatusCodes.OK, body, Jackson.marshaller(io.mysimbdp.protocol.ProtocolJson.JSON));
  }

  private Route badParameter(String name, String message) {
    return error(400, "invalid_parameter", message + " (parameter '" + name + "')");
  }

  private Route error(int status, String code, String message) {
    return complete(io.mysimbdp.node.http.ApiErrors.response(StatusCodes.get(status), code, message));
  }

  private static Optional<Integer> number(Optional<String> text, int min, int max, int otherwise) {
    if (text.isEmpty()) {
      return Optional.of(otherwise);
    }
    try {
      int n = Integer.parseInt(text.get());
      return n >= min && n <= max ? Optional.of(n) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in = PlatformRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
