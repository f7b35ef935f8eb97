package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mysimbdp.cli.Mysimbdp;
import io.mysimbdp.cli.PlatformClient;
import io.mysimbdp.cli.UploadState;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.Tus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demonstration at suite size: tenants alice and bob each upload the water-quality
 * file with the {@code mysimbdp} CLI and ingest it; each ends with exactly its 9,999 records in its
 * own database, and ingesting again adds none; a resumable upload cut short resumes (carol).
 */
class CliEndToEndTest {

  record Run(int exit, String out) {}

  static Run cli(String... args) {
    CommandLine commandLine = Mysimbdp.commandLine();
    StringWriter out = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(out, true));
    int exit = commandLine.execute(args);
    return new Run(exit, out.toString());
  }

  @Test
  void aliceAndBobUploadAndIngestWithTheCli(@TempDir Path dataDir, @TempDir Path uploadDir, @TempDir Path stateDir) throws Exception {
    Files.write(uploadDir.resolve("water-quality-10k.csv"), FileUploadTest.waterQuality());
    Files.writeString(uploadDir.resolve("notes.txt"), "not data");
    try (TestNode node = TestNode.start(dataDir);
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      for (String tenant : List.of("alice", "bob")) {
        String key = node.api.createTenant(tenant);
        List<String> common = List.of("--url", node.api.baseUrl, "--tenant", tenant, "--key", key);

        Run upload = cli(concat(List.of("upload", uploadDir.toString(), "--category", "water"), common));
        assertEquals(0, upload.exit(), upload.out());
        assertTrue(upload.out().contains("notes.txt"), "the skipped file is reported: " + upload.out());
        assertTrue(!upload.out().contains(key), "the key is never printed");

        Run ingest = cli(concat(List.of("ingest"), common));
        assertEquals(0, ingest.exit(), ingest.out());
        assertEquals(9_999, mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments());

        String fileId = node.api.get("/v1/tenants/" + tenant + "/files", key).json().path("files").get(0).path("id").asText();
        Run again = cli(concat(List.of("ingest", "--files", fileId), common));
        assertEquals(0, again.exit(), again.out());
        assertEquals(9_999, mongo.getDatabase("tenant_" + tenant).getCollection("records").countDocuments(), "nothing twice");
      }
      assertEquals(0, mongo.getDatabase("tenant_alice").getCollection("dead_letters").countDocuments());
      aResumableUploadCutShortGoesOnFromTheNodesOffset(node, mongo, stateDir);
    }
  }

  /**
   * A resumable upload cut short (part of it sent, as by a CLI killed mid-upload) goes on from the
   * node's offset when {@code mysimbdp upload} runs again: one upload, every record once. (On the
   * same node as the test above: a node start is the slow part.)
   */
  private static void aResumableUploadCutShortGoesOnFromTheNodesOffset(TestNode node, MongoClient mongo, Path stateDir)
      throws Exception {
    Path uploadDir = Files.createDirectories(stateDir.resolve("upload"));
    Path file = uploadDir.resolve("water-quality-10k.csv");
    Files.write(file, FileUploadTest.waterQuality());
    String previous = System.getProperty("mysimbdp.state-dir");
    System.setProperty("mysimbdp.state-dir", stateDir.toString());
    try {
      String key = node.api.createTenant("carol");
      PlatformClient client = new PlatformClient(URI.create(node.api.baseUrl), "carol", key);
      String sha256 = UploadState.sha256(file);
      URI location = client.createUpload(Files.size(file), file.getFileName().toString(), "water", "text/csv", sha256, false);
      int sent = 1_000_000;
      HttpResponse<Void> patch = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(location)
              .header("Authorization", "Bearer " + key)
              .header(Tus.RESUMABLE, Tus.VERSION)
              .header(Tus.UPLOAD_OFFSET, "0")
              .header("Content-Type", Tus.OFFSET_CONTENT_TYPE)
              .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOf(Files.readAllBytes(file), sent)))
              .build(),
          HttpResponse.BodyHandlers.discarding());
      assertEquals(204, patch.statusCode());
      // What the killed CLI had kept: the upload's URL by the file's fingerprint.
      UploadState.standard().put(
          UploadState.fingerprint(client.baseUrl(), "carol", file, sha256),
          new UploadState.Entry(location.toString(), file.getFileName().toString(), Instant.now()));

      List<String> common = List.of("--url", node.api.baseUrl, "--tenant", "carol", "--key", key);
      Run upload = cli(concat(List.of("upload", uploadDir.toString(), "--category", "water", "--resumable-above", "1MB"), common));
      assertEquals(0, upload.exit(), upload.out());
      assertTrue(upload.out().contains("resumed at 977 KiB from an earlier run"), upload.out());
      assertEquals(1, node.api.get("/v1/tenants/carol/files", key).json().path("count").asInt(), "one upload, not two");
      Run ingest = cli(concat(List.of("ingest"), common));
      assertEquals(0, ingest.exit(), ingest.out());
      assertEquals(9_999, mongo.getDatabase("tenant_carol").getCollection("records").countDocuments());
    } finally {
      if (previous == null) {
        System.clearProperty("mysimbdp.state-dir");
      } else {
        System.setProperty("mysimbdp.state-dir", previous);
      }
    }
  }

  static String[] concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
  }
}
