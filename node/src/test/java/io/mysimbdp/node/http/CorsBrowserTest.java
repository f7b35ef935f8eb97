package io.mysimbdp.node.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.javadsl.Sink;
import akka.util.ByteString;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.entity.IngestionServices;
import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.HeadlessChromium;
import io.mysimbdp.node.testing.TestNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Browsers can upload: a page on another origin (served here) uploads a file to a node with
 * tus-js-client (from npm, the version pinned in {@code tus-browser/package.json}) in headless
 * Chromium, through CORS ({@code mysimbdp.http.cors-allowed-origins}); the staged file holds the
 * page's bytes. Origins not listed get no CORS headers.
 */
class CorsBrowserTest {
  /** Where npm installs tus-js-client once (kept between runs, removed by mvn clean). */
  private static final Path NPM_DIR = Path.of("target/tus-browser");
  private static final Pattern DONE = Pattern.compile("done fileId=(\\S+) offset=(\\d+) url=(\\S+)");

  @TempDir static Path dataDir;
  static TestNode node;
  static HttpServer page;
  static String pageOrigin;
  static String key;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    int pagePort = FreePorts.next();
    pageOrigin = "http://127.0.0.1:" + pagePort;
    node = TestNode.start(dataDir, ConfigFactory.parseMap(Map.of("mysimbdp.http.cors-allowed-origins", pageOrigin + ", https://other.example")));
    key = node.api.createTenant("browser");
    page = HttpServer.create(new InetSocketAddress("127.0.0.1", pagePort), 0);
  }

  @AfterAll
  static void stop() {
    if (page != null) {
      page.stop(0);
    }
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aPageOnAnAllowedOriginUploadsWithTusJsClient() throws Exception {
    Path tus = installTusJsClient();
    HeadlessChromium chromium = HeadlessChromium.require();
    // Not ASCII only, with a last chunk shorter than the others: the bytes must arrive as sent.
    StringBuilder csv = new StringBuilder("site,result,note\n");
    for (int i = 0; i < 40; i++) {
      csv.append("site-").append(i).append(',').append(i * 1.5).append(",Wasserqualität ").append(i).append('\n');
    }
    String content = csv.toString();
    String config = io.mysimbdp.protocol.ProtocolJson.JSON.writeValueAsString(Map.of(
        "endpoint", "http://127.0.0.1:" + node.httpPort + "/v1/tenants/browser/uploads",
        "key", key,
        "chunkSize", 256,
        "content", content));
    serve("/", "text/html", resource("index.html"));
    serve("/upload.js", "text/javascript", resource("upload.js"));
    serve("/tus.min.js", "text/javascript", Files.readAllBytes(tus));
    serve("/upload-config.json", "application/json", config.getBytes(StandardCharsets.UTF_8));
    page.start();

    String dom = chromium.dumpDom(pageOrigin + "/", 30_000);
    Matcher done = DONE.matcher(dom);
    assertTrue(done.find(), () -> "the page reports the upload done: " + resultOf(dom));
    String fileId = done.group(1);
    byte[] expected = content.getBytes(StandardCharsets.UTF_8);
    assertEquals(expected.length, Long.parseLong(done.group(2)), "the page read Upload-Offset (exposed) after the last PATCH");
    assertTrue(expected.length > 256 * 3, "several PATCHes");

    ByteString staged = IngestionServices.get(node.testKit.system()).staging().read("browser", fileId)
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), node.testKit.system())
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertArrayEquals(expected, staged.toArray(), "the staged file holds the page's bytes");
    var file = node.api.get("/v1/tenants/browser/files/" + fileId, key);
    assertEquals(200, file.status(), file::toString);
    assertEquals("browser.csv", file.json().path("name").asText());
    assertEquals("browser", file.json().path("category").asText());
  }

  @Test
  void preflightFromAnAllowedOriginNeedsNoKeyAndOthersGetNoCorsHeaders() throws Exception {
    String uploads = "/v1/tenants/browser/uploads";
    HttpResponse<String> preflight = send("OPTIONS", uploads, Map.of("Origin", pageOrigin, "Access-Control-Request-Method", "POST",
        "Access-Control-Request-Headers", "authorization,tus-resumable,upload-length,upload-metadata"));
    assertEquals(204, preflight.statusCode(), preflight::toString);
    assertEquals(pageOrigin, header(preflight, "Access-Control-Allow-Origin"));
    String allowed = header(preflight, "Access-Control-Allow-Headers").toLowerCase();
    for (String h : List.of("authorization", "tus-resumable", "upload-length", "upload-offset", "upload-metadata", "content-type",
        "x-http-method-override")) {
      assertTrue(allowed.contains(h), () -> h + " is allowed: " + allowed);
    }
    assertTrue(header(preflight, "Access-Control-Allow-Methods").contains("PATCH"));

    // A real request from the allowed origin still needs the key, and its error is readable by the page.
    HttpResponse<String> noKey = send("POST", uploads, Map.of("Origin", pageOrigin, "Tus-Resumable", "1.0.0", "Upload-Length", "3"));
    assertEquals(401, noKey.statusCode(), noKey::toString);
    assertEquals(pageOrigin, header(noKey, "Access-Control-Allow-Origin"));
    String exposed = header(noKey, "Access-Control-Expose-Headers");
    for (String h : List.of("Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version",
        "Tus-Max-Size", "Tus-Extension", "Mysimbdp-File-Id")) {
      assertTrue(exposed.contains(h), () -> h + " is exposed: " + exposed);
    }

    // An origin not listed: no CORS headers, and its preflight is an unauthenticated request like any other.
    HttpResponse<String> foreign = send("OPTIONS", uploads, Map.of("Origin", "http://evil.example", "Access-Control-Request-Method", "POST"));
    assertEquals(401, foreign.statusCode(), foreign::toString);
    assertTrue(foreign.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), foreign::toString);
    HttpResponse<String> foreignGet = send("GET", "/v1/tenants/browser", Map.of("Origin", "http://evil.example", "Authorization", "Bearer " + key));
    assertEquals(200, foreignGet.statusCode(), "a client that sends another Origin is served as before");
    assertTrue(foreignGet.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), foreignGet::toString);
    assertEquals("Origin", header(foreignGet, "Vary"), "a cache keeps answers to different origins apart");
    // The OpenAPI document is public, and a page on a listed origin may read it.
    HttpResponse<String> document = send("GET", "/v1/openapi.json", Map.of("Origin", pageOrigin));
    assertEquals(200, document.statusCode(), document::toString);
    assertEquals(pageOrigin, header(document, "Access-Control-Allow-Origin"));
    // The second listed origin is allowed too (the list is comma-separated).
    HttpResponse<String> other = send("OPTIONS", uploads, Map.of("Origin", "https://other.example", "Access-Control-Request-Method", "PATCH"));
    assertEquals("https://other.example", header(other, "Access-Control-Allow-Origin"));
  }

  @Test
  void theOriginListIsChecked() {
    assertEquals(java.util.Set.of("http://localhost:5173", "https://app.example.com"),
        Cors.of(" https://App.Example.com/ ,http://localhost:5173,").origins());
    assertTrue(Cors.of("").origins().isEmpty());
    for (String bad : List.of("*", "app.example.com", "https://app.example.com/path", "ftp://x.example")) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Cors.of(bad));
      assertTrue(e.getMessage().contains("CORS_ALLOWED_ORIGINS"), e::getMessage);
    }
  }

  private static HttpResponse<String> send(String method, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort + path))
        .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
    headers.forEach(request::header);
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String header(HttpResponse<?> response, String name) {
    return response.headers().firstValue(name).orElseThrow(() -> new AssertionError("no " + name + " in " + response.headers().map()));
  }

  private static String resultOf(String dom) {
    int at = dom.indexOf("id=\"result\"");
    return at < 0 ? dom : dom.substring(at, Math.min(dom.length(), at + 500));
  }

  private static void serve(String path, String contentType, byte[] body) {
    page.createContext(path, exchange -> answer(exchange, path, contentType, body));
  }

  private static void answer(HttpExchange exchange, String path, String contentType, byte[] body) throws IOException {
    if (!exchange.getRequestURI().getPath().equals(path)) {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
      return;
    }
    exchange.getResponseHeaders().add("Content-Type", contentType + "; charset=utf-8");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  private static byte[] resource(String name) throws IOException {
    try (var in = CorsBrowserTest.class.getClassLoader().getResourceAsStream("tus-browser/" + name)) {
      return in.readAllBytes();
    }
  }

  /** tus-js-client's browser bundle, installed with npm from the pinned package.json (once). */
  private static Path installTusJsClient() throws Exception {
    Path bundle = NPM_DIR.resolve("node_modules/tus-js-client/dist/tus.min.js");
    byte[] pinned = resource("package.json");
    Path packageJson = NPM_DIR.resolve("package.json");
    if (Files.isRegularFile(bundle) && Files.isRegularFile(packageJson) && java.util.Arrays.equals(pinned, Files.readAllBytes(packageJson))) {
      return bundle;
    }
    Files.createDirectories(NPM_DIR);
    Files.write(packageJson, pinned);
    Path log = NPM_DIR.resolve("npm-install.log");
    Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock")
        .directory(NPM_DIR.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!npm.waitFor(3, TimeUnit.MINUTES)) {
      npm.destroyForcibly();
      throw new AssertionError("npm install of tus-js-client did not finish in 3 minutes; see " + log.toAbsolutePath());
    }
    if (npm.exitValue() != 0 || !Files.isRegularFile(bundle)) {
      throw new AssertionError("npm install of tus-js-client failed (npm and the npm registry are needed): " + readQuietly(log));
    }
    return bundle;
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
