package io.mysimbdp.node.http;

import akka.http.javadsl.marshallers.jackson.Jackson;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.Authorization;
import akka.http.javadsl.model.headers.HttpChallenge;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.model.headers.WWWAuthenticate;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.TenantId;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What every API route does the same way: authenticate the bearer token, check the tenant in the
 * path against the caller, read a bounded JSON or YAML body, and answer in the one error shape.
 */
public abstract class ApiDirectives extends AllDirectives {
  private static final List<String> YAML_MEDIA_TYPES =
      List.of("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml");
  private static final Duration BODY_READ_TIMEOUT = Duration.ofSeconds(10);

  protected final Authenticator authenticator;
  protected final long maxControlBodyBytes;

  protected ApiDirectives(Authenticator authenticator, long maxControlBodyBytes) {
    this.authenticator = authenticator;
    this.maxControlBodyBytes = maxControlBodyBytes;
  }

  protected static Route error(StatusCode status, String code, String message) {
    return Directives.complete(ApiErrors.response(status, code, message));
  }

  protected static Route error(StatusCode status, String code, String message, Map<String, Object> details) {
    return Directives.complete(ApiErrors.response(status, code, message, details));
  }

  /**
   * 429 or 503 with {@code Retry-After} (seconds) and the error body's {@code details.retryAfterSeconds}
   * (with {@code details} besides).
   */
  protected static Route retryLater(
      StatusCode status, String code, String message, long retryAfterSeconds, Map<String, Object> details) {
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("retryAfterSeconds", retryAfterSeconds);
    all.putAll(details);
    return Directives.respondWithHeader(
        RawHeader.create("Retry-After", Long.toString(retryAfterSeconds)), () -> error(status, code, message, all));
  }

  /**
   * {@code inner} if {@code limiter} has a token for {@code key}; otherwise 429 {@code rate_limited}
   * with Retry-After, the message naming {@code what} is limited. Nothing of the request is read.
   */
  protected static Route rateLimited(RateLimiter limiter, String key, String what, Supplier<Route> inner) {
    RateLimiter.Decision decision = limiter.tryAcquire(key);
    if (decision.allowed()) {
      return inner.get();
    }
    RateLimiter.Settings limit = limiter.settings();
    Number perMinute = limit.perMinute() == Math.rint(limit.perMinute()) ? (Number) (long) limit.perMinute() : limit.perMinute();
    return retryLater(
        StatusCodes.TOO_MANY_REQUESTS,
        "rate_limited",
        "too many " + what + " for tenant '" + key + "': at most " + limit.burst() + " at once and " + perMinute
            + " a minute on this node; retry in " + decision.retryAfterSeconds() + " s",
        decision.retryAfterSeconds(),
        Map.of("perMinute", perMinute, "burst", limit.burst()));
  }

  protected static Route completeJson(StatusCode status, Object body) {
    return Directives.complete(status, body, Jackson.marshaller(ProtocolJson.JSON));
  }

  /** Requires a valid bearer token; 401 without one. */
  protected Route authenticated(Function<Caller, Route> inner) {
    return optionalHeaderValueByType(
        Authorization.class,
        header -> {
          Optional<String> token =
              header
                  .filter(h -> h.credentials().scheme().equalsIgnoreCase("bearer"))
                  .map(h -> h.credentials().token())
                  .filter(t -> !t.isBlank());
          if (token.isEmpty()) {
            return unauthorized("missing_credentials", "send 'Authorization: Bearer <api key>'");
          }
          return onSuccess(
              authenticator.authenticate(token.get()),
              caller ->
                  caller
                      .map(inner)
                      .orElseGet(() -> unauthorized("invalid_credentials", "the API key or admin token is not valid")));
        });
  }

  private static Route unauthorized(String code, String message) {
    HttpHeader challenge = WWWAuthenticate.create(HttpChallenge.create("Bearer", "mysimbdp"));
    return Directives.respondWithHeader(challenge, () -> error(StatusCodes.UNAUTHORIZED, code, message));
  }

  /**
   * A route under {@code /v1/tenants/{id}}: the id must be valid (400) and the caller the tenant
   * itself or the admin (403; the same answer whether or not that tenant exists).
   */
  protected static Route forTenant(Caller caller, String tenantId, Supplier<Route> inner) {
    Optional<String> problem = TenantId.problem(tenantId);
    if (problem.isPresent()) {
      return error(StatusCodes.BAD_REQUEST, "invalid_tenant_id", problem.get());
    }
    if (!caller.mayAccess(tenantId)) {
      return error(StatusCodes.FORBIDDEN, "forbidden", "this API key does not grant access to tenant '" + tenantId + "'");
    }
    return inner.get();
  }

  protected static Route adminOnly(Caller caller, Supplier<Route> inner) {
    if (!(caller instanceof Caller.Admin)) {
      return error(StatusCodes.FORBIDDEN, "admin_only", "only the platform admin may do this");
    }
    return inner.get();
  }

  /** Reads the whole body, at most {@code maxControlBodyBytes} (413 beyond). */
  protected Route strictBody(Function<Body, Route> inner) {
    return strictBody(maxControlBodyBytes, inner);
  }

  /** Reads the whole body, at most {@code maxBytes} (413 beyond). */
  protected Route strictBody(long maxBytes, Function<Body, Route> inner) {
    return extractMaterializer(
        materializer ->
            extractRequestEntity(
                entity ->
                    onSuccess(
                        entity.withSizeLimit(maxBytes).toStrict(BODY_READ_TIMEOUT.toMillis(), materializer),
                        strict -> inner.apply(new Body(strict.getContentType(), strict.getData())))));
  }

  /** A bounded JSON (or, where allowed, YAML) body read as {@code type}; 400/415 otherwise. */
  protected <T> Route controlBody(Class<T> type, boolean yamlAllowed, Function<T, Route> inner) {
    return controlBody(type, yamlAllowed, null, inner);
  }

  /** Like {@link #controlBody(Class, boolean, Function)}, with {@code whenEmpty} for no body at all. */
  protected <T> Route controlBody(Class<T> type, boolean yamlAllowed, T whenEmpty, Function<T, Route> inner) {
    return strictBody(
        body -> {
          if (body.bytes().isEmpty() && whenEmpty != null) {
            return inner.apply(whenEmpty);
          }
          String mediaType = body.contentType().mediaType().toString().toLowerCase(Locale.ROOT);
          ObjectMapper mapper;
          if (mediaType.equals("application/json")) {
            mapper = ProtocolJson.JSON;
          } else if (yamlAllowed && YAML_MEDIA_TYPES.contains(mediaType)) {
            mapper = ProtocolJson.YAML;
          } else {
            String accepted = yamlAllowed ? "application/json or application/yaml" : "application/json";
            return error(
                StatusCodes.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "this route reads " + accepted + ", not " + mediaType);
          }
          if (body.bytes().isEmpty()) {
            return error(StatusCodes.BAD_REQUEST, "malformed_body", "the request body is empty");
          }
          T value;
          try {
            value = mapper.readValue(body.bytes().toArray(), type);
          } catch (UnrecognizedPropertyException e) {
            return error(
                StatusCodes.BAD_REQUEST,
                "unknown_field",
                "unknown field '" + e.getPropertyName() + "'",
                Map.of("field", e.getPropertyName()));
          } catch (MismatchedInputException e) {
            String field = fieldPath(e);
            return error(
                StatusCodes.BAD_REQUEST,
                "invalid_field",
                (field.isEmpty() ? "the body" : "field '" + field + "'") + " has the wrong type: " + e.getOriginalMessage(),
                field.isEmpty() ? Map.of() : Map.of("field", field));
          } catch (JsonProcessingException e) {
            Map<String, Object> position =
                e.getLocation() == null
                    ? Map.of()
                    : Map.of("line", e.getLocation().getLineNr(), "column", e.getLocation().getColumnNr());
            return error(
                StatusCodes.BAD_REQUEST, "malformed_body", "the body is not valid: " + e.getOriginalMessage(), position);
          } catch (java.io.IOException e) {
            return error(StatusCodes.BAD_REQUEST, "malformed_body", "the body could not be read: " + e.getMessage());
          }
          if (value == null) {
            return error(StatusCodes.BAD_REQUEST, "malformed_body", "the body must be an object, not null");
          }
          return inner.apply(value);
        });
  }

  private static String fieldPath(MismatchedInputException e) {
    StringBuilder path = new StringBuilder();
    for (var reference : e.getPath()) {
      if (reference.getFieldName() != null) {
        if (path.length() > 0) {
          path.append('.');
        }
        path.append(reference.getFieldName());
      } else if (reference.getIndex() >= 0) {
        path.append('[').append(reference.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  /** A request body read whole. */
  protected record Body(ContentType contentType, ByteString bytes) {}
}
