package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.gridfs.GridFSBuckets;
import io.mysimbdp.node.testing.ExampleData;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploads over real HTTP: staged in GridFS within the tenant's constraints, or refused whole. */
class FileUploadTest {
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir);
    api = node.api;
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static Path waterQualityPath() {
    return ExampleData.waterQuality();
  }

  static byte[] waterQuality() throws Exception {
    return Files.readAllBytes(waterQualityPath());
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void aCsvFileIsStagedInGridFsWholeAndListed() throws Exception {
    String key = api.createTenant("up-alice");
    byte[] csv = waterQuality();
    Reply reply = api.upload("up-alice", key, "water-quality-10k.csv", "water", "text/csv", csv);
    assertEquals(201, reply.status(), reply::toString);
    JsonNode file = reply.json();
    assertEquals(csv.length, file.path("size").asLong());
    assertEquals(sha256(csv), file.path("sha256").asText());
    assertEquals("staged", file.path("state").asText());
    assertEquals("water", file.path("category").asText());
    assertEquals("csv", file.path("format").asText());

    // Any MongoDB driver reads the staged file back as a standard GridFS file.
    try (MongoClient client = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      GridFSBuckets.create(client.getDatabase("tenant_up-alice"), "staging")
          .downloadToStream(new org.bson.BsonString(file.path("id").asText()), out);
      assertEquals(sha256(csv), sha256(out.toByteArray()));
    }

    JsonNode list = api.get("/v1/tenants/up-alice/files", key).json();
    assertEquals(1, list.path("count").asInt());
    assertEquals(file.path("id").asText(), list.path("files").get(0).path("id").asText());
    assertEquals(200, api.get("/v1/tenants/up-alice/files/" + file.path("id").asText(), key).status());
  }

  @Test
  void fileNamesAreMetadataNeverPaths() {
    String key = api.createTenant("up-names");
    assertEquals("passwd", api.upload("up-names", key, "../../etc/passwd", null, "text/csv", "a,b\n1,2\n".getBytes()).json().path("name").asText());
    // Each file's content differs: the same content twice is a duplicate (409 duplicate_file).
    assertEquals("b.csv", api.upload("up-names", key, "a/b.csv", null, "text/csv", "a,b\n3,4\n".getBytes()).json().path("name").asText());
    assertEquals("c.csv", api.upload("up-names", key, "..\\..\\c.csv", null, "text/csv", "a\n1\n".getBytes()).json().path("name").asText());
    Reply longName = api.upload("up-names", key, "n".repeat(1000) + ".csv", null, "text/csv", "a\n1\n".getBytes());
    assertEquals(400, longName.status(), longName::toString);
    assertEquals("invalid_file_name", longName.errorCode());
    Reply noName = api.send("POST", "/v1/tenants/up-names/files", key, "text/csv", "a\n1\n".getBytes());
    assertEquals(400, noName.status(), noName::toString);
    Reply badCategory = api.upload("up-names", key, "x.csv", "../x", "text/csv", "a\n1\n".getBytes());
    assertEquals(400, badCategory.status(), badCategory::toString);
    assertEquals(3, api.get("/v1/tenants/up-names/files", key).json().path("count").asInt());
  }

  @Test
  void aFileOverTheSizeLimitIsRefusedAndNothingIsKept() throws Exception {
    String key = api.createTenant("up-size");
    api.constraints("up-size", "{\"maxFileSizeMegabytes\":1}");
    byte[] csv = waterQuality();
    Reply declared = api.upload("up-size", key, "big.csv", null, "text/csv", csv);
    assertEquals(413, declared.status(), declared::toString);
    assertEquals("file_too_large", declared.errorCode());

    // Without a Content-Length the limit is enforced while the body streams.
    Reply streamed = api.sendBody("POST", "/v1/tenants/up-size/files?name=big.csv", key, "text/csv",
        HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(csv)));
    assertEquals(413, streamed.status(), streamed::toString);
    assertEquals(0, api.get("/v1/tenants/up-size/files", key).json().path("count").asInt());
    try (MongoClient client = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      assertEquals(0, client.getDatabase("tenant_up-size").getCollection("staging.chunks").countDocuments(),
          "no chunk of a refused upload is kept");
    }
    assertEquals(201, api.upload("up-size", key, "small.csv", null, "text/csv", "a\n1\n".getBytes()).status(),
        "the refused uploads gave their file slots back");
  }

  @Test
  void contentMustBeWhatItClaims() {
    String key = api.createTenant("up-content");
    api.constraints("up-content", "{\"formats\":[\"csv\",\"json\"]}");
    Reply notAllowed = api.upload("up-content", key, "x.ndjson", null, "application/x-ndjson", "{\"a\":1}\n".getBytes());
    assertEquals(415, notAllowed.status(), notAllowed::toString);
    assertEquals("format_not_allowed", notAllowed.errorCode());

    Reply csvAsJson = api.upload("up-content", key, "x.json", null, "application/json", "a,b\n1,2\n".getBytes());
    assertEquals(415, csvAsJson.status(), csvAsJson::toString);
    assertEquals("content_mismatch", csvAsJson.errorCode());

    byte[] invalidUtf8 = {'a', ',', 'b', '\n', (byte) 0xC3, (byte) 0x28, ',', '1', '\n'};
    Reply badEncoding = api.upload("up-content", key, "x.csv", null, "text/csv", invalidUtf8);
    assertEquals(415, badEncoding.status(), badEncoding::toString);
    assertEquals("invalid_encoding", badEncoding.errorCode());

    Reply binary = api.upload("up-content", key, "x.csv", null, "text/csv", new byte[] {'a', 0, 'b'});
    assertEquals(415, binary.status(), binary::toString);

    Reply empty = api.upload("up-content", key, "x.csv", null, "text/csv", new byte[0]);
    assertEquals(422, empty.status(), empty::toString);
    assertEquals("empty_file", empty.errorCode());

    Reply wrongType = api.upload("up-content", key, "x.txt", null, "text/plain", "a\n".getBytes());
    assertEquals(415, wrongType.status(), wrongType::toString);
    assertEquals("unsupported_media_type", wrongType.errorCode());

    assertEquals(0, api.get("/v1/tenants/up-content/files", key).json().path("count").asInt());
  }

  /**
   * A body that comes after its headers (as most clients send it) and is refused at its first bytes:
   * the answer comes, and a connection the server closes after it says so, so that no client sends
   * its next request on a connection about to close. Then the same connection, if kept, still works.
   */
  @Test
  void aStreamedUploadRefusedEarlyIsAnsweredAndItsConnectionClosedOnlyIfSaid() throws Exception {
    String key = api.createTenant("up-streamed");
    java.net.URI base = java.net.URI.create(api.baseUrl);
    byte[] invalidUtf8 = {'a', ',', 'b', '\n', (byte) 0xC3, (byte) 0x28, ',', '1', '\n'};
    for (int round = 0; round < 5; round++) {
      try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
        socket.setSoTimeout(30_000);
        var out = socket.getOutputStream();
        out.write(("POST /v1/tenants/up-streamed/files?name=x.csv HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: Bearer " + key
            + "\r\nContent-Type: text/csv\r\nContent-Length: " + invalidUtf8.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(200);
        out.write(invalidUtf8);
        out.flush();
        String response = readResponse(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 415"), response);
        assertTrue(response.contains("invalid_encoding"), response);
        boolean saidClose = response.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close");
        // Kept open: a second request on it is answered.
        if (!saidClose) {
          out.write(("GET /v1/tenants/up-streamed/files HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: Bearer " + key + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
          String second = readResponse(socket.getInputStream());
          assertTrue(second.startsWith("HTTP/1.1 200"), "the connection was kept but the next request on it got: '" + second + "' after " + response);
        }
      }
    }
  }

  /**
   * A body refused from its headers alone (a format the tenant may not upload), its bytes arriving
   * after the answer was sent: they must not meet a closed socket, whose reset would destroy the
   * answer on its way to the client.
   */
  @Test
  void aBodyArrivingAfterItsRefusalDoesNotDestroyTheAnswer() throws Exception {
    String key = api.createTenant("up-early");
    api.constraints("up-early", "{\"formats\":[\"csv\"]}");
    java.net.URI base = java.net.URI.create(api.baseUrl);
    byte[] body = "{\"a\":1}\n".getBytes(StandardCharsets.UTF_8);
    for (int round = 0; round < 3; round++) {
      try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
        socket.setSoTimeout(30_000);
        var out = socket.getOutputStream();
        out.write(("POST /v1/tenants/up-early/files?name=x.ndjson HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: Bearer " + key
            + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        Thread.sleep(500);
        out.write(body);
        out.flush();
        Thread.sleep(200);
        String response = readResponse(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 415"), "round " + round + ": '" + response + "'");
        assertTrue(response.contains("format_not_allowed"), response);
      }
    }
  }

  /** One HTTP/1.1 response with a Content-Length body, as text. */
  private static String readResponse(java.io.InputStream in) throws java.io.IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return head.toString(StandardCharsets.ISO_8859_1);
      }
      head.write(b);
    }
    String headers = head.toString(StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: *(\\d+)").matcher(headers);
    int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
    return headers + new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }

  @Test
  void theFileCountIsEnforcedEvenWhenUploadsRace() throws Exception {
    String key = api.createTenant("up-count");
    api.constraints("up-count", "{\"maxFiles\":3}");
    // Distinct contents: the same content twice would be refused as a duplicate.
    java.util.function.Function<String, byte[]> small = n -> ("a,b\n" + n + ",2\n").getBytes(StandardCharsets.UTF_8);
    assertEquals(201, api.upload("up-count", key, "1.csv", null, "text/csv", small.apply("1")).status());
    assertEquals(201, api.upload("up-count", key, "2.csv", null, "text/csv", small.apply("2")).status());

    // Two uploads race for the last slot: exactly one wins.
    List<CompletableFuture<Reply>> racers = List.of(
        CompletableFuture.supplyAsync(() -> api.upload("up-count", key, "3a.csv", null, "text/csv", small.apply("3a"))),
        CompletableFuture.supplyAsync(() -> api.upload("up-count", key, "3b.csv", null, "text/csv", small.apply("3b"))));
    List<Integer> statuses = racers.stream().map(CompletableFuture::join).map(Reply::status).sorted().toList();
    assertEquals(List.of(201, 409), statuses);
    assertEquals(3, api.get("/v1/tenants/up-count/files", key).json().path("count").asInt());

    Reply over = api.upload("up-count", key, "4.csv", null, "text/csv", small.apply("4"));
    assertEquals(409, over.status(), over::toString);
    assertEquals("too_many_files", over.errorCode());

    String first = api.get("/v1/tenants/up-count/files", key).json().path("files").get(0).path("id").asText();
    assertEquals(204, api.send("DELETE", "/v1/tenants/up-count/files/" + first, key, null, null).status());
    assertEquals(404, api.get("/v1/tenants/up-count/files/" + first, key).status());
    assertEquals(201, api.upload("up-count", key, "4.csv", null, "text/csv", small.apply("4")).status(), "deleting freed a slot");
  }

  @Test
  void anotherTenantsKeyCannotUploadOrList() {
    String key = api.createTenant("up-owner");
    String other = api.createTenant("up-other");
    assertEquals(403, api.upload("up-owner", other, "x.csv", null, "text/csv", "a\n1\n".getBytes()).status());
    assertEquals(403, api.get("/v1/tenants/up-owner/files", other).status());
    assertEquals(403, api.get("/v1/tenants/up-owner/data/records", other).status());
    assertTrue(api.get("/v1/tenants/up-owner/files", key).json().path("files").isEmpty());
  }
}
