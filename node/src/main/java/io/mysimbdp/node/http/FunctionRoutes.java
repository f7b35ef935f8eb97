package io.mysimbdp.node.http;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.functions.FunctionService;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.Tenant;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Tenant functions, category mappings and quality rules, under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * GET    functions                    the tenant's functions
 * PUT    functions/{name}             a new version, made active ({"jsonata"|"cel"|"builtin", "config"}, or a raw
 *                                     application/x-jsonata body); 422 with line/column when it does not compile [limited]
 * GET    functions/{name}             versions, the active one, runtime status (ACTIVE/DISABLED, reason, counts)
 * DELETE functions/{name}             the function and all its versions
 * PUT|POST functions/{name}/active    {"version": n}: roll back (or forward) to version n [limited]
 * POST   functions/{name}/reset       re-enable a DISABLED function [limited]
 * POST   functions/{name}/test        dry run on sample records (JSON array or NDJSON): outputs and errors per record [limited]
 * GET    categories                   the mappings
 * PUT    categories/{category}        {"function": name, "collection": coll}; category "*" applies to unmapped ones
 * GET    categories/{category}        one mapping
 * DELETE categories/{category}
 * GET    quality                      each rule with its counts, pass rate, threshold, acceptable, state
 *                                     (ACTIVE, or DISABLED with disabledReason after repeated bound violations)
 * PUT    quality                      {"rules": [...]}: replaces every rule (counts start again, re-enabled) [limited]
 * PUT    quality/rules/{name}         one rule (its counts start again, re-enabled) [limited]
 * DELETE quality/rules/{name}                                                                      [limited]
 * </pre>
 *
 * Bodies of these routes may be {@code mysimbdp.functions.max-body} (256 KiB) long.
 *
 * <p>[limited]: the calls that run or re-enable tenant code (compile, evaluate, clear a disable)
 * share one token bucket per tenant on each node ({@code mysimbdp.functions.rate-limit}: 10 at
 * once, 30 a minute by default). A call beyond it is refused before its body is read or anything
 * changes: 429 {@code rate_limited} with {@code Retry-After} (seconds) and
 * {@code details.retryAfterSeconds}. A call that fails later (422, 404) has still used its token.
 */
public final class FunctionRoutes extends ApiDirectives implements TenantSubRoutes {
  private final TenantRepository tenants;
  private final FunctionService service;
  /** Dry runs evaluate on the tenant's share of the function threads, like ingestion. */
  private final io.mysimbdp.node.pipeline.FunctionExecutor functions;
  /** Uploads, roll-backs, resets and dry runs: one bucket per tenant. */
  private final RateLimiter limiter;

  public FunctionRoutes(ActorSystem<?> system, Authenticator authenticator, long maxBodyBytes, TenantRepository tenants,
      FunctionService service, RateLimiter limiter) {
    super(authenticator, maxBodyBytes);
    this.tenants = tenants;
    this.service = service;
    this.limiter = limiter;
    // Dry runs evaluate tenant code (bounded, but up to seconds): never on the HTTP threads.
    this.functions = io.mysimbdp.node.entity.IngestionServices.get(system).functionExecutor();
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return concat(
        pathPrefix("functions", () -> withTenant(tenantId, tenant -> functions(tenantId))),
        pathPrefix("categories", () -> withTenant(tenantId, tenant -> categories(tenantId))),
        pathPrefix("quality", () -> withTenant(tenantId, tenant -> quality(tenantId))));
  }

  private Route functions(String tenantId) {
    return concat(
        pathEndOrSingleSlash(() -> get(() -> onSuccess(service.list(tenantId), this::ok))),
        pathPrefix(PathMatchers.segment(), name -> concat(
            pathEndOrSingleSlash(() -> concat(
                put(() -> limited(tenantId, () -> functionBody(spec -> onSuccess(service.upload(tenantId, name, spec),
                    created -> completeJson(StatusCodes.CREATED, created))))),
                get(() -> onSuccess(service.describe(tenantId, name), this::ok)),
                delete(() -> onSuccess(service.delete(tenantId, name), this::ok)))),
            path("active", () -> concat(
                put(() -> limited(tenantId, () -> activate(tenantId, name))),
                post(() -> limited(tenantId, () -> activate(tenantId, name))))),
            path("reset", () -> post(() -> limited(tenantId, () -> onSuccess(service.reset(tenantId, name), this::ok)))),
            path("test", () -> post(() -> limited(tenantId, () -> dryRun(tenantId, name)))))));
  }

  /** The tenant's token bucket for the calls that run or re-enable its code (see the class comment). */
  private Route limited(String tenantId, java.util.function.Supplier<Route> inner) {
    return rateLimited(limiter, tenantId, "uploads, roll-backs, resets and dry runs of functions", inner);
  }

  private Route dryRun(String tenantId, String name) {
    return parameterOptional("version", version -> strictBody(body -> onSuccess(
        service.dryRun(tenantId, name, version.map(FunctionRoutes::version).orElse(null), mediaType(body),
            body.bytes().toArray(), functions.forTenant(tenantId)),
        this::ok)));
  }

  private Route categories(String tenantId) {
    return concat(
        pathEndOrSingleSlash(() -> get(() -> onSuccess(service.categories(tenantId), this::ok))),
        path(PathMatchers.segment(), category -> concat(
            put(() -> controlBody(Map.class, false, mapping -> onSuccess(
                service.putCategory(tenantId, category, cast(mapping)), this::ok))),
            get(() -> onSuccess(service.category(tenantId, category), this::ok)),
            delete(() -> onSuccess(service.deleteCategory(tenantId, category), this::ok)))));
  }

  private Route quality(String tenantId) {
    return concat(
        pathEndOrSingleSlash(() -> concat(
            get(() -> onSuccess(service.quality(tenantId), this::ok)),
            put(() -> qualityLimited(tenantId, () -> controlBody(Map.class, true, rules -> onSuccess(service.putQuality(tenantId, cast(rules)), this::ok)))))),
        path(PathMatchers.segment("rules").slash(PathMatchers.segment()), rule -> concat(
            put(() -> qualityLimited(tenantId, () -> controlBody(Map.class, true, definition -> onSuccess(
                service.putQualityRule(tenantId, rule, cast(definition)), this::ok)))),
            delete(() -> qualityLimited(tenantId, () -> onSuccess(service.deleteQualityRule(tenantId, rule), this::ok))))));
  }

  /**
   * The same bucket for the quality write routes: each compiles the tenant's CEL, and replacing a
   * rule is what re-enables one disabled for its bounds.
   */
  private Route qualityLimited(String tenantId, java.util.function.Supplier<Route> inner) {
    return rateLimited(limiter, tenantId, "uploads, roll-backs, resets and dry runs of functions and changes of quality rules", inner);
  }

  private Route ok(Object body) {
    return completeJson(StatusCodes.OK, body);
  }

  private Route activate(String tenantId, String name) {
    return controlBody(Map.class, false, body -> {
      Object version = body.get("version");
      if (!(version instanceof Number n) || n.longValue() < 1 || n.doubleValue() != n.longValue() || body.size() != 1) {
        throw new ApiException(400, "invalid_field", "the body must be {\"version\": n} with a version number n >= 1",
            Map.of("field", "version"));
      }
      return onSuccess(service.activate(tenantId, name, n.longValue()), this::ok);
    });
  }

  /** A function definition: JSON (a FunctionSpec) or a raw JSONata source. */
  private Route functionBody(Function<Map<String, Object>, Route> inner) {
    return extractRequestEntity(entity -> {
      String mediaType = entity.getContentType().mediaType().toString().toLowerCase(Locale.ROOT);
      if (mediaType.equals("application/x-jsonata")) {
        return strictBody(body -> inner.apply(Map.of("jsonata", body.bytes().decodeString(StandardCharsets.UTF_8))));
      }
      return controlBody(Map.class, true, map -> inner.apply(cast(map)));
    });
  }

  private static String mediaType(Body body) {
    return body.contentType().mediaType().toString().toLowerCase(Locale.ROOT);
  }

  private static Long version(String raw) {
    try {
      long v = Long.parseLong(raw);
      if (v >= 1) {
        return v;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ApiException(400, "invalid_version", "version must be a whole number >= 1");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> map) {
    return (Map<String, Object>) map;
  }

  private Route withTenant(String tenantId, Function<Tenant, Route> inner) {
    return onSuccess(tenants.find(tenantId), tenant -> tenant.map(inner).orElseGet(() ->
        error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + tenantId + "'")));
  }
}
