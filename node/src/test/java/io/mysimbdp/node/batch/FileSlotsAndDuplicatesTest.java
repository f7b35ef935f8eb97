package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.errors.Refusal;
import io.mysimbdp.node.entity.IngestionServices;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.Tus;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file-slot counter never drifts (failed, abandoned and concurrently deleted uploads), a file in
 * a job is held by it, and the same content is staged once per tenant unless a copy is asked for.
 */
class FileSlotsAndDuplicatesTest {
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;
  static MongoClient mongo;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir);
    api = node.api;
    mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString());
  }

  @AfterAll
  static void stop() {
    mongo.close();
    node.close();
  }

  static MongoDatabase db(String tenant) {
    return mongo.getDatabase("tenant_" + tenant);
  }

  static int fileCount(String tenant) {
    Document t = mongo.getDatabase("mysimbdp").getCollection("tenants").find(Filters.eq("_id", tenant)).first();
    return ((Number) t.get("fileCount")).intValue();
  }

  static byte[] csv(String value) {
    return ("a,b\n" + value + ",2\n").getBytes(StandardCharsets.UTF_8);
  }

  static void await(Duration within, String what, BooleanSupplier condition) throws InterruptedException {
    ResumableUploadExpiryTest.await(within, what, condition);
  }

  static List<Reply> concurrently(int n, java.util.function.Supplier<Reply> request) {
    List<CompletableFuture<Reply>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(CompletableFuture.supplyAsync(request));
    }
    return all.stream().map(CompletableFuture::join).toList();
  }

  @Test
  void concurrentDeletesOfOneFileGiveItsSlotBackOnce() {
    // The case: maxFiles 1, upload, two concurrent DELETEs, then two uploads.
    String key = api.createTenant("slot-one");
    api.constraints("slot-one", "{\"maxFiles\":1}");
    String id = api.upload("slot-one", key, "a.csv", null, "text/csv", csv("1")).json().path("id").asText();
    List<Integer> deletes = concurrently(2, () -> api.send("DELETE", "/v1/tenants/slot-one/files/" + id, key, null, null))
        .stream().map(Reply::status).sorted().toList();
    assertEquals(List.of(204, 404), deletes);
    assertEquals(201, api.upload("slot-one", key, "b.csv", null, "text/csv", csv("2")).status());
    Reply second = api.upload("slot-one", key, "c.csv", null, "text/csv", csv("3"));
    assertEquals(409, second.status(), second::toString);
    assertEquals("too_many_files", second.errorCode());

    // With another file held, a doubled give-back would show as one slot too many.
    String key2 = api.createTenant("slot-two");
    api.constraints("slot-two", "{\"maxFiles\":2}");
    assertEquals(201, api.upload("slot-two", key2, "keep.csv", null, "text/csv", csv("k")).status());
    String gone = api.upload("slot-two", key2, "gone.csv", null, "text/csv", csv("g")).json().path("id").asText();
    List<Reply> racing = concurrently(4, () -> api.send("DELETE", "/v1/tenants/slot-two/files/" + gone, key2, null, null));
    assertEquals(1, racing.stream().filter(r -> r.status() == 204).count(), racing::toString);
    assertEquals(1, fileCount("slot-two"));
    assertEquals(201, api.upload("slot-two", key2, "n1.csv", null, "text/csv", csv("n1")).status());
    assertEquals(409, api.upload("slot-two", key2, "n2.csv", null, "text/csv", csv("n2")).status());
  }

  @Test
  void concurrentTusTerminationsGiveTheSlotBackOnce() throws Exception {
    String key = api.createTenant("slot-tus");
    api.constraints("slot-tus", "{\"maxFiles\":2}");
    assertEquals(201, api.upload("slot-tus", key, "keep.csv", null, "text/csv", csv("k")).status());
    HttpResponse<String> created = tus("POST", "/v1/tenants/slot-tus/uploads", key, 100, metadata("t.csv", null));
    assertEquals(201, created.statusCode(), created::body);
    String location = created.headers().firstValue("Location").orElseThrow();
    List<CompletableFuture<HttpResponse<String>>> deletes = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      deletes.add(CompletableFuture.supplyAsync(() -> {
        try {
          return tus("DELETE", location, key, -1, null);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    long removed = deletes.stream().map(CompletableFuture::join).filter(r -> r.statusCode() == 204).count();
    assertEquals(1, removed);
    assertEquals(1, fileCount("slot-tus"));
  }

  @Test
  void theSameContentIsStagedOnceUnlessACopyIsAskedFor() throws Exception {
    String key = api.createTenant("dup-plain");
    byte[] bytes = csv("same");
    Reply first = api.upload("dup-plain", key, "first.csv", null, "text/csv", bytes);
    assertEquals(201, first.status(), first::toString);
    String firstId = first.json().path("id").asText();

    Reply again = api.upload("dup-plain", key, "again.csv", null, "text/csv", bytes);
    assertEquals(409, again.status(), again::toString);
    assertEquals("duplicate_file", again.errorCode());
    assertEquals(firstId, again.json().path("details").path("fileId").asText());
    assertTrue(again.json().path("message").asText().contains(firstId), again::toString);
    assertEquals(firstId, again.raw().headers().firstValue(Tus.FILE_ID).orElseThrow());
    // Nothing of the refused upload is kept: no file, no chunks, no slot, no in-progress record.
    assertEquals(1, api.get("/v1/tenants/dup-plain/files", key).json().path("count").asInt());
    assertEquals(1, fileCount("dup-plain"));
    assertEquals(1, db("dup-plain").getCollection("staging.chunks").countDocuments());
    assertEquals(0, db("dup-plain").getCollection("uploads").countDocuments());

    Reply copy = api.send("POST", "/v1/tenants/dup-plain/files?name=copy.csv&duplicate=allow", key, "text/csv", bytes);
    assertEquals(201, copy.status(), copy::toString);
    assertEquals(2, fileCount("dup-plain"));
    Reply bad = api.send("POST", "/v1/tenants/dup-plain/files?name=x.csv&duplicate=yes", key, "text/csv", bytes);
    assertEquals(400, bad.status(), bad::toString);

    // Deleted, the content may come again.
    assertEquals(204, api.send("DELETE", "/v1/tenants/dup-plain/files/" + firstId, key, null, null).status());
    assertEquals(201, api.upload("dup-plain", key, "back.csv", null, "text/csv", bytes).status());

    // Another tenant's identical file is no duplicate.
    String other = api.createTenant("dup-other");
    assertEquals(201, api.upload("dup-other", other, "first.csv", null, "text/csv", bytes).status());
  }

  @Test
  void twoRacingUploadsOfTheSameContentStageOneFile() {
    String key = api.createTenant("dup-race");
    byte[] bytes = csv("race");
    List<Integer> statuses = concurrently(3, () -> api.upload("dup-race", key, "r.csv", null, "text/csv", bytes))
        .stream().map(Reply::status).sorted().toList();
    assertEquals(List.of(201, 409, 409), statuses);
    assertEquals(1, fileCount("dup-race"));
    assertEquals(1, api.get("/v1/tenants/dup-race/files", key).json().path("count").asInt());
  }

  @Test
  void tusRefusesADuplicateAtCreationWhenTheHashIsSentOtherwiseAtCompletion() throws Exception {
    String key = api.createTenant("dup-tus");
    byte[] bytes = csv("tus");
    String existing = api.upload("dup-tus", key, "plain.csv", null, "text/csv", bytes).json().path("id").asText();
    String sha = FileUploadTest.sha256(bytes);

    HttpResponse<String> refused = tus("POST", "/v1/tenants/dup-tus/uploads", key, bytes.length,
        metadata("t.csv", null) + ",sha256 " + b64(sha));
    assertEquals(409, refused.statusCode(), refused::body);
    assertTrue(refused.body().contains("duplicate_file"), refused::body);
    assertEquals(existing, refused.headers().firstValue(Tus.FILE_ID).orElseThrow());
    assertEquals(1, fileCount("dup-tus"));
    assertEquals(400, tus("POST", "/v1/tenants/dup-tus/uploads", key, bytes.length,
        metadata("t.csv", null) + ",sha256 " + b64("not-hex")).statusCode());

    // Without the hash: refused by the PATCH that completes it, and nothing is kept.
    HttpResponse<String> created = tus("POST", "/v1/tenants/dup-tus/uploads", key, bytes.length, metadata("t.csv", null));
    assertEquals(201, created.statusCode(), created::body);
    String location = created.headers().firstValue("Location").orElseThrow();
    HttpResponse<String> last = patch(location, key, 0, bytes);
    assertEquals(409, last.statusCode(), last::body);
    assertTrue(last.body().contains("duplicate_file"), last::body);
    assertEquals(existing, last.headers().firstValue(Tus.FILE_ID).orElseThrow());
    assertEquals(1, fileCount("dup-tus"));
    assertEquals(1, db("dup-tus").getCollection("staging.chunks").countDocuments());
    assertEquals(404, tus("HEAD", location, key, -1, null).statusCode());

    // duplicate=allow on creation keeps a copy, hash sent or not.
    HttpResponse<String> allowed = tus("POST", "/v1/tenants/dup-tus/uploads?duplicate=allow", key, bytes.length,
        metadata("t.csv", null) + ",sha256 " + b64(sha));
    assertEquals(201, allowed.statusCode(), allowed::body);
    HttpResponse<String> done = patch(allowed.headers().firstValue("Location").orElseThrow(), key, 0, bytes);
    assertEquals(204, done.statusCode(), done::body);
    assertEquals(2, fileCount("dup-tus"));
  }

  @Test
  void tusRefusesAFileWhoseBytesAreNotTheDeclaredHashAndKeepsNothing() throws Exception {
    String key = api.createTenant("tus-sum");
    byte[] declared = csv("declared");
    byte[] sent = csv("tampered");
    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-sum/uploads", key, sent.length,
        metadata("t.csv", null) + ",sha256 " + b64(FileUploadTest.sha256(declared)));
    assertEquals(201, created.statusCode(), created::body);
    String location = created.headers().firstValue("Location").orElseThrow();
    assertEquals(1, fileCount("tus-sum"));

    HttpResponse<String> last = patch(location, key, 0, sent);
    assertEquals(422, last.statusCode(), last::body);
    assertTrue(last.body().contains("checksum_mismatch"), last::body);
    assertTrue(last.body().contains(FileUploadTest.sha256(sent)), last::body);
    assertEquals(0, fileCount("tus-sum"));
    assertEquals(0, db("tus-sum").getCollection("staging.chunks").countDocuments());
    assertEquals(404, tus("HEAD", location, key, -1, null).statusCode());

    // The same bytes declared truly are staged.
    HttpResponse<String> honest = tus("POST", "/v1/tenants/tus-sum/uploads", key, sent.length,
        metadata("t.csv", null) + ",sha256 " + b64(FileUploadTest.sha256(sent)));
    assertEquals(204, patch(honest.headers().firstValue("Location").orElseThrow(), key, 0, sent).statusCode());
    assertEquals(1, fileCount("tus-sum"));
  }

  @Test
  void aSecondCompletionOfATusUploadFindsItsFileAndTheSweepKeepsIt() throws Exception {
    String key = api.createTenant("tus-twice");
    byte[] bytes = csv("twice");
    HttpResponse<String> created = tus("POST", "/v1/tenants/tus-twice/uploads", key, bytes.length, metadata("t.csv", null));
    String location = created.headers().firstValue("Location").orElseThrow();
    String uploadId = location.substring(location.lastIndexOf('/') + 1);
    assertEquals(204, patch(location, key, 0, bytes).statusCode());
    // As if the completion staged the file but its record was not updated (the store failed, the node died).
    var uploads = db("tus-twice").getCollection("uploads");
    uploads.updateOne(Filters.eq("_id", uploadId), Updates.combine(Updates.unset("fileId"), Updates.unset("completedAt"),
        Updates.set("nextChunk", 0), Updates.set("tail", new org.bson.types.Binary(bytes)),
        Updates.set("expiresAt", new Date(System.currentTimeMillis() + 60_000)), Updates.set("leaseUntil", new Date(0))));

    HttpResponse<String> again = patch(location, key, bytes.length, new byte[0]);
    assertEquals(204, again.statusCode(), again::body);
    assertEquals(uploadId, again.headers().firstValue(Tus.FILE_ID).orElseThrow());

    // And if it is never completed again, the sweep keeps the staged file and completes the record.
    uploads.updateOne(Filters.eq("_id", uploadId), Updates.combine(Updates.unset("fileId"), Updates.unset("completedAt"),
        Updates.set("expiresAt", new Date(0)), Updates.set("sweepAt", new Date(0)), Updates.set("leaseUntil", new Date(0))));
    // The record was made due behind the platform's back: the sweep's list of due tenants says so too.
    mongo.getDatabase("mysimbdp").getCollection(ResumableUploads.SWEPT_TENANTS).updateOne(Filters.eq("_id", "tus-twice"),
        Updates.set("sweepAt", new Date(0)), new com.mongodb.client.model.UpdateOptions().upsert(true));
    resumableUploads(Duration.ofSeconds(30)).sweep().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(200, api.get("/v1/tenants/tus-twice/files/" + uploadId, key).status());
    assertEquals(1, fileCount("tus-twice"));
    assertTrue(uploads.find(Filters.eq("_id", uploadId)).first().containsKey("fileId"));
  }

  @Test
  void aPatchFromASlowClientKeepsItsLeaseOnTime() throws Exception {
    String tenant = "tus-slow";
    String key = api.createTenant(tenant);
    ResumableUploads uploads = resumableUploads(Duration.ofSeconds(1));
    ResumableUploads.Status status = uploads.create(tenant, 10, 100, new FileUploads.Upload("s.csv", "default", DataFormat.CSV), null, false)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    // A body of a few bytes, then nothing for three leases (far less than a chunk).
    CompletableFuture<Void> more = new CompletableFuture<>();
    Source<ByteString, ?> slow = Source.single(ByteString.fromString("a,b\n"))
        .concat(Source.completionStage(more.thenApply(v -> ByteString.fromString("1,2\n"))));
    long started = System.currentTimeMillis();
    CompletionStage<ResumableUploads.Status> first = uploads.append(tenant, status.id(), 0, slow);
    // The PATCH holds its upload well past one lease without a chunk written: renewed on time.
    await(Duration.ofSeconds(20), "the lease is renewed past three leases", () -> {
      Date until = db(tenant).getCollection("uploads").find(Filters.eq("_id", status.id())).first().getDate("leaseUntil");
      return until.getTime() > started + 3_000 && System.currentTimeMillis() > started + 2_000;
    });
    ExecutionException busy = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> uploads.append(tenant, status.id(), 0, Source.single(ByteString.fromString("x,y\n"))).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertTrue(busy.getCause() instanceof Refusal e && e.code().equals("upload_busy"), busy::toString);
    more.complete(null);
    assertEquals(8, first.toCompletableFuture().get(10, TimeUnit.SECONDS).offset());
    assertFalse(key.isEmpty());
  }

  @Test
  void aPlainUploadAbandonedMidBodyIsSweptAndItsSlotGivenBack() throws Exception {
    String tenant = "plain-dead";
    api.createTenant(tenant);
    ResumableUploads uploads = resumableUploads(Duration.ofSeconds(1));
    TenantRepository tenants = tenantRepository();
    StagingStore staging = IngestionServices.get(node.testKit.system()).staging();
    assertTrue(tenants.reserveFileSlot(tenant, 10).toCompletableFuture().get(10, TimeUnit.SECONDS));
    ResumableUploads.LeaseKeeper lease = uploads.beginPlain(tenant, "abandoned", new FileUploads.Upload("a.csv", "default", DataFormat.CSV))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    staging.writeChunk(tenant, "abandoned", 0, ByteString.fromString("a,b\n1,2\n")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    lease.stop(); // the node dies: nobody renews the lease
    assertEquals(1, fileCount(tenant));
    // Not the tus API's: invisible there.
    assertTrue(uploads.status(tenant, "abandoned").toCompletableFuture().get(10, TimeUnit.SECONDS).isEmpty());

    await(Duration.ofSeconds(20), "the sweep reclaims the abandoned upload", () -> {
      uploads.sweep().toCompletableFuture().join();
      return db(tenant).getCollection("uploads").countDocuments() == 0;
    });
    assertEquals(0, db(tenant).getCollection("staging.chunks").countDocuments());
    assertEquals(0, fileCount(tenant));
  }

  @Test
  void aFileInAQueuedJobCannotBeDeletedNorQueuedAgain() throws Exception {
    String key = api.createTenant("queued");
    byte[] big = FileUploadTest.waterQuality();
    String bigId = api.upload("queued", key, "big.csv", null, "text/csv", big).json().path("id").asText();
    String smallId = api.upload("queued", key, "small.csv", null, "text/csv", csv("s")).json().path("id").asText();
    Reply job = api.postJson("/v1/tenants/queued/ingestions", key, "{\"files\":[\"" + bigId + "\",\"" + smallId + "\"]}");
    assertEquals(202, job.status(), job::toString);

    // While the job works on the big file, the small one waits in it.
    Reply delete = api.send("DELETE", "/v1/tenants/queued/files/" + smallId, key, null, null);
    assertEquals(409, delete.status(), delete::toString);
    assertEquals("file_in_use", delete.errorCode());
    Reply twice = api.postJson("/v1/tenants/queued/ingestions", key, "{\"files\":[\"" + smallId + "\"]}");
    assertEquals(409, twice.status(), twice::toString);
    assertEquals("file_in_use", twice.errorCode());
    assertEquals(job.json().path("id").asText(), twice.json().path("details").path("job").asText(),
        "the refusal names the job holding the file: a client whose 202 was lost follows that job");

    String jobId = job.json().path("id").asText();
    await(Duration.ofSeconds(60), "the job ends", () ->
        api.get("/v1/tenants/queued/ingestions/" + jobId, key).json().path("state").asText().equals("succeeded"));
    assertEquals("ingested", api.get("/v1/tenants/queued/files/" + smallId, key).json().path("state").asText());
    assertEquals(204, api.send("DELETE", "/v1/tenants/queued/files/" + smallId, key, null, null).status());
  }

  @Test
  void aFileWhoseProgressEndedBeforeACrashGetsItsStateAndCanBeDeleted() throws Exception {
    String key = api.createTenant("crashed");
    String fileId = api.upload("crashed", key, "c.csv", null, "text/csv", csv("c")).json().path("id").asText();
    // A node died between the file's final progress and its state: the job still runs, the file says ingesting.
    MongoDatabase db = db("crashed");
    db.getCollection("ingestion_jobs").insertOne(new Document("_id", "crashed-job").append("state", "running")
        .append("createdAt", new Date(0)).append("startedAt", new Date(0))
        .append("files", List.of(new Document("id", fileId).append("name", "c.csv").append("category", "default")
            .append("format", "csv").append("size", 8))));
    db.getCollection("ingestion_progress").insertOne(new Document("_id", "crashed-job:" + fileId).append("job", "crashed-job")
        .append("file", fileId).append("state", "ingested").append("checkpoint", 1L)
        .append("records", new Document("read", 1L).append("written", 1L).append("failed", 0L)).append("bytes", 8L));
    db.getCollection("staging.files").updateOne(Filters.eq("_id", fileId),
        Updates.combine(Updates.set("metadata.state", "ingesting"), Updates.set("metadata.job", "crashed-job")));

    // Any job queued wakes the worker, which resumes the unfinished one first.
    String other = api.upload("crashed", key, "o.csv", null, "text/csv", csv("o")).json().path("id").asText();
    api.ingestAndWait("crashed", key, List.of(other), Duration.ofSeconds(60));
    await(Duration.ofSeconds(30), "the resumed job finishes", () ->
        api.get("/v1/tenants/crashed/ingestions/crashed-job", key).json().path("state").asText().equals("succeeded"));
    JsonNode file = api.get("/v1/tenants/crashed/files/" + fileId, key).json();
    assertEquals("ingested", file.path("state").asText(), file::toString);
    assertEquals(204, api.send("DELETE", "/v1/tenants/crashed/files/" + fileId, key, null, null).status());
  }

  @Test
  void aFileHeldByAJobThatWasNeverStoredIsFreed() {
    String key = api.createTenant("orphan");
    String fileId = api.upload("orphan", key, "o.csv", null, "text/csv", csv("o")).json().path("id").asText();
    // Claimed by a request that died before storing its job (long ago: claimed before the field existed).
    db("orphan").getCollection("staging.files").updateOne(Filters.eq("_id", fileId),
        Updates.combine(Updates.set("metadata.state", "queued"), Updates.set("metadata.job", "never-stored")));
    Reply queued = api.postJson("/v1/tenants/orphan/ingestions", key, "{\"files\":[\"" + fileId + "\"]}");
    assertEquals(202, queued.status(), queued::toString);

    // Just claimed by a request still storing its job: held.
    String young = api.upload("orphan", key, "y.csv", null, "text/csv", csv("y")).json().path("id").asText();
    db("orphan").getCollection("staging.files").updateOne(Filters.eq("_id", young), Updates.combine(
        Updates.set("metadata.state", "queued"), Updates.set("metadata.job", "being-stored"), Updates.set("metadata.claimedAt", new Date())));
    assertEquals(409, api.send("DELETE", "/v1/tenants/orphan/files/" + young, key, null, null).status());
  }

  @Test
  void ingestionProgressIsNotReadableAsData() {
    String key = api.createTenant("internal");
    Reply reply = api.get("/v1/tenants/internal/data/ingestion_progress", key);
    assertEquals(404, reply.status(), reply::toString);
  }

  static TenantRepository tenantRepository() {
    return new TenantRepository(CoreDms.get(node.testKit.system()), NodeSettings.from(node.testKit.system().settings().config()));
  }

  static ResumableUploads resumableUploads(Duration lease) {
    var system = node.testKit.system();
    return new ResumableUploads(system, CoreDms.get(system), IngestionServices.get(system).staging(), tenantRepository(),
        Duration.ofHours(24), lease);
  }

  static String metadata(String name, String contentType) {
    return "filename " + b64(name) + (contentType == null ? "" : ",contentType " + b64(contentType));
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static HttpResponse<String> tus(String method, String path, String key, long length, String metadata) throws Exception {
    return ResumableUploadTest.tus(api.baseUrl, method, path, key, length, metadata);
  }

  static HttpResponse<String> patch(String location, String key, long offset, byte[] body) throws Exception {
    return ResumableUploadTest.patch(api.baseUrl, location, key, offset, body);
  }
}
