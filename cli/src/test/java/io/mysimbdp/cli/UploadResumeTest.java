package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Re-runs of upload: duplicates skipped, interrupted (or killed) resumable uploads resumed where the server is. */
class UploadResumeTest {
  private static final String KEY = "msk_test_secret_key";
  private static final int KIB = 1024;

  @TempDir Path dir;
  @TempDir Path stateDir;
  private FakePlatform platform;
  private String previousStateDir;

  @BeforeEach
  void start() throws IOException {
    platform = new FakePlatform("alice", KEY);
    previousStateDir = System.getProperty("mysimbdp.state-dir");
    System.setProperty("mysimbdp.state-dir", stateDir.toString());
  }

  @AfterEach
  void stop() {
    platform.close();
    if (previousStateDir == null) {
      System.clearProperty("mysimbdp.state-dir");
    } else {
      System.setProperty("mysimbdp.state-dir", previousStateDir);
    }
  }

  private List<String> args(String... extra) {
    List<String> args = new ArrayList<>(List.of(
        "--url", platform.url().toString(), "--tenant", "alice", "--key", KEY, "upload", dir.toString(),
        "--retry-backoff", "5ms", "--resumable-above", "100KB", "--chunk-size", "64KB"));
    args.addAll(List.of(extra));
    return args;
  }

  private Cli.Run upload(String... extra) {
    return Cli.run(args(extra).toArray(String[]::new));
  }

  private static byte[] write(Path file, int size, long seed) throws IOException {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    Files.write(file, bytes);
    return bytes;
  }

  private Path stateFile() {
    return stateDir.resolve("uploads.json");
  }

  @Test
  void uploadingTheSameFilesAgainSkipsThemAsDuplicatesUnlessACopyIsAskedFor() throws IOException {
    byte[] small = write(dir.resolve("small.csv"), 2 * KIB, 1);
    byte[] big = write(dir.resolve("big.csv"), 300 * KIB, 2);

    Cli.Run first = upload();
    assertEquals(0, first.exit(), first::toString);
    assertTrue(first.out().contains("uploaded 2, skipped 0, failed 0"), first::toString);
    String smallId = platform.stagedByName("small.csv").id();
    String bigId = platform.stagedByName("big.csv").id();
    int patches = platform.patches.get();

    Cli.Run second = upload();
    assertEquals(0, second.exit(), second::toString);
    assertTrue(second.row("small.csv").orElseThrow().matches("small\\.csv\\s+skipped\\s+.*same as file " + smallId), second::toString);
    assertTrue(second.row("big.csv").orElseThrow().matches("big\\.csv\\s+skipped\\s+.*same as file " + bigId), second::toString);
    assertTrue(second.out().contains("uploaded 0, skipped 2, failed 0"), second::toString);
    assertEquals(2, platform.staged.size(), "each file staged once");
    assertEquals(patches, platform.patches.get(), "the tus creation was refused before a byte was sent");
    String creation = platform.uploads.values().stream().map(u -> u.metadata.get("sha256")).filter(s -> s != null).findFirst().orElse(null);
    assertEquals(FakePlatform.sha256(big), creation, "the creation names the content's SHA-256");

    Cli.Run copies = upload("--allow-duplicate");
    assertEquals(0, copies.exit(), copies::toString);
    assertTrue(copies.out().contains("uploaded 2, skipped 0, failed 0"), copies::toString);
    assertEquals(4, platform.staged.size());
    assertTrue(platform.requests.stream().anyMatch(r -> r.startsWith("POST /v1/tenants/alice/files?") && r.contains("duplicate=allow")));
    assertTrue(platform.requests.stream().anyMatch(r -> r.equals("POST /v1/tenants/alice/uploads?duplicate=allow")));
    assertEquals(2, platform.staged.stream().filter(f -> f.sha256().equals(FakePlatform.sha256(small))).count());
  }

  @Test
  void anUploadCutShortGoesOnFromTheServersOffsetWhenRunAgain() throws IOException {
    byte[] big = write(dir.resolve("big.csv"), 300 * KIB, 3);
    platform.dropAtPatch.add(2); // the second chunk: half arrives, then the connection is gone

    Cli.Run cut = upload("--retries", "0"); // no retry in this run: as if the CLI stopped there
    assertEquals(1, cut.exit(), cut::toString);
    assertTrue(cut.row("big.csv").orElseThrow().contains("failed"), cut::toString);
    long serverOffset = platform.uploads.values().iterator().next().offset();
    assertEquals(64 * KIB + 32 * KIB, serverOffset);
    assertTrue(Files.readString(stateFile()).contains("/uploads/"), "the upload's URL is kept");
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(stateFile()));

    int patchesBefore = platform.patchOffsets.size();
    Cli.Run again = upload();
    assertEquals(0, again.exit(), again::toString);
    assertTrue(again.out().contains("resumed at 96.0 KiB from an earlier run"), again::toString);
    assertEquals(1, platform.uploads.size(), "no second upload created");
    assertEquals(serverOffset, platform.patchOffsets.get(patchesBefore), "the first PATCH of the new run starts at the server's offset");
    assertEquals(1, platform.staged.size());
    assertEquals(FakePlatform.sha256(big), platform.staged.get(0).sha256());
    assertFalse(Files.readString(stateFile()).contains("/uploads/"), "a finished upload is forgotten");
  }

  @Test
  void aKilledCliProcessResumesFromTheServersOffsetWhenRunAgain() throws Exception {
    byte[] big = write(dir.resolve("big.csv"), 300 * KIB, 4);
    platform.holdAtPatch = 3; // the third chunk: half arrives, then the process is killed
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dmysimbdp.state-dir=" + stateDir,
        "-cp", System.getProperty("java.class.path"),
        Mysimbdp.class.getName()));
    command.addAll(args());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(stateDir.resolve("cli.log").toFile()).start();
    try {
      assertTrue(platform.held.await(60, TimeUnit.SECONDS), () -> "the CLI never reached the third chunk: " + log());
    } finally {
      process.destroyForcibly();
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
      platform.release.countDown();
    }
    long serverOffset = 2 * 64 * KIB + 32 * KIB;
    assertTrue(Files.readString(stateFile()).contains("/uploads/"), "the killed CLI kept the upload's URL");

    int patchesBefore = platform.patchOffsets.size();
    Cli.Run again = upload();
    assertEquals(0, again.exit(), again::toString);
    assertEquals(1, platform.uploads.size(), "no second upload created");
    assertEquals(serverOffset, platform.patchOffsets.get(patchesBefore), "went on at the server's offset");
    assertEquals(FakePlatform.sha256(big), platform.staged.get(0).sha256());
  }

  private String log() {
    try {
      return Files.readString(stateDir.resolve("cli.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }
}
