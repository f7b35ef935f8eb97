package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.ApiError;
import io.mysimbdp.protocol.StagedFile;
import io.mysimbdp.protocol.TenantConstraints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadCommandTest {
  private static final String KEY = "msk_test_secret_key";
  private static final int KIB = 1024;
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;
  @TempDir Path outside;
  private FakePlatform platform;

  @BeforeEach
  void start() throws IOException {
    platform = new FakePlatform("alice", KEY);
  }

  @AfterEach
  void stop() {
    platform.close();
  }

  private Cli.Run upload(String... extra) {
    String[] base = {"--url", platform.url().toString(), "--tenant", "alice", "--key", KEY, "upload", dir.toString(), "--retry-backoff", "5ms"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return Cli.run(args);
  }

  private static byte[] write(Path file, int size, long seed) throws IOException {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    Files.write(file, bytes);
    return bytes;
  }

  @Test
  void skipsWhatTheConstraintsRefuseAndUploadsTheRestInParallel() throws IOException {
    // 6 files allowed, 1 already staged: 5 free slots. CSV and NDJSON only, 2 MiB at most.
    platform.constraints = new TenantConstraints(6, 2L, List.of("csv", "ndjson"));
    platform.addStaged("old.csv", "x\n1\n".getBytes(StandardCharsets.UTF_8));
    byte[] a = write(dir.resolve("a.csv"), 10 * KIB, 1);
    byte[] b = write(dir.resolve("b.csv"), 20 * KIB, 2);
    byte[] big = write(dir.resolve("big.ndjson"), 1_300 * KIB, 3); // tus: above 512 KiB
    byte[] c = write(dir.resolve("c.ndjson"), 30 * KIB, 4);
    write(dir.resolve("d.jsonl"), 40 * KIB, 5); // the platform refuses it: 413
    write(dir.resolve("e.json"), 1 * KIB, 6); // json not allowed
    write(dir.resolve("f.csv"), 1 * KIB, 7); // no slot left
    write(dir.resolve("g.csv"), 1 * KIB, 8); // no slot left
    write(dir.resolve("huge.csv"), 2 * MIB + 1, 9); // above 2 MiB
    write(dir.resolve("notes.txt"), 100, 10); // unknown extension
    write(dir.resolve(".hidden.csv"), 100, 11); // hidden
    Files.createDirectory(dir.resolve("sub")); // not recursive
    write(outside.resolve("secret.csv"), 100, 12);
    Files.createSymbolicLink(dir.resolve("link.csv"), outside.resolve("secret.csv")); // escapes DIR

    platform.rejections.put("d.jsonl", new ApiError(413, "file_too_large", "d.jsonl exceeds the platform's limit"));
    platform.dropAtPatch.add(2); // big.ndjson's second chunk: the connection drops halfway
    // a.csv, b.csv, c.ndjson and d.jsonl are plain uploads: three must be in flight at once.
    platform.concurrencyGate = new CountDownLatch(3);

    Cli.Run run = upload("--parallel", "3", "--resumable-above", "512KB", "--chunk-size", "256KB", "--category", "sensors");

    assertEquals(1, run.exit(), "one upload failed: " + run);
    assertAll(
        () -> assertTrue(run.row("e.json").orElseThrow().contains("format json not allowed (allowed: csv, ndjson)"), run::toString),
        () -> assertTrue(run.row("huge.csv").orElseThrow().contains("larger than the 2 MiB limit"), run::toString),
        () -> assertTrue(run.row("f.csv").orElseThrow().contains("no file slot left"), run::toString),
        () -> assertTrue(run.row("g.csv").orElseThrow().contains("no file slot left"), run::toString),
        () -> assertTrue(run.row("notes.txt").orElseThrow().contains("unknown extension"), run::toString),
        () -> assertTrue(run.row(".hidden.csv").orElseThrow().contains("hidden file"), run::toString),
        () -> assertTrue(run.row("sub").orElseThrow().contains("directory (use --recursive)"), run::toString),
        () -> assertTrue(run.row("link.csv").orElseThrow().contains("symbolic link pointing outside"), run::toString),
        () -> assertTrue(run.row("d.jsonl").orElseThrow().matches("d\\.jsonl\\s+failed\\s+.*413 file_too_large: d\\.jsonl exceeds the platform's limit"), run::toString),
        () -> assertTrue(run.row("big.ndjson").orElseThrow().contains("uploaded"), run::toString),
        () -> assertTrue(run.row("big.ndjson").orElseThrow().contains("resumed 1x"), run::toString),
        () -> assertTrue(run.out().contains("uploaded 4, skipped 8, failed 1"), run::toString),
        () -> assertTrue(run.out().matches("(?s).*\\d+\\.\\d MiB/s.*"), run::toString));

    // What the platform received: exactly the allowed files, byte for byte, with category and format.
    for (var expected : List.of(new Object[] {"a.csv", a, "csv"}, new Object[] {"b.csv", b, "csv"},
        new Object[] {"c.ndjson", c, "ndjson"}, new Object[] {"big.ndjson", big, "ndjson"})) {
      StagedFile file = platform.stagedByName((String) expected[0]);
      assertNotNull(file, expected[0] + " was not staged: " + run);
      assertEquals(FakePlatform.sha256((byte[]) expected[1]), FakePlatform.sha256(platform.content.get(file.id())), (String) expected[0]);
      assertEquals("sensors", file.category());
      assertEquals(expected[2], file.format());
    }
    assertEquals(5, platform.staged.size(), "old.csv and the 4 uploads");
    assertEquals(1, platform.drops.get());
    assertEquals(3, platform.maxInFlight.get(), "three plain uploads at once, never more than --parallel");
    assertTrue(platform.requests.indexOf("GET /v1/tenants/alice/constraints") < platform.requests.indexOf("GET /v1/tenants/alice/files"));
    assertTrue(platform.requests.stream().filter(r -> r.startsWith("POST /v1/tenants/alice/files")).count() == 4, platform.requests::toString);
    assertTrue(platform.requests.stream().anyMatch(r -> r.startsWith("POST /v1/tenants/alice/uploads")));
    assertFalse(run.out().contains(KEY) || run.err().contains(KEY), "the key is never printed");
  }

  @Test
  void uploadsEverythingAndExitsZero() throws IOException {
    byte[] csv = write(dir.resolve("my data.csv"), 5 * KIB, 1);
    write(dir.resolve("events.jsonl"), 5 * KIB, 2);
    Files.createDirectories(dir.resolve("2024/01"));
    write(dir.resolve("2024/01/day.json"), 3 * KIB, 3);

    Cli.Run run = upload("--recursive");

    assertEquals(0, run.exit(), run::toString);
    assertTrue(run.out().contains("uploaded 3, skipped 0, failed 0"), run::toString);
    assertTrue(run.out().contains("uploaded  my data.csv"), "a plain line per file without a terminal: " + run);
    StagedFile spaced = platform.stagedByName("my data.csv");
    assertNotNull(spaced, "the name is URL-encoded and decoded back: " + platform.requests);
    assertEquals("default", spaced.category());
    assertEquals(FakePlatform.sha256(csv), spaced.sha256());
    assertEquals("ndjson", platform.stagedByName("events.jsonl").format());
    assertEquals("json", platform.stagedByName("2024/01/day.json").format());
  }

  @Test
  void resumableUploadGivesUpAfterItsRetriesAndTheRunFails() throws IOException {
    write(dir.resolve("big.csv"), 300 * KIB, 1);
    write(dir.resolve("small.csv"), 1 * KIB, 2);
    for (int i = 1; i <= 20; i++) {
      platform.failAtPatch.add(i); // every PATCH: 503
    }

    Cli.Run run = upload("--resumable-above", "100KB", "--chunk-size", "64KB", "--retries", "2");

    assertEquals(1, run.exit(), run::toString);
    assertTrue(run.row("big.csv").orElseThrow().contains("gave up after 2 retries"), run::toString);
    assertTrue(run.row("small.csv").orElseThrow().contains("uploaded"), run::toString);
    assertEquals(3, platform.patches.get(), "the first PATCH and 2 retries");
    assertTrue(run.out().contains("uploaded 1, skipped 0, failed 1"), run::toString);
  }

  @Test
  void platformErrorsArePrintedAsCodeAndMessage() throws IOException {
    write(dir.resolve("a.csv"), 100, 1);

    Cli.Run wrongKey = Cli.run("--url", platform.url().toString(), "--tenant", "alice", "--key", "wrong-key", "upload", dir.toString());
    assertEquals(1, wrongKey.exit(), wrongKey::toString);
    assertTrue(wrongKey.err().contains("error: 401 invalid_credentials: the API key or admin token is not valid"), wrongKey::toString);
    assertFalse(wrongKey.toString().contains("wrong-key"), "the key is never printed");
    assertTrue(platform.staged.isEmpty());

    Cli.Run otherTenant = Cli.run("--url", platform.url().toString(), "--tenant", "bob", "--key", KEY, "upload", dir.toString());
    assertEquals(1, otherTenant.exit(), otherTenant::toString);
    assertTrue(otherTenant.err().contains("403 forbidden"), otherTenant::toString);
  }

  @Test
  void usageErrorsExitTwo() {
    String url = platform.url().toString();
    assertEquals(2, Cli.run("--url", url, "--key", KEY, "upload", dir.toString()).exit(), "no tenant");
    assertEquals(2, Cli.run("--url", url, "--tenant", "alice", "--key", KEY, "upload").exit(), "no DIR");
    assertEquals(2, Cli.run("--url", url, "--tenant", "alice", "--key", KEY, "upload", dir.resolve("none").toString()).exit());
    assertEquals(2, Cli.run("--url", url, "--tenant", "alice", "--key", KEY, "upload", dir.toString(), "--chunk-size", "lots").exit());
    assertEquals(2, Cli.run("--url", url, "--tenant", "Alice!", "--key", KEY, "files").exit(), "invalid tenant id");
    assertEquals(2, Cli.run("frobnicate").exit());
    assertEquals(0, Cli.run("upload", "--help").exit());
    assertTrue(platform.requests.isEmpty(), "usage errors send nothing: " + platform.requests);
  }

  @Test
  void unreachablePlatformFailsWithExitOne() throws IOException {
    String url = platform.url().toString();
    platform.close();
    Cli.Run run = Cli.run("--url", url, "--tenant", "alice", "--key", KEY, "constraints");
    assertEquals(1, run.exit(), run::toString);
    assertTrue(run.err().contains("cannot connect to " + url), run::toString);
  }
}
