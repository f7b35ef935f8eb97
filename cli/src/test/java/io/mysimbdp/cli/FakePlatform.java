package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mysimbdp.protocol.ApiError;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.IngestionJob;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.StagedFile;
import io.mysimbdp.protocol.TenantConstraints;
import io.mysimbdp.protocol.Tus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An in-test stand-in for the platform's tenant routes the CLI uses, implementing the contract the
 * CLI relies on (see cli/README.md): bearer auth, constraints, file list, plain uploads, tus 1.0
 * (creation, HEAD, PATCH with a server-side offset and 409 on a wrong one) and ingestion jobs. Faults
 * can be injected: a connection dropped halfway through a PATCH, a stale HEAD offset, a rejected
 * file, 5xx on PATCH.
 */
final class FakePlatform implements AutoCloseable {
  private static final Pattern SCRIPTED = Pattern.compile("/v1/tenants/([^/]+)/(.+)");

  /** A request to a scripted route: what the CLI sent. */
  record Call(String method, String path, Map<String, String> query, Headers headers, byte[] body, long nanos) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    String header(String name) {
      return headers.getFirst(name);
    }
  }

  /** What a scripted route answers. */
  record Reply(int status, Map<String, String> headers, Object body) {
    static Reply json(int status, Object body) {
      return new Reply(status, Map.of(), body);
    }
  }

  interface Route {
    Reply answer(Call call) throws IOException;
  }

  /**
   * Routes a test scripts, by "METHOD path-under-the-tenant" (no query): {@code "POST stream/start"}.
   * They take precedence over the built-in ones.
   */
  final Map<String, Route> routes = new ConcurrentHashMap<>();
  /** Every request to a scripted route, in order. */
  final List<Call> calls = new CopyOnWriteArrayList<>();

  /** A scripted route answering {@code replies} in turn, the last one again and again. */
  void script(String route, Reply... replies) {
    AtomicInteger next = new AtomicInteger();
    routes.put(route, call -> replies[Math.min(next.getAndIncrement(), replies.length - 1)]);
  }

  List<Call> calls(String method, String path) {
    return calls.stream().filter(c -> c.method().equals(method) && c.path().equals(path)).toList();
  }

  private static final Pattern ROUTE = Pattern.compile("/v1/tenants/([^/]+)/(constraints|files|uploads|ingestions)(?:/([^/]+))?");

  final String tenant;
  final String apiKey;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();

  volatile TenantConstraints constraints = new TenantConstraints(100, 2048L, List.of("csv", "ndjson", "json"));
  final List<StagedFile> staged = new CopyOnWriteArrayList<>();
  /** The bytes of every staged file, by id. */
  final Map<String, byte[]> content = new ConcurrentHashMap<>();
  /** Plain uploads the fake answers with this error instead, by file name. */
  final Map<String, ApiError> rejections = new ConcurrentHashMap<>();
  /** Every request, as "METHOD /path?query". */
  final List<String> requests = new CopyOnWriteArrayList<>();

  // plain uploads in flight
  private final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  /** When set, each plain upload waits (up to 5 s) until this many are in flight at once. */
  volatile CountDownLatch concurrencyGate;

  // tus
  final Map<String, TusUpload> uploads = new ConcurrentHashMap<>();
  /** PATCH numbers (1-based, counted over all uploads) at which the connection drops halfway. */
  final List<Integer> dropAtPatch = new CopyOnWriteArrayList<>();
  /** PATCH numbers answered 503 without reading a byte. */
  final List<Integer> failAtPatch = new CopyOnWriteArrayList<>();
  /** When true, the next HEAD reports offset 0 whatever the real one (a stale replica, say). */
  volatile boolean staleHeadOnce;
  /** When true, the final PATCH answer leaves out Mysimbdp-File-Id (only HEAD names the file). */
  volatile boolean fileIdOnlyOnHead;
  final AtomicInteger patches = new AtomicInteger();
  /** The Upload-Offset of every PATCH, in order. */
  final List<Long> patchOffsets = new CopyOnWriteArrayList<>();
  /** A PATCH number at which the fake keeps half the chunk, then holds the request until released. */
  volatile int holdAtPatch = -1;
  final CountDownLatch held = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  final AtomicInteger drops = new AtomicInteger();
  final AtomicInteger conflicts = new AtomicInteger();
  final AtomicInteger heads = new AtomicInteger();

  // ingestion
  /** The states a new job goes through: the POST answers the first, each GET the next, the last repeats. */
  volatile List<IngestionJob> jobScript = List.of();
  final Map<String, AtomicInteger> jobPolls = new ConcurrentHashMap<>();
  volatile String lastIngestionBody;

  private final AtomicInteger ids = new AtomicInteger();

  static final class TusUpload {
    final String id;
    final long length;
    final Map<String, String> metadata;
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    volatile String fileId;

    TusUpload(String id, long length, Map<String, String> metadata) {
      this.id = id;
      this.length = length;
      this.metadata = metadata;
    }

    synchronized long offset() {
      return data.size();
    }
  }

  FakePlatform(String tenant, String apiKey) throws IOException {
    this.tenant = tenant;
    this.apiKey = apiKey;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** Stages a file as if uploaded earlier (it takes a slot). */
  StagedFile addStaged(String name, byte[] bytes) {
    StagedFile file =
        new StagedFile("f" + ids.incrementAndGet(), name, "default", "csv", bytes.length, sha256(bytes), "staged", Instant.now(), null);
    staged.add(file);
    content.put(file.id(), bytes);
    return file;
  }

  StagedFile stagedByName(String name) {
    return staged.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
  }

  @Override
  public void close() {
    release.countDown();
    server.stop(0);
    executor.shutdownNow();
  }

  // ---- dispatch

  private void handle(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    URI uri = exchange.getRequestURI();
    requests.add(method + " " + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    try {
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      if (authorization == null || !authorization.equals("Bearer " + apiKey)) {
        error(exchange, 401, "invalid_credentials", "the API key or admin token is not valid");
        return;
      }
      Matcher scripted = SCRIPTED.matcher(uri.getRawPath());
      if (scripted.matches() && scripted.group(1).equals(tenant)) {
        Route handler = routes.get(method + " " + scripted.group(2));
        if (handler != null) {
          byte[] body = exchange.getRequestBody().readAllBytes();
          Call call = new Call(method, scripted.group(2), query(uri), exchange.getRequestHeaders(), body, System.nanoTime());
          calls.add(call);
          Reply reply = handler.answer(call);
          reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
          byte[] bytes = reply.body() == null ? new byte[0] : ProtocolJson.JSON.writeValueAsBytes(reply.body());
          exchange.getResponseHeaders().set("Content-Type", "application/json");
          exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
          if (bytes.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(bytes);
            }
          }
          return;
        }
      }
      Matcher route = ROUTE.matcher(uri.getRawPath());
      if (!route.matches()) {
        error(exchange, 404, "not_found", "no route " + uri.getRawPath());
        return;
      }
      if (!route.group(1).equals(tenant)) {
        error(exchange, 403, "forbidden", "this API key does not grant access to tenant '" + route.group(1) + "'");
        return;
      }
      String resource = route.group(2);
      String id = route.group(3);
      switch (method + " " + resource + (id == null ? "" : "/id")) {
        case "GET constraints" -> json(exchange, 200, constraints);
        case "GET files" -> json(exchange, 200, new FileList(List.copyOf(staged), staged.size(), constraints.maxFiles()));
        case "POST files" -> uploadPlain(exchange, query(uri));
        case "DELETE files/id" -> deleteFile(exchange, id);
        case "POST uploads" -> createTus(exchange, query(uri));
        case "HEAD uploads/id" -> headTus(exchange, id);
        case "PATCH uploads/id" -> patchTus(exchange, id);
        case "POST ingestions" -> startJob(exchange);
        case "GET ingestions/id" -> pollJob(exchange, id);
        default -> error(exchange, 405, "method_not_allowed", method + " " + uri.getRawPath());
      }
    } finally {
      exchange.close();
    }
  }

  // ---- plain upload

  private void uploadPlain(HttpExchange exchange, Map<String, String> query) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try {
      CountDownLatch gate = concurrencyGate;
      if (gate != null) {
        gate.countDown();
        try {
          gate.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      String name = query.get("name");
      String category = query.get("category");
      if (name == null || name.isBlank() || category == null || category.isBlank()) {
        error(exchange, 400, "missing_parameter", "name and category are required");
        return;
      }
      String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
      DataFormat format = contentType == null ? null : DataFormat.fromMediaType(contentType).orElse(null);
      if (format == null || !constraints.formats().contains(format.id())) {
        error(exchange, 415, "unsupported_media_type", "Content-Type " + contentType + " is not an allowed format");
        return;
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      ApiError rejection = rejections.get(name);
      if (rejection != null) {
        json(exchange, rejection.status(), rejection);
        return;
      }
      if (body.length > constraints.maxFileSizeMegabytes() * 1024 * 1024) {
        error(exchange, 413, "file_too_large", name + " is larger than " + constraints.maxFileSizeMegabytes() + " MiB");
        return;
      }
      if (!"allow".equals(query.get("duplicate")) && duplicateOf(sha256(body), exchange)) {
        return;
      }
      StagedFile file = stage(name, category, format, body);
      exchange.getResponseHeaders().add("Location", "/v1/tenants/" + tenant + "/files/" + file.id());
      json(exchange, 201, file);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  /** Answers 409 duplicate_file, as the platform does, when a staged file has this content. */
  private boolean duplicateOf(String sha256, HttpExchange exchange) throws IOException {
    StagedFile existing = staged.stream().filter(f -> f.sha256().equals(sha256)).findFirst().orElse(null);
    if (existing == null) {
      return false;
    }
    exchange.getResponseHeaders().add(Tus.FILE_ID, existing.id());
    json(exchange, 409, new ApiError(409, "duplicate_file", "the same content is file " + existing.id(), Map.of("fileId", existing.id())));
    return true;
  }

  private void deleteFile(HttpExchange exchange, String id) throws IOException {
    StagedFile file = staged.stream().filter(f -> f.id().equals(id)).findFirst().orElse(null);
    if (file == null) {
      error(exchange, 404, "file_not_found", "no file " + id);
      return;
    }
    staged.remove(file);
    content.remove(id);
    exchange.sendResponseHeaders(204, -1);
  }

  private synchronized StagedFile stage(String name, String category, DataFormat format, byte[] bytes) {
    if (staged.size() >= constraints.maxFiles()) {
      throw new IllegalStateException("the client went beyond maxFiles");
    }
    StagedFile file =
        new StagedFile(
            "f" + ids.incrementAndGet(), name, category, format.id(), bytes.length, sha256(bytes), "staged", Instant.now(), null);
    staged.add(file);
    content.put(file.id(), bytes);
    return file;
  }

  // ---- tus

  private boolean tusHeader(HttpExchange exchange) throws IOException {
    if (!Tus.VERSION.equals(exchange.getRequestHeaders().getFirst(Tus.RESUMABLE))) {
      exchange.getResponseHeaders().add("Tus-Version", Tus.VERSION);
      error(exchange, 412, "tus_version", "send Tus-Resumable: " + Tus.VERSION);
      return false;
    }
    exchange.getResponseHeaders().add(Tus.RESUMABLE, Tus.VERSION);
    return true;
  }

  private void createTus(HttpExchange exchange, Map<String, String> query) throws IOException {
    if (!tusHeader(exchange)) {
      return;
    }
    Headers headers = exchange.getRequestHeaders();
    long length;
    try {
      length = Long.parseLong(headers.getFirst(Tus.UPLOAD_LENGTH));
    } catch (RuntimeException e) {
      error(exchange, 400, "invalid_upload_length", "Upload-Length is required");
      return;
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    String raw = headers.getFirst(Tus.UPLOAD_METADATA);
    if (raw != null) {
      for (String pair : raw.split(",")) {
        String[] kv = pair.trim().split(" ", 2);
        metadata.put(kv[0], kv.length > 1 ? new String(Base64.getDecoder().decode(kv[1]), StandardCharsets.UTF_8) : "");
      }
    }
    if (!metadata.keySet().containsAll(List.of("filename", "category", "contentType"))) {
      error(exchange, 400, "invalid_upload_metadata", "filename, category and contentType are required: " + metadata);
      return;
    }
    DataFormat format = DataFormat.fromMediaType(metadata.get("contentType")).orElse(null);
    if (format == null || !constraints.formats().contains(format.id())) {
      error(exchange, 415, "unsupported_media_type", "contentType " + metadata.get("contentType") + " is not allowed");
      return;
    }
    if (length > constraints.maxFileSizeMegabytes() * 1024 * 1024) {
      error(exchange, 413, "file_too_large", "Upload-Length " + length + " is above the limit");
      return;
    }
    String sha = metadata.get("sha256");
    if (sha != null && !"allow".equals(query.get("duplicate")) && duplicateOf(sha, exchange)) {
      return;
    }
    String id = "u" + ids.incrementAndGet();
    uploads.put(id, new TusUpload(id, length, metadata));
    exchange.getResponseHeaders().add("Location", "/v1/tenants/" + tenant + "/uploads/" + id);
    exchange.sendResponseHeaders(201, -1);
  }

  private void headTus(HttpExchange exchange, String id) throws IOException {
    heads.incrementAndGet();
    if (!tusHeader(exchange)) {
      return;
    }
    TusUpload upload = uploads.get(id);
    if (upload == null) {
      exchange.sendResponseHeaders(404, -1);
      return;
    }
    long offset = upload.offset();
    if (staleHeadOnce && offset > 0) {
      staleHeadOnce = false;
      offset = 0;
    }
    Headers response = exchange.getResponseHeaders();
    response.add(Tus.UPLOAD_OFFSET, Long.toString(offset));
    response.add(Tus.UPLOAD_LENGTH, Long.toString(upload.length));
    response.add("Cache-Control", "no-store");
    if (upload.fileId != null) {
      response.add(Tus.FILE_ID, upload.fileId);
    }
    exchange.sendResponseHeaders(200, -1);
  }

  private void patchTus(HttpExchange exchange, String id) throws IOException {
    int number = patches.incrementAndGet();
    if (!tusHeader(exchange)) {
      return;
    }
    TusUpload upload = uploads.get(id);
    if (upload == null) {
      error(exchange, 404, "upload_not_found", "no upload " + id);
      return;
    }
    Headers headers = exchange.getRequestHeaders();
    if (!Tus.OFFSET_CONTENT_TYPE.equals(headers.getFirst("Content-Type"))) {
      error(exchange, 415, "unsupported_media_type", "PATCH needs Content-Type " + Tus.OFFSET_CONTENT_TYPE);
      return;
    }
    if (failAtPatch.contains(number)) {
      error(exchange, 503, "unavailable", "try again");
      return;
    }
    long offset = Long.parseLong(headers.getFirst(Tus.UPLOAD_OFFSET));
    patchOffsets.add(offset);
    if (number == holdAtPatch) {
      // A client killed mid-chunk: what arrived is kept, the request never finishes.
      long declared = Long.parseLong(headers.getFirst("Content-Length"));
      synchronized (upload) {
        upload.data.write(exchange.getRequestBody().readNBytes((int) (declared / 2)));
      }
      held.countDown();
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new DroppedConnection();
    }
    synchronized (upload) {
      if (offset != upload.offset()) {
        conflicts.incrementAndGet();
        // Read the chunk first: answering early makes the JDK server close the connection, and the
        // client would see a dropped connection (which it also survives) instead of the 409.
        exchange.getRequestBody().transferTo(OutputStream.nullOutputStream());
        exchange.getResponseHeaders().add(Tus.UPLOAD_OFFSET, Long.toString(upload.offset()));
        error(exchange, 409, "offset_conflict", "Upload-Offset " + offset + " but the upload is at " + upload.offset());
        return;
      }
      long declared = Long.parseLong(headers.getFirst("Content-Length"));
      InputStream body = exchange.getRequestBody();
      if (dropAtPatch.contains(number)) {
        // Keep what arrived before the drop, as a tus server does, then cut the connection.
        upload.data.write(body.readNBytes((int) (declared / 2)));
        drops.incrementAndGet();
        throw new DroppedConnection();
      }
      byte[] chunk = body.readAllBytes();
      if (upload.offset() + chunk.length > upload.length) {
        error(exchange, 400, "upload_too_long", "the chunk goes beyond Upload-Length");
        return;
      }
      upload.data.write(chunk);
      if (upload.offset() == upload.length) {
        DataFormat format = DataFormat.fromMediaType(upload.metadata.get("contentType")).orElseThrow();
        StagedFile file = stage(upload.metadata.get("filename"), upload.metadata.get("category"), format, upload.data.toByteArray());
        upload.fileId = file.id();
        if (!fileIdOnlyOnHead) {
          exchange.getResponseHeaders().add(Tus.FILE_ID, file.id());
        }
      }
      exchange.getResponseHeaders().add(Tus.UPLOAD_OFFSET, Long.toString(upload.offset()));
      exchange.sendResponseHeaders(204, -1);
    }
  }

  /** Thrown from a handler: the JDK server then closes the connection without an answer. */
  private static final class DroppedConnection extends RuntimeException {
    DroppedConnection() {
      super("simulated connection drop", null, false, false);
    }
  }

  // ---- ingestion

  private void startJob(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    lastIngestionBody = body;
    JsonNode request;
    try {
      request = ProtocolJson.JSON.readTree(body);
    } catch (IOException e) {
      error(exchange, 400, "invalid_json", e.getMessage());
      return;
    }
    if (!"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type")) || !request.isObject()) {
      error(exchange, 400, "invalid_request", "expected a JSON object");
      return;
    }
    if (jobScript.isEmpty()) {
      error(exchange, 409, "nothing_to_ingest", "no staged files");
      return;
    }
    IngestionJob first = jobScript.get(0);
    jobPolls.put(first.id(), new AtomicInteger());
    json(exchange, 202, first);
  }

  private void pollJob(HttpExchange exchange, String id) throws IOException {
    AtomicInteger polls = jobPolls.get(id);
    if (polls == null) {
      error(exchange, 404, "job_not_found", "no ingestion job " + id);
      return;
    }
    int index = Math.min(polls.incrementAndGet(), jobScript.size() - 1);
    json(exchange, 200, jobScript.get(index));
  }

  // ---- helpers

  private static Map<String, String> query(URI uri) {
    Map<String, String> query = new LinkedHashMap<>();
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        String[] kv = pair.split("=", 2);
        query.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
      }
    }
    return query;
  }

  private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
    json(exchange, status, new ApiError(status, code, message));
  }

  private static void json(HttpExchange exchange, int status, Object body) throws IOException {
    byte[] bytes = ProtocolJson.JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> list(String... values) {
    return new ArrayList<>(List.of(values));
  }
}
