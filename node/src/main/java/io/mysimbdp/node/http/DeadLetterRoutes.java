package io.mysimbdp.node.http;

import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.Route;
import io.mysimbdp.node.pipeline.DeadLetterReplay;
import io.mysimbdp.node.pipeline.DeadLetters;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.Tenant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The tenant's dead letters (records that could not be ingested), under {@code /v1/tenants/{id}}:
 *
 * <pre>
 * GET    dead-letters?stage=&amp;source=&amp;limit=&amp;after=   tenant  a page of dead letters ordered by id (the file id and record
 *                                                   index, or the message id), "next" to continue after; stage one of
 *                                                   parse, type, function, quality, write; source a file or message id
 * POST   dead-letters/replay   tenant  {"stage": "function", "source"?, "limit"? (1..1000, default 1000)}: run the records that
 *                                     failed under a function through the category's current function and quality rules;
 *                                     stored ones leave the dead letters, failing ones stay with the new reason [limited]
 * </pre>
 *
 * <p>Answer of a replay: {@code {"replayed", "stored", "failedAgain", "rejectedByQuality", "remaining"}}: letters
 * taken, records stored, letters that failed again, outputs the quality rules sent to the dead letters (stage
 * quality; their function letter is gone), and the letters of stage function left. Replaying again stores
 * nothing twice (ids are deterministic and a stored letter is removed). A letter whose record was larger
 * than 64 KiB (or was written before records were kept) is listed with {@code "replayable": false}.
 *
 * <p>[limited]: a replay runs tenant code, so it takes a token from the same per-tenant bucket as
 * the function routes ({@code mysimbdp.functions.rate-limit}).
 */
public final class DeadLetterRoutes extends ApiDirectives implements TenantSubRoutes {
  private static final long RETRY_AFTER_SECONDS = 5;
  private static final List<String> STAGES = Arrays.stream(DeadLetters.Stage.values()).map(DeadLetters.Stage::id).toList();

  /** The replay body. */
  public record ReplayRequest(String stage, String source, Integer limit) {}

  private final TenantRepository tenants;
  private final DeadLetterReplay replay;
  private final RateLimiter limiter;

  public DeadLetterRoutes(Authenticator authenticator, long maxControlBodyBytes, TenantRepository tenants, DeadLetterReplay replay,
      RateLimiter limiter) {
    super(authenticator, maxControlBodyBytes);
    this.tenants = tenants;
    this.replay = replay;
    this.limiter = limiter;
  }

  @Override
  public Route routes(Caller caller, String tenantId) {
    return pathPrefix("dead-letters", () -> concat(
        pathEndOrSingleSlash(() -> get(() -> withTenant(tenantId, tenant -> list(tenantId)))),
        path("replay", () -> post(() -> rateLimited(limiter, tenantId, "replays and function calls", () ->
            withTenant(tenantId, tenant -> controlBody(ReplayRequest.class, false, new ReplayRequest(null, null, null),
                request -> replay(tenantId, request))))))));
  }

  private Route list(String tenantId) {
    return parameterOptional("stage", stage -> parameterOptional("source", source -> parameterOptional("limit", limit ->
        parameterOptional("after", after -> {
          if (stage.isPresent() && !STAGES.contains(stage.get())) {
            return error(StatusCodes.BAD_REQUEST, "invalid_parameter", "stage must be one of " + STAGES + ", not '" + stage.get() + "'",
                Map.of("parameter", "stage"));
          }
          int pageSize = limit.map(l -> parseLimit(l, DeadLetterReplay.MAX_LIST)).orElse(DeadLetterReplay.DEFAULT_LIST);
          return onSuccess(replay.list(tenantId, stage, source.filter(s -> !s.isBlank()), pageSize, after.filter(a -> !a.isBlank())),
              page -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("deadLetters", page.deadLetters());
                body.put("next", page.next());
                return completeJson(StatusCodes.OK, body);
              });
        }))));
  }

  private Route replay(String tenantId, ReplayRequest request) {
    String stage = request.stage() == null ? DeadLetters.Stage.FUNCTION.id() : request.stage();
    if (!stage.equals(DeadLetters.Stage.FUNCTION.id())) {
      return error(StatusCodes.UNPROCESSABLE_ENTITY, "stage_not_replayable",
          "only dead letters of stage 'function' can be replayed (a fixed function changes their outcome), not '" + stage + "'",
          Map.of("field", "stage"));
    }
    int limit = DeadLetterReplay.MAX_REPLAY;
    if (request.limit() != null) {
      if (request.limit() < 1 || request.limit() > DeadLetterReplay.MAX_REPLAY) {
        return error(StatusCodes.BAD_REQUEST, "invalid_field", "limit must be from 1 to " + DeadLetterReplay.MAX_REPLAY,
            Map.of("field", "limit"));
      }
      limit = request.limit();
    }
    Optional<String> source = Optional.ofNullable(request.source()).filter(s -> !s.isBlank());
    return onComplete(replay.replay(tenantId, source, limit), result -> {
      if (result.isSuccess()) {
        return completeJson(StatusCodes.OK, result.get());
      }
      Throwable cause = result.failed().get();
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof java.util.concurrent.RejectedExecutionException) {
        // The tenant's queue on the function threads is full (its ingestion is busy). Pages replayed
        // before have left the dead letters; a retry takes the rest.
        return retryLater(StatusCodes.SERVICE_UNAVAILABLE, "functions_busy",
            "the function threads are busy with tenant '" + tenantId + "'; the replay stopped (records stored so far have left "
                + "the dead letters): retry it later", RETRY_AFTER_SECONDS, Map.of());
      }
      return complete(ApiErrors.responseFor(cause));
    });
  }

  private static int parseLimit(String raw, int max) {
    try {
      int limit = Integer.parseInt(raw);
      if (limit >= 1 && limit <= max) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ApiException(400, "invalid_limit", "limit must be a whole number from 1 to " + max);
  }

  private Route withTenant(String tenantId, Function<Tenant, Route> inner) {
    return onSuccess(tenants.find(tenantId), tenant -> tenant.map(inner).orElseGet(() ->
        error(StatusCodes.NOT_FOUND, "tenant_not_found", "there is no tenant '" + tenantId + "'")));
  }
}
