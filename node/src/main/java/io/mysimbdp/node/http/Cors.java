package io.mysimbdp.node.http;

import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpMethods;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Cross-origin access for browser clients (tus-js-client, Uppy) on the origins listed in
 * {@code mysimbdp.http.cors-allowed-origins} ({@code CORS_ALLOWED_ORIGINS}, comma-separated, none by
 * default). A preflight ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method})
 * from a listed origin is answered here, before authentication: it carries no key by design, and it
 * answers only what the browser may send, never data. Every other request from a listed origin goes
 * through the routes as usual (the key is still required) and its answer, errors included, gets
 * {@code Access-Control-Allow-Origin} and the exposed tus headers. Requests from origins not listed
 * (or without {@code Origin}) get no CORS header at all, so the browser keeps them from the page.
 *
 * <p>Hand-written rather than akka-http-cors: that library rejects requests from origins it does not
 * allow (403), whereas here a server-side client that happens to send {@code Origin} is unaffected.
 */
public final class Cors extends AllDirectives {
  /** Request headers a browser client may send: what tus-js-client sends, plus the API's own. */
  static final List<String> ALLOWED_HEADERS = List.of(
      "Authorization", "Content-Type", "Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata",
      "Upload-Defer-Length", "Upload-Concat", "Upload-Checksum", "X-HTTP-Method-Override", "X-Requested-With",
      "Idempotency-Key", "X-Message-Id");
  /** Response headers a page may read: the tus protocol's, and the file id of a completed upload. */
  static final List<String> EXPOSED_HEADERS = List.of(
      "Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata", "Tus-Resumable", "Tus-Version",
      "Tus-Extension", "Tus-Max-Size", "Mysimbdp-File-Id", "Retry-After");
  static final List<String> ALLOWED_METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  /** How long a browser may cache a preflight answer. */
  static final long MAX_AGE_SECONDS = 600;

  private final Set<String> origins;

  private Cors(Set<String> origins) {
    this.origins = origins;
  }

  /** From {@code mysimbdp.http}; an entry that is not an origin ({@code scheme://host[:port]}) fails start-up. */
  public static Cors fromConfig(Config http) {
    return of(http.hasPath("cors-allowed-origins") ? http.getString("cors-allowed-origins") : "");
  }

  static Cors of(String commaSeparated) {
    Set<String> origins = new LinkedHashSet<>();
    for (String raw : commaSeparated.split(",")) {
      String origin = raw.trim();
      if (!origin.isEmpty()) {
        origins.add(normalise(origin));
      }
    }
    return new Cors(Set.copyOf(origins));
  }

  /** The origins allowed, as compared with the request's {@code Origin} (lower case, no trailing slash). */
  public Set<String> origins() {
    return origins;
  }

  private static String normalise(String origin) {
    String trimmed = origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin;
    URI uri;
    try {
      uri = new URI(trimmed);
    } catch (java.net.URISyntaxException e) {
      throw invalid(origin);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
        || (uri.getRawPath() != null && !uri.getRawPath().isEmpty()) || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
      throw invalid(origin);
    }
    return scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
  }

  private static IllegalArgumentException invalid(String origin) {
    return new IllegalArgumentException("mysimbdp.http.cors-allowed-origins (CORS_ALLOWED_ORIGINS): '" + origin
        + "' is not an origin; list origins as scheme://host[:port], e.g. https://app.example.com");
  }

  /** {@code inner}, with CORS for the allowed origins (see the class comment). */
  public Route handle(Supplier<Route> inner) {
    if (origins.isEmpty()) {
      return inner.get();
    }
    return optionalHeaderValueByName("Origin", origin -> {
      Optional<String> allowed = origin.map(String::trim).filter(o -> origins.contains(o.toLowerCase(Locale.ROOT)));
      if (allowed.isEmpty()) {
        // The answer depends on Origin: a cache must not give this one to a listed origin.
        return respondWithHeader(RawHeader.create("Vary", "Origin"), inner);
      }
      return extractRequest(request -> {
        boolean preflight = request.method().equals(HttpMethods.OPTIONS)
            && request.getHeader("Access-Control-Request-Method").isPresent();
        if (preflight) {
          return complete(preflightResponse(allowed.get()));
        }
        return respondWithHeaders(List.of(
            RawHeader.create("Access-Control-Allow-Origin", allowed.get()),
            RawHeader.create("Access-Control-Expose-Headers", String.join(", ", EXPOSED_HEADERS)),
            RawHeader.create("Vary", "Origin")), inner);
      });
    });
  }

  private static HttpResponse preflightResponse(String origin) {
    List<HttpHeader> headers = new ArrayList<>(List.of(
        RawHeader.create("Access-Control-Allow-Origin", origin),
        RawHeader.create("Access-Control-Allow-Methods", String.join(", ", ALLOWED_METHODS)),
        RawHeader.create("Access-Control-Allow-Headers", String.join(", ", ALLOWED_HEADERS)),
        RawHeader.create("Access-Control-Max-Age", Long.toString(MAX_AGE_SECONDS)),
        RawHeader.create("Vary", "Origin")));
    return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT).addHeaders(headers);
  }
}
