package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.Tus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tus expiration against two nodes sharing one store, both sweeping: an upload not appended to for
 * {@value #EXPIRY_SECONDS} s is answered 410, its chunks are removed and its file slot comes back
 * exactly once; an upload that keeps being appended to outlives its first Upload-Expires and
 * completes and ingests. A completed upload's record and an expired one's tombstone are forgotten
 * one expiry later; the sweep finds what is due through an index, records written before it too.
 */
class ResumableUploadExpiryTest {
  // Long enough that a busy machine stalling the appending client for seconds does not expire the busy upload.
  static final int EXPIRY_SECONDS = 8;
  static final Duration EXPIRY = Duration.ofSeconds(EXPIRY_SECONDS);
  /** IMF-fixdate, the HTTP-date form a server must send (RFC 7231 7.1.1.1). */
  static final String IMF_FIXDATE = "[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir static Path dataDir1;
  @TempDir static Path dataDir2;
  static TestNode node1;
  static TestNode node2;
  static MongoClient store;

  static Config expiring() {
    return ConfigFactory.parseString(
        "mysimbdp.batch.upload-expiry = " + EXPIRY_SECONDS + "s\n" + "mysimbdp.batch.upload-sweep-interval = 250ms\n");
  }

  /** Whether the legacy tenant's {@code uploads} had the sweep's index before the second node started. */
  static boolean legacyIndexedBeforeStartUp;

  @BeforeAll
  static void startTwoNodes() throws Exception {
    node1 = TestNode.start(dataDir1, expiring());
    store = MongoClients.create(node1.embedded.mongo().orElseThrow().connectionString());
    // A tenant whose uploads collection predates the sweep's index: the second node's start-up adds it.
    node1.api.createTenant("exp-legacy");
    uploads("exp-legacy").insertOne(new Document("_id", "legacy-before-index").append("fileId", "legacy-before-index")
        .append("length", 8L).append("completedAt", new Date()));
    legacyIndexedBeforeStartUp = hasSweepIndex("exp-legacy");
    node2 = TestNode.startJoining(node1, dataDir2, expiring());
  }

  @AfterAll
  static void stop() {
    store.close();
    // One after the other: two systems in one JVM stopping at once can time out.
    node2.close();
    node1.close();
  }

  static HttpResponse<String> tus(TestNode node, String method, String path, String key, long length) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.api.baseUrl + path))
        .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (length >= 0) {
      b.header(Tus.UPLOAD_LENGTH, Long.toString(length))
          .header(Tus.UPLOAD_METADATA, ResumableUploadTest.metadata("wq.csv", "text/csv"));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> create(String tenant, String key, long length) throws Exception {
    HttpResponse<String> created = tus(node1, "POST", "/v1/tenants/" + tenant + "/uploads", key, length);
    assertEquals(201, created.statusCode(), created::body);
    return created;
  }

  static HttpResponse<String> patch(TestNode node, String location, String key, long offset, byte[] body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(node.api.baseUrl + location))
        .header("Authorization", "Bearer " + key).header(Tus.RESUMABLE, Tus.VERSION)
        .header("Content-Type", Tus.OFFSET_CONTENT_TYPE).header(Tus.UPLOAD_OFFSET, Long.toString(offset))
        .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The response's Upload-Expires: an IMF-fixdate, parsed. */
  static Instant uploadExpires(HttpResponse<String> response) {
    String value = response.headers().firstValue(Tus.UPLOAD_EXPIRES)
        .orElseThrow(() -> new AssertionError("no " + Tus.UPLOAD_EXPIRES + " in " + response.headers().map()));
    assertTrue(value.matches(IMF_FIXDATE), "an IMF-fixdate HTTP-date: " + value);
    return ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
  }

  static String uploadId(String location) {
    return location.substring(location.lastIndexOf('/') + 1);
  }

  static long chunksOf(String tenant, String uploadId) {
    return store.getDatabase("tenant_" + tenant).getCollection(StagingStore.BUCKET + ".chunks")
        .countDocuments(new Document("files_id", uploadId));
  }

  static MongoCollection<Document> uploads(String tenant) {
    return store.getDatabase("tenant_" + tenant).getCollection(ResumableUploads.COLLECTION);
  }

  static Document uploadDocument(String tenant, String uploadId) {
    return uploads(tenant).find(new Document("_id", uploadId)).first();
  }

  /** Whether the tenant's {@code uploads} lists an index on exactly {@code sweepAt}. */
  static boolean hasSweepIndex(String tenant) {
    return uploads(tenant).listIndexes().into(new ArrayList<>()).stream()
        .anyMatch(index -> new Document(ResumableUploads.SWEEP_AT, 1).equals(index.get("key", Document.class)));
  }

  static int fileCount(String tenant) {
    Document t = store.getDatabase("mysimbdp").getCollection("tenants").find(new Document("_id", tenant)).first();
    return t.get("fileCount") instanceof Number n ? n.intValue() : 0;
  }

  static void await(Duration within, String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within + ": " + what);
      }
      Thread.sleep(100);
    }
  }

  @Test
  void creationPatchAndHeadAnswerUploadExpiresAsAnHttpDateInTheFuture() throws Exception {
    String key = node1.api.createTenant("exp-headers");
    HttpResponse<String> options = tus(node1, "OPTIONS", "/v1/tenants/exp-headers/uploads", key, -1);
    assertEquals(204, options.statusCode());
    assertTrue(Arrays.asList(options.headers().firstValue("Tus-Extension").orElseThrow().split(",")).contains("expiration"),
        options.headers().map()::toString);

    byte[] csv = "a,b\n1,2\n".getBytes();
    Instant sent = Instant.now();
    HttpResponse<String> created = create("exp-headers", key, csv.length);
    Instant atCreation = uploadExpires(created);
    assertTrue(atCreation.isAfter(sent), "in the future: " + atCreation + " vs " + sent);
    assertFalse(atCreation.isAfter(sent.plus(EXPIRY).plusSeconds(1)), "one expiry from now: " + atCreation + " vs " + sent);
    String location = created.headers().firstValue("Location").orElseThrow();

    // An append pushes the expiry back (the HTTP-date has whole seconds: wait past one).
    Thread.sleep(1_100);
    HttpResponse<String> appended = patch(node1, location, key, 0, Arrays.copyOf(csv, 4));
    assertEquals(204, appended.statusCode(), appended::body);
    Instant afterAppend = uploadExpires(appended);
    assertTrue(afterAppend.isAfter(atCreation), afterAppend + " after " + atCreation);
    assertTrue(afterAppend.isAfter(Instant.now()), "in the future: " + afterAppend);
    assertEquals(afterAppend, uploadExpires(tus(node2, "HEAD", location, key, -1)), "HEAD on either node answers it too");

    HttpResponse<String> last = patch(node1, location, key, 4, Arrays.copyOfRange(csv, 4, csv.length));
    assertEquals(204, last.statusCode(), last::body);
    assertTrue(last.headers().firstValue(Tus.FILE_ID).isPresent(), last.headers().map()::toString);
    assertTrue(last.headers().firstValue(Tus.UPLOAD_EXPIRES).isEmpty(), "a complete upload no longer expires");
  }

  @Test
  void anIdleUploadExpiresAndIsSweptWhileAnotherTenantsBusyUploadCompletesAndIngests() throws Exception {
    byte[] csv = FileUploadTest.waterQuality();

    // The idle tenant: one staged file, and an upload left after one full chunk and a tail.
    String idleKey = node1.api.createTenant("exp-idle");
    node1.api.constraints("exp-idle", "{\"maxFiles\":2}");
    assertEquals(201, node1.api.upload("exp-idle", idleKey, "kept.csv", "water", "text/csv", "a,b\n1,2\n".getBytes()).status());
    HttpResponse<String> idleCreated = create("exp-idle", idleKey, csv.length);
    String idle = idleCreated.headers().firstValue("Location").orElseThrow();
    int partial = StagingStore.CHUNK_SIZE + 100_000;
    HttpResponse<String> idlePatched = patch(node1, idle, idleKey, 0, Arrays.copyOf(csv, partial));
    assertEquals(204, idlePatched.statusCode(), idlePatched::body);
    Instant idleExpires = uploadExpires(idlePatched);
    assertEquals(1, chunksOf("exp-idle", uploadId(idle)), "the partial upload's full chunk is in the store");
    assertEquals(2, fileCount("exp-idle"));

    // The busy tenant appends a slice about every expiry/4 until well past the first expiry.
    String busyKey = node1.api.createTenant("exp-busy");
    HttpResponse<String> busyCreated = create("exp-busy", busyKey, csv.length);
    Instant busyFirstExpires = uploadExpires(busyCreated);
    String busy = busyCreated.headers().firstValue("Location").orElseThrow();
    int slice = csv.length / 60;
    int sent = 0;
    Instant lastExpires = busyFirstExpires;
    String idleId = uploadId(idle);
    boolean idleChecked = false;
    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
    while (!idleChecked || Instant.now().isBefore(busyFirstExpires.plus(EXPIRY))) {
      assertTrue(System.nanoTime() < deadline, "the idle upload was not swept within 40 s");
      assertTrue(sent + slice < csv.length, "slices left to keep the busy upload alive");
      HttpResponse<String> kept = patch(node2, busy, busyKey, sent, Arrays.copyOfRange(csv, sent, sent + slice));
      assertEquals(204, kept.statusCode(), kept::body);
      sent += slice;
      Instant expires = uploadExpires(kept);
      assertFalse(expires.isBefore(lastExpires), "each append moves the expiry on: " + expires + " after " + lastExpires);
      lastExpires = expires;
      if (!idleChecked && uploadDocument("exp-idle", idleId).containsKey("expired")) {
        // Swept: known to have expired (410 for one more expiry, with the error body), its bytes and slot gone.
        assertTrue(Instant.now().isAfter(idleExpires));
        assertEquals(410, tus(node1, "HEAD", idle, idleKey, -1).statusCode());
        HttpResponse<String> status = tus(node2, "GET", idle, idleKey, -1);
        assertEquals(410, status.statusCode(), status::body);
        assertTrue(status.body().contains("\"upload_expired\""), "the project's error body: " + status.body());
        HttpResponse<String> rest = patch(node1, idle, idleKey, partial, Arrays.copyOfRange(csv, partial, csv.length));
        assertEquals(410, rest.statusCode(), "an expired upload is never completed: " + rest.body());
        assertEquals(410, tus(node2, "DELETE", idle, idleKey, -1).statusCode());
        idleChecked = true;
      }
      Thread.sleep(EXPIRY.toMillis() / 4);
    }
    assertTrue(Instant.now().isAfter(busyFirstExpires), "the busy upload outlived its first Upload-Expires");

    assertEquals(0, chunksOf("exp-idle", idleId), "the idle upload's chunks are removed from the store");
    assertEquals(1, node1.api.get("/v1/tenants/exp-idle/files", idleKey).json().path("count").asInt(), "only the staged file is left");
    assertEquals(1, fileCount("exp-idle"), "two nodes sweeping gave the slot back exactly once");
    assertEquals(201, tus(node1, "POST", "/v1/tenants/exp-idle/uploads", idleKey, 8).statusCode(), "the freed slot is usable");
    assertEquals(409, tus(node1, "POST", "/v1/tenants/exp-idle/uploads", idleKey, 8).statusCode(), "and only one was freed");

    // The busy upload was never touched: it completes and ingests.
    HttpResponse<String> head = tus(node1, "HEAD", busy, busyKey, -1);
    assertEquals(200, head.statusCode(), head::body);
    assertEquals(sent, Long.parseLong(head.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow()));
    HttpResponse<String> last = patch(node1, busy, busyKey, sent, Arrays.copyOfRange(csv, sent, csv.length));
    assertEquals(204, last.statusCode(), last::body);
    String fileId = last.headers().firstValue(Tus.FILE_ID).orElseThrow();
    assertEquals(FileUploadTest.sha256(csv), node1.api.get("/v1/tenants/exp-busy/files/" + fileId, busyKey).json().path("sha256").asText());
    assertEquals(9_999, node1.api.ingestAndWait("exp-busy", busyKey, java.util.List.of(fileId), Duration.ofMinutes(2))
        .path("records").path("written").asLong());

    // One expiry after the sweep the tombstone is forgotten: then the upload is simply unknown.
    await(Duration.ofSeconds(20), "the tombstone is removed", () -> uploadDocument("exp-idle", idleId) == null);
    assertEquals(404, tus(node1, "HEAD", idle, idleKey, -1).statusCode());
  }

  @Test
  void aCompletedUploadsRecordIsKeptForOneExpiryThenForgottenWhileAYoungerOpenUploadSurvivesTheSameSweeps() throws Exception {
    String key = node1.api.createTenant("exp-done");
    byte[] csv = "a,b\n1,2\n".getBytes();
    String done = create("exp-done", key, csv.length).headers().firstValue("Location").orElseThrow();
    HttpResponse<String> last = patch(node1, done, key, 0, csv);
    assertEquals(204, last.statusCode(), last::body);
    String fileId = last.headers().firstValue(Tus.FILE_ID).orElseThrow();
    Document record = uploadDocument("exp-done", uploadId(done));
    Instant completed = record.getDate("completedAt").toInstant();
    assertEquals(completed.plus(EXPIRY), record.getDate(ResumableUploads.SWEEP_AT).toInstant(), "due one expiry after it completed");

    // Meanwhile a late HEAD (on either node) still learns the upload is complete, and where its file is.
    HttpResponse<String> head = tus(node2, "HEAD", done, key, -1);
    assertEquals(200, head.statusCode());
    assertEquals(Long.toString(csv.length), head.headers().firstValue(Tus.UPLOAD_OFFSET).orElseThrow());
    assertEquals(fileId, head.headers().firstValue(Tus.FILE_ID).orElseThrow());

    // An upload created half an expiry later, never appended to: not due when the record is.
    Thread.sleep(EXPIRY.toMillis() / 2);
    String younger = create("exp-done", key, 100).headers().firstValue("Location").orElseThrow();
    Instant youngerExpires = uploadDocument("exp-done", uploadId(younger)).getDate("expiresAt").toInstant();

    await(EXPIRY.plusSeconds(10), "the completed upload's record is removed", () -> uploadDocument("exp-done", uploadId(done)) == null);
    Instant forgotten = Instant.now();
    assertFalse(forgotten.isBefore(completed.plus(EXPIRY)), "kept for one expiry: removed at " + forgotten + ", completed " + completed);
    assertEquals(404, tus(node1, "HEAD", done, key, -1).statusCode(), "then the upload is unknown");
    assertEquals(200, node1.api.get("/v1/tenants/exp-done/files/" + fileId, key).status(), "its staged file stays");

    assertTrue(forgotten.isBefore(youngerExpires), "the younger upload was not due yet: " + forgotten + " vs " + youngerExpires);
    Document open = uploadDocument("exp-done", uploadId(younger));
    assertFalse(open == null || open.containsKey("expired"), "the sweeps left the open upload alone: " + open);
    HttpResponse<String> youngerHead = tus(node2, "HEAD", younger, key, -1);
    assertEquals(200, youngerHead.statusCode(), youngerHead::body);
    assertEquals(youngerExpires.getEpochSecond(), uploadExpires(youngerHead).getEpochSecond(), "still answered with its first expiry");
  }

  @Test
  void theSweepFindsWhatIsDueThroughAnIndexOnSweepAtMadeAtStartUpAndWithATenantsFirstUpload() throws Exception {
    assertFalse(legacyIndexedBeforeStartUp, "the legacy collection had no sweep index before");
    await(Duration.ofSeconds(15), "the second node's start-up indexes the existing uploads collection", () -> hasSweepIndex("exp-legacy"));

    String key = node1.api.createTenant("exp-index");
    assertFalse(hasSweepIndex("exp-index"));
    create("exp-index", key, 8);
    assertTrue(hasSweepIndex("exp-index"), "the first upload creates the collection with its index");

    // Every field the sweep's query names is the index's: MongoDB answers it from the index (the
    // embedded server lists the index but scans; its collections stay small, records being removed).
    Set<String> fields = new HashSet<>();
    fieldsOf(UploadRecords.dueBy(Instant.now()).toBsonDocument(), fields);
    assertEquals(Set.of(ResumableUploads.SWEEP_AT), fields);
  }

  /** The field names in a query, not its operators. */
  static void fieldsOf(BsonValue query, Set<String> fields) {
    if (query.isDocument()) {
      query.asDocument().forEach((name, value) -> {
        if (!name.startsWith("$")) {
          fields.add(name);
        }
        fieldsOf(value, fields);
      });
    } else if (query.isArray()) {
      query.asArray().forEach(element -> fieldsOf(element, fields));
    }
  }

  @Test
  void recordsWrittenWithoutSweepAtAreFoundAndSweptAllTheSame() throws Exception {
    // As a node before sweepAt wrote them (or one not upgraded yet, in a rolling upgrade).
    Instant now = Instant.now();
    Date longAgo = Date.from(now.minus(EXPIRY.multipliedBy(2)));
    Date soon = Date.from(now.plus(Duration.ofHours(1)));
    uploads("exp-legacy").insertMany(List.of(
        legacy("done-long-ago").append("fileId", "done-long-ago").append("completedAt", longAgo),
        legacy("done-now").append("fileId", "done-now").append("completedAt", Date.from(now)),
        legacy("tombstone-long-ago").append("expired", true).append("expiredAt", longAgo),
        legacy("open").append("createdAt", Date.from(now)).append("expiresAt", soon),
        legacy("idle").append("createdAt", longAgo).append("expiresAt", Date.from(now.minusSeconds(1))),
        legacy("idle-before-expiresAt").append("createdAt", longAgo)));
    store.getDatabase("mysimbdp").getCollection("tenants")
        .updateOne(new Document("_id", "exp-legacy"), new Document("$set", new Document("fileCount", 3)));

    // Those not due are left, with sweepAt set to when they are: the next sweeps pass them by.
    await(Duration.ofSeconds(5), "the records not due get their sweepAt", () -> uploadDocument("exp-legacy", "done-now").containsKey("sweepAt")
        && uploadDocument("exp-legacy", "open").containsKey("sweepAt"));
    assertEquals(Date.from(now.plus(EXPIRY)), uploadDocument("exp-legacy", "done-now").getDate(ResumableUploads.SWEEP_AT));
    assertEquals(soon, uploadDocument("exp-legacy", "open").getDate(ResumableUploads.SWEEP_AT));
    assertFalse(uploadDocument("exp-legacy", "open").containsKey("expired"));

    await(Duration.ofSeconds(15), "the due legacy records are swept", () -> uploadDocument("exp-legacy", "done-long-ago") == null
        && uploadDocument("exp-legacy", "tombstone-long-ago") == null
        && uploadDocument("exp-legacy", "idle").containsKey("expired")
        && uploadDocument("exp-legacy", "idle-before-expiresAt").containsKey("expired"));
    assertEquals(1, fileCount("exp-legacy"), "both expired uploads gave their slot back, once");
    Document idle = uploadDocument("exp-legacy", "idle");
    assertEquals(idle.getDate("expiredAt").toInstant().plus(EXPIRY), idle.getDate(ResumableUploads.SWEEP_AT).toInstant(), "a tombstone for one expiry");
  }

  /** An unfinished upload's record as the code before sweepAt wrote it, its dates left to the caller. */
  static Document legacy(String id) {
    return new Document("_id", id).append("length", 100L).append("nextChunk", 0).append("tail", new Binary(new byte[0]))
        .append("name", id + ".csv").append("category", "water").append("format", "csv").append("leaseUntil", new Date(0));
  }
}
