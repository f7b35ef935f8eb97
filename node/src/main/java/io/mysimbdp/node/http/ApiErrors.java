package io.mysimbdp.node.http;

import io.mysimbdp.node.errors.Refusal;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.pattern.AskTimeoutException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.mongodb.MongoTimeoutException;
import io.mysimbdp.protocol.ApiError;
import io.mysimbdp.protocol.ProtocolJson;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one error shape of the API ({@link ApiError}) for every failure: the platform's own checks,
 * Akka HTTP's rejections (unknown route, wrong method, ...) and exceptions.
 */
public final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  private ApiErrors() {}

  public static HttpResponse response(StatusCode status, String code, String message) {
    return response(status, code, message, Map.of());
  }

  public static HttpResponse response(StatusCode status, String code, String message, Map<String, Object> details) {
    ApiError error = new ApiError(status.intValue(), code, message, details);
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, ProtocolJson.JSON.writeValueAsBytes(error)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an ApiError always serialises", e);
    }
  }

  /** {@code response} with {@code Retry-After}: a 503 the client is to send again. */
  private static HttpResponse retryLater(HttpResponse response) {
    return response.addHeader(akka.http.javadsl.model.headers.RetryAfter.create(1L));
  }

  /** The one status each kind of refusal from the services below the HTTP layer gets. */
  public static StatusCode statusFor(Refusal.Kind kind) {
    return switch (kind) {
      case INVALID -> StatusCodes.BAD_REQUEST;
      case NOT_FOUND -> StatusCodes.NOT_FOUND;
      case CONFLICT -> StatusCodes.CONFLICT;
      case GONE -> StatusCodes.GONE;
      case TOO_LARGE -> StatusCodes.PAYLOAD_TOO_LARGE;
      case UNSUPPORTED_MEDIA_TYPE -> StatusCodes.UNSUPPORTED_MEDIA_TYPE;
      case UNPROCESSABLE -> StatusCodes.UNPROCESSABLE_ENTITY;
      case TOO_MANY_REQUESTS -> StatusCodes.TOO_MANY_REQUESTS;
      case UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
    };
  }

  /** The machine-readable code for a status that no more specific code was given for. */
  public static String codeFor(StatusCode status) {
    return switch (status.intValue()) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 406 -> "not_acceptable";
      case 408 -> "request_timeout";
      case 409 -> "conflict";
      case 413 -> "payload_too_large";
      case 414 -> "uri_too_long";
      case 415 -> "unsupported_media_type";
      case 422 -> "unprocessable_entity";
      case 429 -> "too_many_requests";
      case 503 -> "unavailable";
      default -> status.isFailure() && status.intValue() >= 500 ? "internal_error" : "error";
    };
  }

  /** Akka HTTP's default rejection handling, with every plain-text body turned into an ApiError. */
  public static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              if (response.entity() instanceof HttpEntity.Strict strict
                  && !strict.getContentType().equals(ContentTypes.APPLICATION_JSON)) {
                String message = strict.getData().utf8String();
                return response(response.status(), codeFor(response.status()), message.isBlank()
                    ? response.status().reason()
                    : message);
              }
              return response;
            });
  }

  public static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .matchAny(e -> akka.http.javadsl.server.Directives.complete(responseFor(e)))
        .build();
  }

  public static HttpResponse responseFor(Throwable failure) {
    Throwable e = failure;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof ApiException api) {
      return response(StatusCodes.get(api.status()), api.code(), api.getMessage(), api.details());
    }
    if (e instanceof Refusal refusal) {
      return response(statusFor(refusal.kind()), refusal.code(), refusal.getMessage(), refusal.details());
    }
    if (e instanceof EntityStreamSizeException size) {
      return response(
          StatusCodes.PAYLOAD_TOO_LARGE,
          "payload_too_large",
          "the request body is larger than this route accepts (" + size.limit() + " bytes)",
          Map.of("limitBytes", size.limit()));
    }
    if (e instanceof akka.http.scaladsl.model.EntityStreamException stream
        && stream.info().summary().startsWith("Request too large")) {
      // toStrict on a body whose Content-Length is already over the limit fails this way.
      return response(StatusCodes.PAYLOAD_TOO_LARGE, "payload_too_large", stream.info().summary());
    }
    if (e instanceof AskTimeoutException || e instanceof TimeoutException || e instanceof MongoTimeoutException) {
      log.warn("request timed out: {}", e.toString());
      return retryLater(response(StatusCodes.SERVICE_UNAVAILABLE, "unavailable", "the platform did not answer in time; retry later"));
    }
    if (e instanceof com.mongodb.MongoSocketException || e instanceof com.mongodb.MongoConnectionPoolClearedException
        || e instanceof com.mongodb.MongoServerUnavailableException || e instanceof com.mongodb.MongoNotPrimaryException
        || e instanceof com.mongodb.MongoNodeIsRecoveringException) {
      // The store went away under the request (restarted, a failover): nothing was decided, send it again.
      log.warn("request failed, the store is unreachable: {}", e.toString());
      return retryLater(response(StatusCodes.SERVICE_UNAVAILABLE, "store_unavailable", "the store is not reachable; retry later"));
    }
    log.error("request failed", e);
    return response(StatusCodes.INTERNAL_SERVER_ERROR, "internal_error", "the request failed on the server");
  }
}
