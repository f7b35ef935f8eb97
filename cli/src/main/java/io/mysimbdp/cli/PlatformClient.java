package io.mysimbdp.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mysimbdp.protocol.ApiError;
import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.IngestionJob;
import io.mysimbdp.protocol.IngestionRequest;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.StagedFile;
import io.mysimbdp.protocol.TenantConstraints;
import io.mysimbdp.protocol.Tus;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Flow;

/**
 * A client of one tenant's part of the mysimbdp API: constraints, staged files, plain and
 * resumable (tus 1.0) uploads, ingestion jobs. Blocking calls on {@link HttpClient}; safe to use
 * from several threads at once. Errors the platform answers are {@link PlatformException}s carrying
 * its {@link ApiError}; transport failures are {@link IOException}s.
 */
public final class PlatformClient {

  /** Told how far an upload got; called from HTTP client threads. */
  public interface TransferListener {
    TransferListener NONE = bytes -> {};

    /** {@code bytes} of the file have been sent (so far; may go back after a resume). */
    void transferred(long bytes);

    /** A resumable upload failed at some point and goes on from {@code offset}. */
    default void resuming(long offset, String reason) {}
  }

  /** A finished resumable upload: the staged file it became and how often it had to resume. */
  public record TusResult(String fileId, URI location, long bytes, int resumes) {}

  /** Server answers are read tolerantly: a field a newer platform adds does not break this client. */
  static final ObjectMapper READER =
      ProtocolJson.JSON.copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
  private static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

  private final URI baseUrl;
  private final String tenant;
  private final String apiKey;
  private final HttpClient http;
  private final int maxRetries;
  private final Duration initialBackoff;

  public PlatformClient(URI baseUrl, String tenant, String apiKey) {
    this(
        baseUrl,
        tenant,
        apiKey,
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build(),
        8,
        Duration.ofMillis(500));
  }

  private PlatformClient(
      URI baseUrl, String tenant, String apiKey, HttpClient http, int maxRetries, Duration initialBackoff) {
    String base = baseUrl.toString();
    this.baseUrl = URI.create(base.endsWith("/") ? base : base + "/");
    this.tenant = Objects.requireNonNull(tenant, "tenant");
    this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
    this.http = http;
    this.maxRetries = maxRetries;
    this.initialBackoff = initialBackoff;
  }

  /**
   * This client with another retry policy for resumable uploads: at most {@code maxRetries}
   * failures in a row (dropped connections, 5xx, 409) before giving up, waiting {@code
   * initialBackoff}, then twice as long each time (at most 10 s) before asking the server where to
   * resume.
   */
  public PlatformClient withRetries(int maxRetries, Duration initialBackoff) {
    return new PlatformClient(baseUrl, tenant, apiKey, http, maxRetries, initialBackoff);
  }

  public URI baseUrl() {
    return baseUrl;
  }

  public String tenant() {
    return tenant;
  }

  // ---- control routes

  /** {@code GET /v1/tenants/{id}/constraints}. */
  public TenantConstraints constraints() throws IOException, InterruptedException {
    return send(get(tenantUri("constraints")), new TypeReference<>() {});
  }

  /** {@code GET /v1/tenants/{id}/files}. */
  public FileList files() throws IOException, InterruptedException {
    return send(get(tenantUri("files")), new TypeReference<>() {});
  }

  /** {@code POST /v1/tenants/{id}/ingestions}; no ids (null or empty) ingests every staged file. */
  public IngestionJob startIngestion(List<String> fileIds) throws IOException, InterruptedException {
    String body =
        fileIds == null || fileIds.isEmpty()
            ? "{}"
            : ProtocolJson.JSON.writeValueAsString(new IngestionRequest(List.copyOf(fileIds)));
    HttpRequest request =
        authorized(tenantUri("ingestions"))
            .timeout(CONTROL_TIMEOUT)
            .header("Content-Type", "application/json")
            .POST(BodyPublishers.ofString(body, StandardCharsets.UTF_8))
            .build();
    return send(request, new TypeReference<>() {});
  }

  /** {@code GET /v1/tenants/{id}/ingestions/{job}}. */
  public IngestionJob job(String jobId) throws IOException, InterruptedException {
    return send(get(tenantUri("ingestions/" + encode(jobId))), new TypeReference<>() {});
  }

  // ---- plain upload

  /**
   * {@code POST /v1/tenants/{id}/files?name=..&category=..}: the file streamed as the body, with
   * {@code mediaType} as its Content-Type. Not retried: a repeated POST could stage the file twice.
   */
  public StagedFile upload(Path file, String name, String category, String mediaType, TransferListener listener)
      throws IOException, InterruptedException {
    return upload(file, name, category, mediaType, false, listener);
  }

  /**
   * As above; {@code allowDuplicate} asks for a copy ({@code ?duplicate=allow}) where the platform
   * would otherwise answer {@code 409 duplicate_file} for content it already has.
   */
  public StagedFile upload(
      Path file, String name, String category, String mediaType, boolean allowDuplicate, TransferListener listener)
      throws IOException, InterruptedException {
    URI uri =
        tenantUri("files?name=" + encode(name) + "&category=" + encode(category) + (allowDuplicate ? "&duplicate=allow" : ""));
    BodyPublisher body = counting(BodyPublishers.ofFile(file), 0, listener == null ? TransferListener.NONE : listener);
    HttpRequest request = authorized(uri).header("Content-Type", mediaType).POST(body).build();
    return send(request, new TypeReference<>() {});
  }

  public StagedFile upload(Path file, String category, String mediaType) throws IOException, InterruptedException {
    return upload(file, file.getFileName().toString(), category, mediaType, TransferListener.NONE);
  }

  // ---- resumable upload (tus 1.0: core + creation)

  /**
   * Uploads {@code file} with tus: creates the upload ({@code POST /v1/tenants/{id}/uploads}), then
   * sends it in {@code chunkSize} PATCHes. A dropped connection, a 5xx or a 409 (offset conflict)
   * makes it ask the server for the offset (HEAD) and go on from there, within the retry policy.
   */
  public TusResult tusUpload(
      Path file, String name, String category, String mediaType, long chunkSize, TransferListener listener)
      throws IOException, InterruptedException {
    long length = Files.size(file);
    URI location = createUpload(length, name, category, mediaType);
    return sendChunks(file, location, length, 0, chunkSize, listener);
  }

  /** Creates a tus upload of {@code length} bytes and answers its location (absolute). */
  public URI createUpload(long length, String name, String category, String mediaType)
      throws IOException, InterruptedException {
    return createUpload(length, name, category, mediaType, null, false);
  }

  /**
   * Creates a tus upload; with {@code sha256} (hex) the platform refuses content it already has
   * ({@code 409 duplicate_file}) before a byte is sent, unless {@code allowDuplicate}.
   */
  public URI createUpload(
      long length, String name, String category, String mediaType, String sha256, boolean allowDuplicate)
      throws IOException, InterruptedException {
    String metadata =
        "filename " + base64(name) + ",category " + base64(category) + ",contentType " + base64(mediaType)
            + (sha256 == null ? "" : ",sha256 " + base64(sha256));
    HttpRequest request =
        authorized(tenantUri(allowDuplicate ? "uploads?duplicate=allow" : "uploads"))
            .timeout(CONTROL_TIMEOUT)
            .header(Tus.RESUMABLE, Tus.VERSION)
            .header(Tus.UPLOAD_LENGTH, Long.toString(length))
            .header(Tus.UPLOAD_METADATA, metadata)
            .POST(BodyPublishers.noBody())
            .build();
    HttpResponse<byte[]> response = http.send(request, BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw errorOf(response);
    }
    String location =
        response
            .headers()
            .firstValue("Location")
            .orElseThrow(() -> protocolError(response.statusCode(), "the upload was created without a Location"));
    // Absolute, or relative to the platform's base URL.
    return baseUrl.resolve(location);
  }

  /**
   * Goes on with an existing tus upload at {@code location}: asks the server its offset, then sends
   * the rest of {@code file}.
   */
  public TusResult resumeUpload(Path file, URI location, long chunkSize, TransferListener listener)
      throws IOException, InterruptedException {
    UploadStatus status = uploadStatus(location);
    long length = Files.size(file);
    if (status.length().isPresent() && status.length().getAsLong() != length) {
      throw protocolError(409, "the upload is " + status.length().getAsLong() + " bytes long, the file " + length);
    }
    return sendChunks(file, location, length, status.offset(), chunkSize, listener);
  }

  /** Goes on with {@code file} from {@code offset} (what the server said it has). */
  public TusResult continueUpload(Path file, URI location, long offset, long chunkSize, TransferListener listener)
      throws IOException, InterruptedException {
    return sendChunks(file, location, Files.size(file), offset, chunkSize, listener);
  }

  /** What {@code HEAD <location>} answers. */
  public record UploadStatus(long offset, OptionalLong length, Optional<String> fileId) {}

  /** {@code HEAD <location>}: how many bytes the server has, and the staged file once complete. */
  public UploadStatus uploadStatus(URI location) throws IOException, InterruptedException {
    HttpRequest request =
        authorized(location)
            .timeout(CONTROL_TIMEOUT)
            .header(Tus.RESUMABLE, Tus.VERSION)
            .method("HEAD", BodyPublishers.noBody())
            .build();
    HttpResponse<Void> response = http.send(request, BodyHandlers.discarding());
    if (response.statusCode() / 100 != 2) {
      if (response.statusCode() >= 500) {
        throw new IOException("HEAD " + location + " answered " + response.statusCode());
      }
      throw new PlatformException(
          new ApiError(response.statusCode(), "http_" + response.statusCode(), "HEAD " + location + " failed"));
    }
    HttpHeaders headers = response.headers();
    long offset =
        offsetHeader(headers)
            .orElseThrow(() -> protocolError(response.statusCode(), "HEAD answered no " + Tus.UPLOAD_OFFSET));
    OptionalLong length =
        headers.firstValue(Tus.UPLOAD_LENGTH).map(v -> OptionalLong.of(Long.parseLong(v.trim()))).orElse(OptionalLong.empty());
    return new UploadStatus(offset, length, headers.firstValue(Tus.FILE_ID));
  }

  private TusResult sendChunks(
      Path file, URI location, long length, long startOffset, long chunkSize, TransferListener given)
      throws IOException, InterruptedException {
    TransferListener listener = given == null ? TransferListener.NONE : given;
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size must be positive");
    }
    long offset = startOffset;
    String fileId = null;
    int failures = 0;
    int resumes = 0;
    boolean askOffset = false;
    boolean askedAfterCompletion = false;
    String reason = null;
    while (true) {
      if (askOffset) {
        try {
          UploadStatus status = uploadStatus(location);
          if (status.offset() < 0 || status.offset() > length) {
            throw protocolError(500, "HEAD answered offset " + status.offset() + " for " + length + " bytes");
          }
          offset = status.offset();
          fileId = status.fileId().orElse(fileId);
          askOffset = false;
          if (reason != null) {
            resumes++;
            listener.resuming(offset, reason);
            reason = null;
          }
          listener.transferred(offset);
        } catch (IOException e) {
          failures = backOff(++failures, "HEAD " + location + ": " + describe(e));
          continue;
        }
      }
      if (offset >= length) {
        if (fileId != null) {
          return new TusResult(fileId, location, length, resumes);
        }
        if (askedAfterCompletion) {
          throw protocolError(500, "the upload is complete but the server named no " + Tus.FILE_ID);
        }
        askedAfterCompletion = true;
        askOffset = true;
        continue;
      }
      long count = Math.min(chunkSize, length - offset);
      HttpRequest patch =
          authorized(location)
              .header(Tus.RESUMABLE, Tus.VERSION)
              .header("Content-Type", Tus.OFFSET_CONTENT_TYPE)
              .header(Tus.UPLOAD_OFFSET, Long.toString(offset))
              .method("PATCH", counting(fileRange(file, offset, count), offset, listener))
              .build();
      HttpResponse<byte[]> response;
      try {
        response = http.send(patch, BodyHandlers.ofByteArray());
      } catch (IOException e) {
        reason = describe(e);
        failures = backOff(++failures, reason);
        askOffset = true;
        continue;
      }
      int status = response.statusCode();
      if (status / 100 == 2) {
        OptionalLong next = offsetHeader(response.headers());
        if (next.isEmpty() || next.getAsLong() <= offset || next.getAsLong() > length) {
          reason = "PATCH answered offset " + (next.isPresent() ? next.getAsLong() : "none") + " after " + offset;
          failures = backOff(++failures, reason);
          askOffset = true;
          continue;
        }
        offset = next.getAsLong();
        fileId = response.headers().firstValue(Tus.FILE_ID).orElse(fileId);
        failures = 0;
        listener.transferred(offset);
      } else if (status == 409) {
        // Our offset is not the server's: ask it, no need to wait.
        reason = "offset " + offset + " conflicted (409)";
        failures = checkRetries(++failures, reason);
        askOffset = true;
      } else if (status >= 500) {
        reason = describe(errorOf(response));
        failures = backOff(++failures, reason);
        askOffset = true;
      } else {
        throw errorOf(response);
      }
    }
  }

  private int checkRetries(int failures, String reason) throws IOException {
    if (failures > maxRetries) {
      throw new IOException("gave up after " + maxRetries + " retries; last: " + reason);
    }
    return failures;
  }

  private int backOff(int failures, String reason) throws IOException, InterruptedException {
    checkRetries(failures, reason);
    Thread.sleep(backoff(failures).toMillis());
    return failures;
  }

  private static String describe(Exception e) {
    if (e instanceof PlatformException p) {
      return p.status() + " " + p.describe();
    }
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private static OptionalLong offsetHeader(HttpHeaders headers) {
    Optional<String> value = headers.firstValue(Tus.UPLOAD_OFFSET);
    if (value.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(value.get().trim()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  // ---- the other tenant routes, passed through as JSON

  /** {@code DELETE /v1/tenants/{id}/files/{file}}. */
  public void deleteFile(String fileId) throws IOException, InterruptedException {
    call("DELETE", "files/" + encode(fileId), null, null);
  }

  /** {@code GET /v1/tenants/{id}/<path>} as JSON. */
  public JsonNode getJson(String path) throws IOException, InterruptedException {
    return call("GET", path, null, null);
  }

  /**
   * A request to {@code /v1/tenants/{id}/<path>} (path relative, query included, already encoded),
   * answering the JSON body (an empty object for an empty answer). A 429 is retried after its
   * {@code Retry-After} (the platform refused it before doing anything), within the retry policy;
   * any other error status is a {@link PlatformException}.
   */
  public JsonNode call(String method, String path, String contentType, byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder builder = authorized(tenantUri(path)).timeout(CONTROL_TIMEOUT).header("Accept", "application/json");
    if (contentType != null) {
      builder.header("Content-Type", contentType);
    }
    HttpRequest request =
        builder.method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body)).build();
    int failures = 0;
    while (true) {
      HttpResponse<byte[]> response = http.send(request, BodyHandlers.ofByteArray());
      if (response.statusCode() == 429 && failures < maxRetries) {
        failures++;
        Thread.sleep(retryAfter(response.headers(), failures).toMillis());
        continue;
      }
      if (response.statusCode() / 100 != 2) {
        throw errorOf(response);
      }
      return json(response);
    }
  }

  /** How one {@link #publish} went: the platform's answer and how often it had to be sent again. */
  public record Published(JsonNode receipt, int retries) {}

  /** Told when a publish is sent again, and why. */
  public interface RetryListener {
    RetryListener NONE = (attempt, wait, reason) -> {};

    void retrying(int attempt, Duration wait, String reason);
  }

  /**
   * {@code POST /v1/tenants/{id}/messages}: {@code ndjson} (one JSON record per line) with {@code
   * Idempotency-Key: key}, so sending it again stores nothing twice. Sent again on 429 and 503
   * after the answer's {@code Retry-After}, and after a dropped connection or timeout (the key
   * makes that safe), at most {@code maxRetries} times in a row.
   */
  public Published publish(byte[] ndjson, String category, String idempotencyKey, RetryListener listener)
      throws IOException, InterruptedException {
    RetryListener retries = listener == null ? RetryListener.NONE : listener;
    HttpRequest request =
        authorized(tenantUri("messages" + (category == null ? "" : "?category=" + encode(category))))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/x-ndjson")
            .header("Accept", "application/json")
            .header(IDEMPOTENCY_KEY, idempotencyKey)
            .POST(BodyPublishers.ofByteArray(ndjson))
            .build();
    int failures = 0;
    while (true) {
      String reason;
      Duration wait;
      try {
        HttpResponse<byte[]> response = http.send(request, BodyHandlers.ofByteArray());
        int status = response.statusCode();
        if (status / 100 == 2) {
          return new Published(json(response), failures);
        }
        if (status != 429 && status != 503) {
          throw errorOf(response);
        }
        reason = describe(errorOf(response));
        wait = retryAfter(response.headers(), failures + 1);
      } catch (IOException e) {
        reason = describe(e);
        wait = backoff(failures + 1);
      }
      if (++failures > maxRetries) {
        throw new IOException("gave up after " + maxRetries + " retries; last: " + reason);
      }
      retries.retrying(failures, wait, reason);
      Thread.sleep(wait.toMillis());
    }
  }

  /** The header that makes a {@code POST messages} safe to send again. */
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

  /** What {@code Retry-After} asks (seconds, or an HTTP-date), at most a minute; else the backoff. */
  Duration retryAfter(HttpHeaders headers, int attempt) {
    Optional<String> value = headers.firstValue("Retry-After");
    if (value.isPresent()) {
      String text = value.get().trim();
      try {
        return clamp(Duration.ofSeconds(Long.parseLong(text)));
      } catch (NumberFormatException notSeconds) {
        try {
          Instant at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
          return clamp(Duration.between(Instant.now(), at));
        } catch (DateTimeParseException notADate) {
          // fall back to our own backoff
        }
      }
    }
    return backoff(attempt);
  }

  private static Duration clamp(Duration wait) {
    return wait.isNegative() ? Duration.ZERO : wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
  }

  private Duration backoff(int attempt) {
    long millis = initialBackoff.toMillis() << Math.min(Math.max(attempt - 1, 0), 20);
    return Duration.ofMillis(Math.min(millis, MAX_BACKOFF.toMillis()));
  }

  private static JsonNode json(HttpResponse<byte[]> response) throws PlatformException {
    byte[] body = response.body();
    if (body == null || body.length == 0) {
      return READER.createObjectNode();
    }
    try {
      return READER.readTree(body);
    } catch (IOException e) {
      throw protocolError(
          response.statusCode(),
          response.request().method() + " " + response.request().uri().getPath() + " answered a body that is not JSON");
    }
  }

  /**
   * {@code GET /v1/tenants/{id}/data/{collection}?limit=..&after=..}: one page of stored records,
   * the answer's JSON as it is ({@code {"records":[...],"next":...}}).
   */
  public String dataPage(String collection, int limit, String after) throws IOException, InterruptedException {
    return dataPage(collection, limit, after, null, null);
  }

  /** As above, only the records whose {@code field} equals {@code equalsJson} (a JSON value, or an array: any of them). */
  public String dataPage(String collection, int limit, String after, String field, String equalsJson)
      throws IOException, InterruptedException {
    String query = "?limit=" + limit + (after == null ? "" : "&after=" + encode(after))
        + (field == null ? "" : "&field=" + encode(field) + "&equals=" + encode(equalsJson));
    HttpResponse<byte[]> response = http.send(get(tenantUri("data/" + encode(collection) + query)), BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw errorOf(response);
    }
    return new String(response.body(), java.nio.charset.StandardCharsets.UTF_8);
  }

  // ---- HTTP plumbing

  private URI tenantUri(String rest) {
    return baseUrl.resolve("v1/tenants/" + encode(tenant) + "/" + rest);
  }

  private HttpRequest.Builder authorized(URI uri) {
    return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + apiKey);
  }

  private HttpRequest get(URI uri) {
    return authorized(uri).timeout(CONTROL_TIMEOUT).header("Accept", "application/json").GET().build();
  }

  private <T> T send(HttpRequest request, TypeReference<T> type) throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(request, BodyHandlers.ofByteArray());
    if (response.statusCode() / 100 != 2) {
      throw errorOf(response);
    }
    try {
      return READER.readValue(response.body(), type);
    } catch (IOException e) {
      throw protocolError(
          response.statusCode(),
          request.method() + " " + request.uri().getPath() + " answered a body this client cannot read: " + e.getMessage());
    }
  }

  /** The ApiError of an error answer, or one made from its status when the body is something else. */
  static PlatformException errorOf(HttpResponse<byte[]> response) {
    byte[] body = response.body();
    if (body != null && body.length > 0) {
      try {
        ApiError error = READER.readValue(body, ApiError.class);
        if (error.code() != null) {
          return new PlatformException(
              new ApiError(response.statusCode(), error.code(), error.message(), error.details() == null ? Map.of() : error.details()));
        }
      } catch (IOException notAnApiError) {
        // fall through
      }
    }
    String text = body == null ? "" : new String(body, StandardCharsets.UTF_8).strip();
    if (text.length() > 200) {
      text = text.substring(0, 200) + "...";
    }
    return new PlatformException(
        new ApiError(
            response.statusCode(),
            "http_" + response.statusCode(),
            response.request().method() + " " + response.request().uri().getPath() + " answered " + response.statusCode()
                + (text.isEmpty() ? "" : ": " + text)));
  }

  private static PlatformException protocolError(int status, String message) {
    return new PlatformException(new ApiError(status, "protocol_error", message));
  }

  static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String base64(String value) {
    return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code count} bytes of {@code file} from {@code offset}, streamed, with a Content-Length. */
  static BodyPublisher fileRange(Path file, long offset, long count) {
    return BodyPublishers.fromPublisher(
        BodyPublishers.ofInputStream(
            () -> {
              try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
                return new RangeStream(Channels.newInputStream(channel), count);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            }),
        count);
  }

  /** Counts the bytes {@code delegate} hands to the HTTP client, reporting {@code start + sent}. */
  static BodyPublisher counting(BodyPublisher delegate, long start, TransferListener listener) {
    return new BodyPublisher() {
      @Override
      public long contentLength() {
        return delegate.contentLength();
      }

      @Override
      public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
        delegate.subscribe(
            new Flow.Subscriber<ByteBuffer>() {
              private long sent = start;

              @Override
              public void onSubscribe(Flow.Subscription subscription) {
                subscriber.onSubscribe(subscription);
              }

              @Override
              public void onNext(ByteBuffer item) {
                sent += item.remaining();
                subscriber.onNext(item);
                listener.transferred(sent);
              }

              @Override
              public void onError(Throwable throwable) {
                subscriber.onError(throwable);
              }

              @Override
              public void onComplete() {
                subscriber.onComplete();
              }
            });
      }
    };
  }

  /** At most {@code remaining} bytes of a stream; closes it once they are read. */
  private static final class RangeStream extends FilterInputStream {
    private long remaining;

    RangeStream(InputStream in, long remaining) {
      super(in);
      this.remaining = remaining;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
      if (remaining <= 0) {
        close();
        return -1;
      }
      int n = super.read(buffer, off, (int) Math.min(len, remaining));
      if (n < 0) {
        throw new IOException("the file ended " + remaining + " bytes early; did it change during the upload?");
      }
      remaining -= n;
      return n;
    }
  }
}
