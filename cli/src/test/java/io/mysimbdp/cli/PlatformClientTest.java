package io.mysimbdp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.StagedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlatformClientTest {
  private static final int CHUNK = 256 * 1024;

  @TempDir Path dir;
  private FakePlatform platform;
  private PlatformClient client;

  @BeforeEach
  void start() throws IOException {
    platform = new FakePlatform("alice", "key");
    client = new PlatformClient(platform.url(), "alice", "key").withRetries(5, Duration.ofMillis(1));
  }

  @AfterEach
  void stop() {
    platform.close();
  }

  private Path randomFile(String name, int size) throws IOException {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    return Files.write(dir.resolve(name), bytes);
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  /** Records what the client reports: resumes and the highest progress seen. */
  private static final class Recorder implements PlatformClient.TransferListener {
    final List<Long> resumedAt = new CopyOnWriteArrayList<>();
    final List<String> reasons = new CopyOnWriteArrayList<>();
    volatile long last;

    @Override
    public void transferred(long bytes) {
      last = bytes;
    }

    @Override
    public void resuming(long offset, String reason) {
      resumedAt.add(offset);
      reasons.add(reason);
    }
  }

  @Test
  void tusUploadResumesAfterADroppedConnectionAndAWrongOffset() throws Exception {
    int size = 5 * CHUNK + 12_345;
    Path file = randomFile("big.ndjson", size);
    platform.dropAtPatch.add(3); // third chunk: the server keeps half of it, then the connection drops
    platform.staleHeadOnce = true; // the HEAD after the drop says 0: the next PATCH gets 409

    Recorder recorder = new Recorder();
    PlatformClient.TusResult result =
        client.tusUpload(file, "big.ndjson", "sensors", "application/x-ndjson", CHUNK, recorder);

    long keptAtDrop = 2L * CHUNK + CHUNK / 2;
    assertEquals(List.of(0L, keptAtDrop), recorder.resumedAt, "resumed after the drop (stale HEAD: 0), then after the 409");
    assertTrue(recorder.reasons.get(1).contains("409"), recorder.reasons::toString);
    assertEquals(2, result.resumes());
    assertEquals(1, platform.drops.get());
    assertEquals(1, platform.conflicts.get());
    assertEquals(size, recorder.last);
    StagedFile staged = platform.staged.stream().filter(f -> f.id().equals(result.fileId())).findFirst().orElseThrow();
    assertEquals(sha256(file), FakePlatform.sha256(platform.content.get(staged.id())), "reassembled bytes equal the file");
    assertEquals("sensors", staged.category());
    assertEquals("ndjson", staged.format());
    assertEquals("big.ndjson", staged.name());
    // 2 chunks, the dropped one, the 409 at offset 0, then 2.5C..3.5C, 3.5C..4.5C, 4.5C..end.
    assertEquals(7, platform.patches.get());
  }

  @Test
  void tusUploadAsksTheFileIdWhenTheLastPatchDoesNotNameIt() throws Exception {
    Path file = randomFile("data.csv", 3 * CHUNK);
    platform.fileIdOnlyOnHead = true;

    PlatformClient.TusResult result = client.tusUpload(file, "data.csv", "default", "text/csv", CHUNK, PlatformClient.TransferListener.NONE);

    assertEquals(platform.stagedByName("data.csv").id(), result.fileId());
    assertEquals(0, result.resumes());
    assertEquals(1, platform.heads.get());
  }

  @Test
  void resumeUploadGoesOnFromTheServersOffset() throws Exception {
    Path file = randomFile("later.csv", 4 * CHUNK);
    platform.failAtPatch.add(2);
    PlatformClient noRetries = client.withRetries(0, Duration.ofMillis(1));
    assertThrows(IOException.class, () -> noRetries.tusUpload(file, "later.csv", "default", "text/csv", CHUNK, PlatformClient.TransferListener.NONE));
    FakePlatform.TusUpload pending = platform.uploads.values().iterator().next();
    assertEquals(CHUNK, pending.offset());

    PlatformClient.TusResult result =
        client.resumeUpload(file, platform.url().resolve("/v1/tenants/alice/uploads/" + pending.id), CHUNK, PlatformClient.TransferListener.NONE);

    assertEquals(sha256(file), FakePlatform.sha256(platform.content.get(result.fileId())));
  }

  @Test
  void plainUploadAnswersTheStagedFileOrThePlatformsError() throws Exception {
    Path file = randomFile("a.csv", 1000);
    StagedFile staged = client.upload(file, "batch", "text/csv");
    assertEquals("a.csv", staged.name());
    assertEquals(sha256(file), staged.sha256());

    PlatformException unsupported = assertThrows(PlatformException.class, () -> client.upload(file, "batch", "text/plain"));
    assertEquals(415, unsupported.status());
    assertEquals("unsupported_media_type", unsupported.error().code());

    assertEquals(1, client.files().count());
    assertEquals(List.of("csv", "ndjson", "json"), client.constraints().formats());
  }
}
