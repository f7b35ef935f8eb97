package io.mysimbdp.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.node.DaemonThreads;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;

/** A small blocking HTTP client for tests: real requests to a node's API. */
public final class HttpApi {
  /**
   * Shared by the tests' requests; its handlers run on a fixed pool (the default is a cached one,
   * which grows with concurrent requests: the tests that count the node's threads count these too).
   */
  public static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newFixedThreadPool(4, DaemonThreads.named("test-http-")))
          .build();

  public final String baseUrl;
  public final String adminToken;

  public HttpApi(String baseUrl, String adminToken) {
    this.baseUrl = baseUrl;
    this.adminToken = adminToken;
  }

  /** A response with its body parsed as JSON where it is JSON. */
  public record Reply(int status, String body, HttpResponse<String> raw) {
    public JsonNode json() {
      try {
        return ProtocolJson.JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (status " + status + "): " + body, e);
      }
    }

    public String errorCode() {
      return json().path("code").asText();
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  public Reply send(String method, String path, String token, String contentType, byte[] body) {
    return sendBody(
        method,
        path,
        token,
        contentType,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
  }

  public Reply get(String path, String token) {
    return send("GET", path, token, null, null);
  }

  /** Where each tenant's ingestor runs now (as the admin sees it); tenants that do not answer 200 are left out. */
  public java.util.Map<String, String> placements(java.util.Collection<String> tenants) {
    java.util.Map<String, String> placed = new java.util.LinkedHashMap<>();
    for (String tenant : tenants) {
      Reply status = get("/v1/tenants/" + tenant + "/ingestor", adminToken);
      if (status.status() == 200) {
        placed.put(tenant, status.json().path("node").asText());
      }
    }
    return placed;
  }

  /** The messages waiting in the tenant's queue ({@code lag} of its stream); Long.MAX_VALUE when it does not answer. */
  public long streamLag(String tenant, String key) {
    Reply stream = get("/v1/tenants/" + tenant + "/stream", key);
    return stream.status() == 200 ? stream.json().path("lag").asLong() : Long.MAX_VALUE;
  }

  public Reply postJson(String path, String token, String json) {
    return send("POST", path, token, "application/json", json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public Reply putJson(String path, String token, String json) {
    return send("PUT", path, token, "application/json", json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public Reply sendBody(String method, String path, String token, String contentType, HttpRequest.BodyPublisher body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofMinutes(5));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    request.method(method, body);
    try {
      HttpResponse<String> response = CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.body(), response);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Uploads a file's bytes as a staged file of the tenant. */
  public Reply upload(String tenant, String key, String name, String category, String contentType, byte[] bytes) {
    String query = "?name=" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8)
        + (category == null ? "" : "&category=" + category);
    return send("POST", "/v1/tenants/" + tenant + "/files" + query, key, contentType, bytes);
  }

  /** Uploads a file's bytes as a copy ({@code duplicate=allow}): the tenant may have the same bytes already, under another category. */
  public Reply uploadCopy(String tenant, String key, String name, String category, String contentType, byte[] bytes) {
    String query = "?duplicate=allow&name=" + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8)
        + (category == null ? "" : "&category=" + category);
    return send("POST", "/v1/tenants/" + tenant + "/files" + query, key, contentType, bytes);
  }

  /** Starts an ingestion of the given files (none: every staged file) and waits for its end. */
  public JsonNode ingestAndWait(String tenant, String key, java.util.List<String> files, Duration within) {
    String body = files == null ? "{}" : "{\"files\":[" + files.stream().map(f -> "\"" + f + "\"").collect(java.util.stream.Collectors.joining(",")) + "]}";
    Reply started = postJson("/v1/tenants/" + tenant + "/ingestions", key, body);
    if (started.status() != 202) {
      throw new AssertionError("starting an ingestion for " + tenant + ": " + started);
    }
    String job = started.json().path("id").asText();
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode state = get("/v1/tenants/" + tenant + "/ingestions/" + job, key).json();
      String s = state.path("state").asText();
      if (s.equals("succeeded") || s.equals("failed")) {
        return state;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("job " + job + " of " + tenant + " did not finish within " + within);
  }

  /** Sets a tenant's constraints as admin. */
  public void constraints(String tenant, String json) {
    Reply reply = putJson("/v1/tenants/" + tenant + "/constraints", adminToken, json);
    if (reply.status() != 200) {
      throw new AssertionError("constraints for " + tenant + ": " + reply);
    }
  }

  /** Creates a tenant as admin and answers its API key. */
  public String createTenant(String id) {
    Reply reply = postJson("/v1/tenants", adminToken, "{\"id\":\"" + id + "\"}");
    if (reply.status() != 201) {
      throw new AssertionError("creating tenant " + id + ": " + reply);
    }
    return reply.json().path("apiKey").asText();
  }
}
