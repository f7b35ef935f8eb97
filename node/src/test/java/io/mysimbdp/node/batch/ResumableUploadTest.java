package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.Tus;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tus 1.0 resumable uploads against a real node: chunks appended, resumed, checked, staged. */
class ResumableUploadTest {
  @TempDir static Path dataDir;
  @TempDir static Path files;
  static TestNode node;
  static HttpApi api;
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir);
    api = node.api;
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static String metadata(String name, String contentType) {
    return "filename " + b64(name) + ",category " + b64("water") + (contentType == null ? "" : ",contentType " + b64(contentType));
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static HttpResponse<String> tus(String method, String path, String key, long length, String metadata) throws Exception {
    return tus(api.baseUrl, method, path, key, length, metadata);
  }

  static HttpResponse<String> tus(String baseUrl, String method, String path, String key, long length, String metadata) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (length >= 0) {
      b.header(Tus.UPLOAD_LENGTH, Long.toString(length));
    }
    if (metadata != null) {
      b.header(Tus.UPLOAD_METADATA, metadata);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> patch(String location, String key, long offset, byte[] body) throws Exception {
    return patch(api.baseUrl, location, key, offset, body);
  }

  static HttpResponse<String> patch(String baseUrl, String location, String key, long offset, byte[] body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + location))
        .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
        .header("Content-Type", Tus.OFFSET_CONTENT_TYPE).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static long serverOffset(String location, String key) throws Exception {
    HttpResponse<String> head = tus("HEAD", location, key, -1, null);
    assertEquals(200, head.statusCode(), head::body);
    return Long.parseLong(head.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
  }

  @Test
  void theCliUploadsResumablyInChunksThatDoNotMatchTheServers() throws Exception {
    String key = api.createTenant("tus-cli");
    byte[] csv = FileUploadTest.waterQuality();
    Path file = files.resolve("wq.csv");
    Files.write(file, csv);
    PlatformClient client = new PlatformClient(URI.create(api.baseUrl), "tus-cli", key);
    java.util.List<String> resumes = new java.util.concurrent.CopyOnWriteArrayList<>();
    PlatformClient.TusResult result = client.tusUpload(file, "wq.csv", "water", "text/csv", 300 * 1024, new PlatformClient.TransferListener() {
      @Override
      public void transferred(long bytes) {}

      @Override
      public void resuming(long offset, String reason) {
        resumes.add(offset + ": " + reason);
      }
    });
    assertEquals(java.util.List.of(), resumes, "a clean upload never needs to resume");
    assertEquals(csv.length, result.bytes());
    Reply staged = api.get("/v1/tenants/tus-cli/files/" + result.fileId(), key);
    assertEquals(200, staged.status(), staged::toString);
    assertEquals(FileUploadTest.sha256(csv), staged.json().path("sha256").asText());
    assertEquals("staged", staged.json().path("state").asText());
    assertEquals(9_999, api.ingestAndWait("tus-cli", key, java.util.List.of(result.fileId()), Duration.ofMinutes(2))
        .path("records").path("written").asLong());
  }

  @Test
  void aDroppedConnectionResumesAtTheServersOffset() throws Exception {
    String key = api.createTenant("tus-drop");
    byte[] csv = FileUploadTest.waterQuality();
    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-drop/uploads", key, csv.length, metadata("wq.csv", "text/csv"));
    assertEquals(201, created.statusCode(), created::body);
    String location = created.headers().firstValue("Location").orElseThrow();

    // The first PATCH's connection breaks after 1.3 MB.
    int cutAt = 1_300_000;
    InputStream breaking = new InputStream() {
      int position;

      @Override
      public int read() throws IOException {
        if (position >= cutAt) {
          throw new IOException("connection cut by the test");
        }
        return csv[position++] & 0xFF;
      }
    };
    HttpRequest cut = HttpRequest.newBuilder(URI.create(api.baseUrl + location))
        .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
        .header("Content-Type", Tus.OFFSET_CONTENT_TYPE).header(Tus.UPLOAD_OFFSET, "0")
        .method("PATCH", HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> breaking), csv.length))
        .build();
    assertThrows(IOException.class, () -> HTTP.send(cut, HttpResponse.BodyHandlers.ofString()));

    long offset = awaitStableOffset(location, key);
    assertTrue(offset > 0 && offset <= cutAt, "the server kept what arrived: " + offset);

    HttpResponse<String> wrong = patch(location, key, offset + 1, new byte[] {1});
    assertEquals(409, wrong.statusCode(), wrong::body);
    assertTrue(wrong.body().contains("offset_mismatch"), wrong.body());

    HttpResponse<String> rest = patch(location, key, offset, Arrays.copyOfRange(csv, (int) offset, csv.length));
    assertEquals(204, rest.statusCode(), rest::body);
    String fileId = rest.headers().firstValue(Tus.FILE_ID).orElseThrow();
    assertEquals(csv.length, Long.parseLong(rest.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow()));
    assertEquals(FileUploadTest.sha256(csv), api.get("/v1/tenants/tus-drop/files/" + fileId, key).json().path("sha256").asText());
    HttpResponse<String> completeHead = tus("HEAD", location, key, -1, null);
    assertEquals(fileId, completeHead.headers().firstValue(Tus.FILE_ID).orElseThrow());
    assertEquals(csv.length, Long.parseLong(completeHead.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow()),
        "a complete upload's offset is its length, whatever its last chunk's size");
  }

  /** The server finishes a broken PATCH asynchronously: wait until its offset stops moving. */
  static long awaitStableOffset(String location, String key) throws Exception {
    long last = -1;
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> head = tus("HEAD", location, key, -1, null);
      long offset = Long.parseLong(head.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
      if (offset == last && offset > 0) {
        return offset;
      }
      last = offset;
      Thread.sleep(200);
    }
    return last;
  }

  @Test
  void anUploadLongerThanDeclaredIsRefusedAndTheOffsetStays() throws Exception {
    String key = api.createTenant("tus-long");
    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-long/uploads", key, 10, metadata("x.csv", "text/csv"));
    String location = created.headers().firstValue("Location").orElseThrow();
    assertEquals(204, patch(location, key, 0, "a,b\n".getBytes()).statusCode());
    HttpResponse<String> tooLong = patch(location, key, 4, "1,2\n3,4\n5,6\n".getBytes());
    assertEquals(413, tooLong.statusCode(), tooLong::body);
    assertEquals(4, serverOffset(location, key));
    HttpResponse<String> done = patch(location, key, 4, "1,2\n3,".getBytes());
    assertEquals(204, done.statusCode(), done::body);
    assertTrue(done.headers().firstValue(Tus.FILE_ID).isPresent());
  }

  @Test
  void constraintsAndProtocolRulesApply() throws Exception {
    String key = api.createTenant("tus-rules");
    api.constraints("tus-rules", "{\"maxFiles\":1,\"maxFileSizeMegabytes\":1,\"formats\":[\"csv\"]}");
    HttpResponse<String> options = tus("OPTIONS", "/v1/tenants/tus-rules/uploads", key, -1, null);
    assertEquals(204, options.statusCode());
    assertEquals("1.0.0", options.headers().firstValue("Tus-Version").orElseThrow());
    assertTrue(options.headers().firstValue("Tus-Extension").orElseThrow().contains("creation"));

    assertEquals(413, tus("POST", "/v1/tenants/tus-rules/uploads", key, 2 * 1024 * 1024, metadata("x.csv", "text/csv")).statusCode());
    assertEquals(415, tus("POST", "/v1/tenants/tus-rules/uploads", key, 10, metadata("x.json", "application/json")).statusCode());
    assertEquals(400, tus("POST", "/v1/tenants/tus-rules/uploads", key, -1, metadata("x.csv", "text/csv")).statusCode());
    HttpResponse<String> noVersion = HTTP.send(HttpRequest.newBuilder(URI.create(api.baseUrl + "/v1/tenants/tus-rules/uploads"))
        .header("Authorization", "Bearer " + key).header(Tus.UPLOAD_LENGTH, "10").POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(412, noVersion.statusCode());

    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-rules/uploads", key, 8, metadata("x.csv", null));
    assertEquals(201, created.statusCode(), created::body);
    assertEquals(409, tus("POST", "/v1/tenants/tus-rules/uploads", key, 8, metadata("y.csv", "text/csv")).statusCode(),
        "the open upload holds the tenant's only file slot");
    String location = created.headers().firstValue("Location").orElseThrow();
    assertEquals(204, tus("DELETE", location, key, -1, null).statusCode());
    assertEquals(404, tus("HEAD", location, key, -1, null).statusCode());
    assertEquals(201, tus("POST", "/v1/tenants/tus-rules/uploads", key, 8, metadata("y.csv", "text/csv")).statusCode(),
        "termination gave the slot back");

    String other = api.createTenant("tus-other");
    assertEquals(403, tus("HEAD", location, other, -1, null).statusCode());
  }

  @Test
  void contentThatIsNotWhatItClaimsIsRefusedAtTheEnd() throws Exception {
    String key = api.createTenant("tus-content");
    byte[] json = "[{\"a\":1}]".getBytes();
    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-content/uploads", key, json.length, metadata("x.csv", "text/csv"));
    String location = created.headers().firstValue("Location").orElseThrow();
    HttpResponse<String> last = patch(location, key, 0, json);
    assertEquals(415, last.statusCode(), last::body);
    assertEquals(404, tus("HEAD", location, key, -1, null).statusCode(), "nothing of it is kept");
    assertEquals(0, api.get("/v1/tenants/tus-content/files", key).json().path("count").asInt());
  }
}
