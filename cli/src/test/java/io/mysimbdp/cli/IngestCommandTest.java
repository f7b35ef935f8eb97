package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.IngestionJob;
import io.mysimbdp.protocol.IngestionJob.JobFile;
import io.mysimbdp.protocol.RecordCounts;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class IngestCommandTest {
  private FakePlatform platform;

  @BeforeEach
  void start() throws IOException {
    platform = new FakePlatform("alice", "key");
  }

  @AfterEach
  void stop() {
    platform.close();
  }

  private Cli.Run ingest(String... extra) {
    String[] base = {"--url", platform.url().toString(), "--tenant", "alice", "--key", "key", "ingest"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Cli.run(args);
  }

  private static IngestionJob job(String state, List<JobFile> files, RecordCounts records, long bytes, long elapsed, String error) {
    return new IngestionJob("j1", state, files, records, bytes, null, null, null, elapsed, elapsed == 0 ? 0 : records.read() * 1000.0 / elapsed, error);
  }

  @Test
  void followsTheJobUntilItSucceeds() {
    platform.jobScript =
        List.of(
            job("queued", List.of(new JobFile("f1", "a.csv", "queued", null, 0, null), new JobFile("f2", "b.csv", "queued", null, 0, null)),
                RecordCounts.NONE, 0, 0, null),
            job("running", List.of(new JobFile("f1", "a.csv", "succeeded", new RecordCounts(200, 199, 1), 4096, null),
                    new JobFile("f2", "b.csv", "running", new RecordCounts(50, 50, 0), 1024, null)),
                new RecordCounts(250, 249, 1), 5120, 500, null),
            job("succeeded", List.of(new JobFile("f1", "a.csv", "succeeded", new RecordCounts(200, 199, 1), 4096, null),
                    new JobFile("f2", "b.csv", "succeeded", new RecordCounts(100, 99, 1), 2048, null)),
                new RecordCounts(300, 298, 2), 6144, 1500, null));

    Cli.Run run = ingest("--files", "f1,f2", "--poll", "10ms");

    assertEquals(0, run.exit(), run::toString);
    assertEquals("{\"files\":[\"f1\",\"f2\"]}", platform.lastIngestionBody);
    assertTrue(run.out().contains("ingestion job j1 queued (2 file(s))"), run::toString);
    assertTrue(run.out().contains("job j1 running: files 1/2, records read 250 written 249 failed 1"), "progress: " + run);
    assertTrue(run.out().contains("job j1 succeeded: records read 300, written 298, failed 2; 6.0 KiB in 1.5 s (200 records/s)"), run::toString);
    assertTrue(run.out().matches("(?s).*f2\\s+b\\.csv\\s+succeeded\\s+100\\s+99\\s+1\\s.*"), "per-file table: " + run);
    assertEquals(2, platform.jobPolls.get("j1").get(), "stops polling once the job has ended");
  }

  @Test
  void aFailedJobExitsOne() {
    platform.jobScript =
        List.of(
            job("running", List.of(), RecordCounts.NONE, 0, 0, null),
            job("failed", List.of(new JobFile("f1", "a.csv", "failed", new RecordCounts(10, 0, 10), 100, "not CSV at line 1")),
                new RecordCounts(10, 0, 10), 100, 20, "1 of 1 files failed"));

    Cli.Run run = ingest("--poll", "10ms");

    assertEquals(1, run.exit(), run::toString);
    assertEquals("{}", platform.lastIngestionBody, "no --files: every staged file");
    assertTrue(run.out().contains("job j1 failed: records read 10, written 0, failed 10"), run::toString);
    assertTrue(run.out().contains("not CSV at line 1"), run::toString);
    assertTrue(run.out().contains("error: 1 of 1 files failed"), run::toString);
  }

  @Test
  void noFollowOnlyStartsTheJob() {
    platform.jobScript = List.of(job("queued", List.of(), RecordCounts.NONE, 0, 0, null));

    Cli.Run run = ingest("--no-follow");

    assertEquals(0, run.exit(), run::toString);
    assertTrue(run.out().contains("ingestion job j1 queued (all staged files)"), run::toString);
    assertEquals(0, platform.jobPolls.get("j1").get());
  }

  @Test
  void aRefusedJobIsAnErrorWithCodeAndMessage() {
    platform.jobScript = List.of();
    Cli.Run run = ingest();
    assertEquals(1, run.exit(), run::toString);
    assertTrue(run.err().contains("error: 409 nothing_to_ingest: no staged files"), run::toString);
  }
}
