package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.util.ByteString;
import com.typesafe.config.ConfigFactory;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.exception.MongoServerError;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.entity.IngestionServices;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batch work over a store that can be made to fail. The store out of reach pauses the
 * work and never fails a file: a job list that could not be loaded is loaded again, and a file whose
 * writes fail past their retries resumes from its checkpoint once the store answers. Records over
 * the byte limit are dead letters and the file goes on, within a small budget of bytes in flight.
 */
class BatchWorkerTest {
  /** Finds on tenant "load"'s ingestion_jobs still to fail. */
  static final AtomicInteger failJobFinds = new AtomicInteger();
  /** Inserts still to fail (every collection but staging's). */
  static final AtomicInteger failInserts = new AtomicInteger();
  static final AtomicInteger failedInserts = new AtomicInteger();
  /** The database whose index creations fail. */
  static final String FAILING_INDEXES = "tenant_slots";
  static MongoServer server;
  static ActorTestKit testKit;
  static CoreDms coreDms;

  @BeforeAll
  static void start() {
    H2Backend backend = new H2Backend(MVStore.open(null)) {
      @Override
      public de.bwaldvogel.mongo.bson.Document handleCommand(
          Channel channel, String database, String command, de.bwaldvogel.mongo.bson.Document query) {
        // The worker's query (by state), not the test's own look-ups.
        if (command.equals("find") && database.equals("tenant_load") && IngestionJobs.JOBS.equals(query.get("find"))
            && query.get("filter") instanceof de.bwaldvogel.mongo.bson.Document filter && filter.containsKey("state")
            && failJobFinds.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          throw new MongoServerError(11600, "InterruptedAtShutdown", "the store is restarting");
        }
        if (command.equals("insert") && !String.valueOf(query.get("insert")).startsWith("staging")
            && failInserts.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          failedInserts.incrementAndGet();
          throw new MongoServerError(11600, "InterruptedAtShutdown", "the store is restarting");
        }
        if (command.equals("createIndexes") && database.equals(FAILING_INDEXES)) {
          throw new MongoServerError(11600, "InterruptedAtShutdown", "the store is restarting");
        }
        return super.handleCommand(channel, database, command, query);
      }
    };
    backend.version(ServerVersion.MONGO_5_0);
    server = new MongoServer(backend);
    var address = server.bind();
    testKit = ActorTestKit.create(ConfigFactory.parseString(
            "akka.actor.provider = local\nakka.coordinated-shutdown.exit-jvm = off\n"
                + "mysimbdp.batch.write-attempts = 2\nmysimbdp.batch.checkpoint-interval = 0s\n"
                + "mysimbdp.batch.max-record-bytes = 64k\nmysimbdp.batch.max-bytes-in-flight = 256k\n"
                + "mysimbdp.mongodb.uri = \"mongodb://127.0.0.1:" + address.getPort() + "\"")
        .withFallback(ConfigFactory.load()));
    coreDms = CoreDms.get(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    server.shutdownNow();
  }

  static <T> T await(CompletionStageSupplier<T> stage) throws Exception {
    return stage.get().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  interface CompletionStageSupplier<T> {
    java.util.concurrent.CompletionStage<T> get();
  }

  static void await(Duration within, String what, BooleanSupplier condition) throws InterruptedException {
    ResumableUploadExpiryTest.await(within, what, condition);
  }

  static String jobState(String tenant, String jobId) {
    return coreDms.first(coreDms.tenantDatabase(tenant).getCollection(IngestionJobs.JOBS).find(new Document("_id", jobId)).first())
        .toCompletableFuture().join().map(d -> d.getString("state")).orElse(null);
  }

  static void insertJob(String tenant, String jobId, List<Document> files) throws Exception {
    await(() -> coreDms.first(coreDms.tenantDatabase(tenant).getCollection(IngestionJobs.JOBS).insertOne(
        new Document("_id", jobId).append("state", IngestionJobs.QUEUED).append("createdAt", new Date()).append("files", files))));
  }

  @Test
  void aJobListThatCouldNotBeLoadedIsLoadedAgain() throws Exception {
    insertJob("load", "empty-job", List.of());
    failJobFinds.set(4); // the driver retries a read once: two loads fail
    testKit.spawn(BatchIngestor.create("load", IngestionServices.get(testKit.system()).batch(), new TenantMeter("load")));
    await(Duration.ofSeconds(20), "the job runs once the store answers", () -> IngestionJobs.SUCCEEDED.equals(jobState("load", "empty-job")));
    assertEquals(0, failJobFinds.get());
  }

  @Test
  void aStoreOutageLongerThanTheWriteRetriesPausesTheFileInsteadOfFailingIt() throws Exception {
    String tenant = "outage";
    StagingStore staging = IngestionServices.get(testKit.system()).staging();
    StringBuilder csv = new StringBuilder("id,value\n");
    for (int i = 0; i < 50; i++) {
      csv.append(i).append(",v").append(i).append('\n');
    }
    byte[] bytes = csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    await(() -> staging.writeChunk(tenant, "f1", 0, ByteString.fromArray(bytes)));
    await(() -> staging.putFile(tenant, "f1", bytes.length,
        new Document("name", "f.csv").append("category", "default").append("format", "csv").append("state", StagedFileViews.QUEUED)));
    insertJob(tenant, "job", List.of(new Document("id", "f1").append("name", "f.csv").append("category", "default")
        .append("format", "csv").append("size", (long) bytes.length)));

    // Every insert fails for longer than a file's write attempts (2 here).
    failInserts.set(6);
    try {
      testKit.spawn(BatchIngestor.create(tenant, IngestionServices.get(testKit.system()).batch(), new TenantMeter(tenant)));
      await(Duration.ofSeconds(60), "the job finishes once the store answers", () -> {
        String state = jobState(tenant, "job");
        return IngestionJobs.SUCCEEDED.equals(state) || IngestionJobs.FAILED.equals(state);
      });
    } finally {
      failInserts.set(0);
    }
    assertTrue(failedInserts.get() >= 3, "the outage outlasted the write attempts: " + failedInserts.get());
    assertEquals(IngestionJobs.SUCCEEDED, jobState(tenant, "job"));
    IngestionJobs.Progress progress = await(() -> IngestionServices.get(testKit.system()).batch().jobs().progressOf(tenant, "job", "f1"));
    assertEquals(StagedFileViews.INGESTED, progress.state(), progress::toString);
    assertEquals(50, progress.records().written(), progress::toString);
  }

  @Test
  void rowsOverTheRecordLimitAreDeadLettersWithTheirLinesAndTheFileGoesOn() throws Exception {
    String tenant = "bounds";
    StagingStore staging = IngestionServices.get(testKit.system()).staging();
    StringBuilder csv = new StringBuilder("id,value\n");
    String huge = "h".repeat(100 * 1024); // over the 64 KiB record limit; the budget is 256 KiB
    for (int i = 0; i < 300; i++) {
      csv.append(i).append(',').append(i % 30 == 7 ? huge : "v" + i).append('\n');
    }
    byte[] bytes = csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int chunk = StagingStore.CHUNK_SIZE;
    for (int n = 0; n * chunk < bytes.length; n++) {
      int from = n * chunk;
      int n1 = n;
      await(() -> staging.writeChunk(tenant, "big", n1, ByteString.fromArray(bytes, from, Math.min(chunk, bytes.length - from))));
    }
    await(() -> staging.putFile(tenant, "big", bytes.length,
        new Document("name", "big.csv").append("category", "default").append("format", "csv").append("state", StagedFileViews.QUEUED)));
    insertJob(tenant, "job", List.of(new Document("id", "big").append("name", "big.csv").append("category", "default")
        .append("format", "csv").append("size", (long) bytes.length)));

    testKit.spawn(BatchIngestor.create(tenant, IngestionServices.get(testKit.system()).batch(), new TenantMeter(tenant)));
    await(Duration.ofSeconds(60), "the job finishes", () -> IngestionJobs.SUCCEEDED.equals(jobState(tenant, "job")));
    IngestionJobs.Progress progress = await(() -> IngestionServices.get(testKit.system()).batch().jobs().progressOf(tenant, "job", "big"));
    assertEquals(StagedFileViews.INGESTED, progress.state(), progress::toString);
    assertEquals(new io.mysimbdp.protocol.RecordCounts(300, 290, 10), progress.records());
    List<Document> letters = await(() -> coreDms.all(coreDms.tenantDatabase(tenant).getCollection("dead_letters").find()
        .sort(new Document("position", 1))));
    assertEquals(10, letters.size());
    assertEquals(7, letters.get(0).getLong("position"));
    assertEquals(9, letters.get(0).getLong("line")); // the header is line 1, record 0 line 2
    assertEquals("parse", letters.get(0).getString("stage"));
    assertTrue(letters.get(0).getString("reason").contains("longer than 65536 bytes"), letters.get(0)::toJson);
  }

  @Test
  void aSlotReservedBeforeAFailedIndexCreationIsGivenBack() throws Exception {
    var system = testKit.system();
    var tenants = new io.mysimbdp.node.tenant.TenantRepository(coreDms, io.mysimbdp.node.NodeSettings.from(system.settings().config()));
    await(() -> coreDms.first(coreDms.platformDatabase().getCollection("tenants").insertOne(new Document("_id", "slots").append("fileCount", 0))));
    StagingStore staging = IngestionServices.get(system).staging();
    ResumableUploads resumable = new ResumableUploads(system, coreDms, staging, tenants, Duration.ofHours(24));
    FileUploads plain = new FileUploads(system, staging, tenants, resumable);
    FileUploads.Upload upload = new FileUploads.Upload("s.csv", "default", io.mysimbdp.protocol.DataFormat.CSV);

    java.util.concurrent.ExecutionException plainFailed = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
        () -> await(() -> plain.stage("slots", 1, 1 << 20, upload, akka.stream.javadsl.Source.single(ByteString.fromString("a,b\n1,2\n")), false)));
    assertTrue(plainFailed.getCause().toString().contains("restarting"), plainFailed::toString);
    assertEquals(0, (int) await(() -> tenants.fileCount("slots")));

    java.util.concurrent.ExecutionException tusFailed = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
        () -> await(() -> resumable.create("slots", 1, 10, upload, null, false)));
    assertTrue(tusFailed.getCause().toString().contains("restarting"), tusFailed::toString);
    assertEquals(0, (int) await(() -> tenants.fileCount("slots")));
  }

  @Test
  void theBackOffDoublesAndIsCapped() {
    //x
    //x
    //x
  }
}
