package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Projections;
import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.node.bench.BatchBenchmark;
import io.mysimbdp.node.testing.FreePorts;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.NodeProcess;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node is killed with SIGKILL in the middle of an ingestion job; after a restart the job
 * resumes from its checkpoint on its own and ends with exactly every record, none twice.
 *
 * <p>The suite runs it on 40,000 records; {@code scripts/kill9-batch.sh} runs the same test on
 * 1,000,000 ({@code -Dmysimbdp.crash.records=1000000}).
 */
class BatchCrashResumeTest {
  private static final long RECORDS = Long.getLong("mysimbdp.crash.records", 40_000);

  @Test
  void aJobInterruptedByKillDashNineFinishesAfterRestartWithoutDuplicates(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("water-quality.csv");
    List<String[]> rows = BatchBenchmark.readRows(FileUploadTest.waterQualityPath());
    String[] header = rows.remove(0);
    BatchBenchmark.writeRepeated(csv, header, rows, RECORDS);

    int mongoPort = FreePorts.next();
    NodeProcess.Settings settings = new NodeProcess.Settings(dir.resolve("data"), FreePorts.next(), FreePorts.next(),
        FreePorts.next(), Map.of("EMBEDDED_MONGODB_PORT", Integer.toString(mongoPort), "WAKE_INTERVAL", "3s"));
    Files.createDirectories(settings.dataDir());

    NodeProcess first = NodeProcess.start(settings, "first.log").awaitReady();
    String adminToken = first.adminToken(settings);
    HttpApi api = new HttpApi(settings.apiUrl(), adminToken);
    String key = api.createTenant("crash");
    api.constraints("crash", "{\"maxFileSizeMegabytes\":16384}");
    PlatformClient client = new PlatformClient(URI.create(settings.apiUrl()), "crash", key);
    String fileId = client.tusUpload(csv, "water-quality.csv", "water", "text/csv", 32L << 20, null).fileId();
    String jobId = client.startIngestion(List.of(fileId)).id();

    // Kill the node once a quarter of the records are stored (checkpointed progress shows it).
    long killedAt = awaitWritten(api, key, jobId, RECORDS / 4, Duration.ofMinutes(30));
    first.kill();
    System.out.printf("killed the node (SIGKILL) with %,d of %,d records written%n", killedAt, RECORDS);

    NodeProcess second = NodeProcess.start(settings, "second.log").awaitReady();
    Instant restarted = Instant.now();
    try {
      JsonNode job = awaitEnd(api, key, jobId, Duration.ofMinutes(60));
      assertEquals("succeeded", job.path("state").asText(), job::toString);
      assertEquals(RECORDS, job.path("records").path("written").asLong(), job::toString);
      assertEquals(0, job.path("records").path("failed").asLong(), job::toString);
      System.out.printf("the job resumed on its own and finished %.1f s after the restart%n",
          Duration.between(restarted, Instant.now()).toMillis() / 1000.0);

      try (MongoClient mongo = MongoClients.create("mongodb://127.0.0.1:" + mongoPort)) {
        MongoCollection<Document> records = mongo.getDatabase("tenant_crash").getCollection("records");
        assertEquals(RECORDS, records.countDocuments(), "exactly every record");
        BitSet seen = new BitSet((int) RECORDS);
        for (Document d : records.find().projection(Projections.include("_id")).batchSize(10_000)) {
          String[] id = d.getString("_id").split(":");
          int index = Integer.parseInt(id[1]);
          assertTrue(!seen.get(index), "record " + index + " stored twice");
          seen.set(index);
        }
        assertEquals(RECORDS, seen.cardinality(), "every record index once");
        System.out.printf("stored %,d records, every index once, no duplicates%n", seen.cardinality());
      }
    } finally {
      second.stop();
    }
  }

  static long awaitWritten(HttpApi api, String key, String jobId, long atLeast, Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    while (Instant.now().isBefore(deadline)) {
      JsonNode job = api.get("/v1/tenants/crash/ingestions/" + jobId, key).json();
      long written = job.path("records").path("written").asLong();
      if (written >= atLeast) {
        return written;
      }
      if (job.path("state").asText().equals("succeeded")) {
        throw new AssertionError("the job finished before it could be interrupted: " + job);
      }
      Thread.sleep(100);
    }
    throw new AssertionError("fewer than " + atLeast + " records written within " + within);
  }

  static JsonNode awaitEnd(HttpApi api, String key, String jobId, Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    while (Instant.now().isBefore(deadline)) {
      JsonNode job = api.get("/v1/tenants/crash/ingestions/" + jobId, key).json();
      if (job.path("state").asText().equals("succeeded") || job.path("state").asText().equals("failed")) {
        return job;
      }
      Thread.sleep(500);
    }
    throw new AssertionError("the job did not end within " + within);
  }
}
