package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mysimbdp.cli.Mysimbdp;
import io.mysimbdp.node.testing.TestNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demonstration at suite size: tenants alice and bob each upload the water-quality
 * file with the {@code mysimbdp} CLI and ingest it; each ends with exactly its 9,999 records in its
 * own database, and ingesting again adds none.
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
  void aliceAndBobUploadAndIngestWithTheCli(@TempDir Path dataDir, @TempDir Path uploadDir) throws Exception {
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
    }
  }

  static String[] concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
  }
}
