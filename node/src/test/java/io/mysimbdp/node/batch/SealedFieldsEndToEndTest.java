package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import io.mysimbdp.cli.Mysimbdp;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.SealedEnvelope;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue #15 end to end: the sample CSV goes up with two columns sealed by the CLI (one randomized,
 * one deterministic), through a JSONata function that reshapes the other columns; neither the
 * store's files nor a dump of the collection hold a sealed value in clear; {@code mysimbdp read}
 * gives every value back exactly, finds records by a deterministic value, and names the record and
 * field whose stored value was altered; a function that reads a sealed field dead-letters those
 * records only.
 */
class SealedFieldsEndToEndTest {
  /** The sample data (one helper, so moving the file changes one place). */
  static final Path SAMPLE = FileUploadTest.waterQualityPath();
  static final String RANDOMIZED = "@id";
  static final String DETERMINISTIC = "sample.samplingPoint.label";

  record Run(int exit, String out, String err) {}

  static Run cli(List<String> common, String... args) {
    CommandLine commandLine = Mysimbdp.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(common);
    int exit = commandLine.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void sealedColumnsAreStoredUnreadableAndReadBackExactly(@TempDir Path dataDir, @TempDir Path keys, @TempDir Path upload,
      @TempDir Path small) throws Exception {
    List<Map<String, String>> rows = csvRows(SAMPLE);
    Files.copy(SAMPLE, upload.resolve("water-quality-10k.csv"));
    try (TestNode node = TestNode.start(dataDir);
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      String key = node.api.createTenant("sealer");
      List<String> common = List.of("--url", node.api.baseUrl, "--tenant", "sealer", "--key", key);
      Path keyFile = keys.resolve("sealer.key");
      Run keygen = cli(List.of(), "keygen", "--out", keyFile.toString());
      assertEquals(0, keygen.exit(), keygen.err());

      // A function that reshapes the other columns and carries the sealed ones under new names.
      String reshape = "{'measurement': `@id`, 'site': `sample.samplingPoint.label`, 'point': `sample.samplingPoint.notation`,"
          + " 'when': `sample.sampleDateTime`, 'determinand': {'label': `determinand.label`, 'unit': `determinand.unit.label`},"
          + " 'result': result}";
      put(node, key, "/v1/tenants/sealer/functions/reshape", Map.of("jsonata", reshape));
      put(node, key, "/v1/tenants/sealer/categories/water", Map.of("function", "reshape", "collection", "water"));

      Run up = cli(common, "upload", upload.toString(), "--category", "water",
          "--seal", RANDOMIZED + "," + DETERMINISTIC + ":det", "--key-file", keyFile.toString());
      assertEquals(0, up.exit(), up.out() + up.err());
      assertTrue(up.out().contains("sealed water-quality-10k.csv: 9999 record(s)"), up.out());
      Run ingest = cli(common, "ingest");
      assertEquals(0, ingest.exit(), ingest.out() + ingest.err());
      MongoCollection<Document> water = mongo.getDatabase("tenant_sealer").getCollection("water");
      assertEquals(rows.size(), water.countDocuments());
      Document one = water.find().first();
      // Stored as BSON binary (subtype 0x80; the embedded store keeps the bytes, not the subtype).
      assertTrue(one.get("site") instanceof Binary b && SealedEnvelope.parse(b.getData()).keyId().startsWith("k-"), one::toJson);
      assertTrue(one.get("determinand") instanceof Document, "the other columns are reshaped: " + one.toJson());

      // No plaintext of either sealed column in the store's files or in a dump of the collection.
      Set<String> secrets = new HashSet<>();
      rows.forEach(r -> {
        secrets.add(r.get(RANDOMIZED));
        secrets.add(r.get(DETERMINISTIC));
      });
      secrets.remove("");
      assertTrue(secrets.size() > rows.size(), "distinct values: " + secrets.size());
      // The search finds them where they are in clear (so an empty result below means something).
      assertEquals(secrets.size(), new HashSet<>(found(secrets, Files.readAllBytes(SAMPLE))).size());
      ByteArrayOutputStream dump = new ByteArrayOutputStream();
      for (Document d : water.find()) {
        dump.write(d.toJson().getBytes(StandardCharsets.UTF_8));
      }
      assertEquals(List.of(), found(secrets, dump.toByteArray()), "the collection dump");
      try (Stream<Path> files = Files.walk(dataDir)) {
        for (Path file : files.filter(Files::isRegularFile).toList()) {
          assertEquals(List.of(), found(secrets, Files.readAllBytes(file)), file.toString());
        }
      }

      // Read back: every record, both values exactly as in the file.
      Run read = cli(common, "read", "water", "--key-file", keyFile.toString());
      assertEquals(0, read.exit(), read.err());
      Map<String, JsonNode> byMeasurement = new HashMap<>();
      for (String line : read.out().split("\n")) {
        JsonNode record = new ObjectMapper().readTree(line);
        byMeasurement.put(record.path("measurement").asText(), record);
      }
      assertEquals(rows.size(), byMeasurement.size());
      for (Map<String, String> row : rows) {
        JsonNode record = byMeasurement.get(row.get(RANDOMIZED));
        assertEquals(row.get(DETERMINISTIC), record.path("site").asText(), row.get(RANDOMIZED));
      }

      // Lookup by a deterministic value.
      String site = rows.get(rows.size() / 2).get(DETERMINISTIC);
      long expected = rows.stream().filter(r -> r.get(DETERMINISTIC).equals(site)).count();
      Run where = cli(common, "read", "water", "--where", "site=" + site, "--key-file", keyFile.toString());
      assertEquals(0, where.exit(), where.err());
      String[] found = where.out().split("\n");
      assertEquals(expected, found.length, where.out());
      for (String line : found) {
        assertEquals(site, new ObjectMapper().readTree(line).path("site").asText());
      }

      // The route's exact-value lookup by ciphertext (what read --where uses), and its bad input.
      Document matching = water.find(Filters.eq("_id", new ObjectMapper().readTree(found[0]).path("_id").asText())).first();
      String b64 = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(((Binary) matching.get("site")).getData());
      JsonNode byCiphertext = node.api.get("/v1/tenants/sealer/data/water?limit=1000&field=site&equals="
          + java.net.URLEncoder.encode("{\"$sealed\":\"" + b64 + "\"}", StandardCharsets.UTF_8), key).json();
      assertEquals(expected, byCiphertext.path("records").size(), byCiphertext::toString);
      String point = rows.get(0).get("sample.samplingPoint.notation");
      JsonNode byText = node.api.get("/v1/tenants/sealer/data/water?limit=1000&field=point&equals="
          + java.net.URLEncoder.encode("\"" + point + "\"", StandardCharsets.UTF_8), key).json();
      assertEquals(rows.stream().filter(r -> r.get("sample.samplingPoint.notation").equals(point)).count(),
          byText.path("records").size(), byText::toString);
      for (String bad : List.of("field=%24where&equals=1", "field=site&equals=%7B%22%24gt%22%3A1%7D", "field=site", "field=site&equals=nope")) {
        var reply = node.api.get("/v1/tenants/sealer/data/water?" + bad, key);
        assertEquals(400, reply.status(), bad + ": " + reply);
        assertEquals("invalid_filter", reply.errorCode(), bad);
      }

      // Without the key: sealed values as they are stored.
      JsonNode page = node.api.get("/v1/tenants/sealer/data/water?limit=1", key).json();
      assertTrue(page.path("records").get(0).path("site").path("$sealed").isTextual(), page::toString);

      // One altered byte: read names that record and field, prints the others, exits 1.
      Binary stored = (Binary) one.get("site");
      byte[] altered = stored.getData().clone();
      altered[altered.length - 3] ^= 0x20;
      water.updateOne(Filters.eq("_id", one.get("_id")), Updates.set("site", new Binary(stored.getType(), altered)));
      Run tampered = cli(common, "read", "water", "--key-file", keyFile.toString());
      assertEquals(1, tampered.exit(), tampered.err());
      assertTrue(tampered.err().contains("record " + one.get("_id") + ": field 'site'"), tampered.err());
      assertTrue(tampered.err().contains("altered"), tampered.err());
      assertEquals(rows.size() - 1, tampered.out().split("\n").length);

      // A function that reads a sealed field: those records are dead letters naming it, the rest is stored.
      List<String> lines = Files.readAllLines(SAMPLE).subList(0, 301);
      Files.write(small.resolve("peek.csv"), lines);
      put(node, key, "/v1/tenants/sealer/functions/peek",
          Map.of("jsonata", "`determinand.label` = 'pH' ? {'m': $uppercase(`@id`)} : {'m': `@id`}"));
      put(node, key, "/v1/tenants/sealer/categories/peek", Map.of("function", "peek", "collection", "peeked"));
      Run peekUp = cli(common, "upload", small.toString(), "--category", "peek", "--seal", RANDOMIZED, "--key-file", keyFile.toString());
      assertEquals(0, peekUp.exit(), peekUp.out() + peekUp.err());
      assertEquals(0, cli(common, "ingest").exit());
      long ph = rows.subList(0, 300).stream().filter(r -> r.get("determinand.label").equals("pH")).count();
      assertTrue(ph > 0 && ph < 300, "pH rows: " + ph);
      MongoCollection<Document> letters = mongo.getDatabase("tenant_sealer").getCollection("dead_letters");
      assertEquals(ph, letters.countDocuments(Filters.eq("source.name", "peek.csv")));
      String reason = letters.find(Filters.eq("source.name", "peek.csv")).first().getString("reason");
      assertTrue(reason.contains("field '@id' is sealed") && reason.contains("$uppercase"), reason);
      assertEquals(300 - ph, mongo.getDatabase("tenant_sealer").getCollection("peeked").countDocuments());
    }
  }

  private static void put(TestNode node, String key, String path, Map<String, Object> body) throws Exception {
    var reply = node.api.putJson(path, key, ProtocolJson.JSON.writeValueAsString(body));
    assertTrue(reply.status() == 200 || reply.status() == 201, reply::toString);
  }

  static List<Map<String, String>> csvRows(Path csv) throws Exception {
    CsvMapper mapper = CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build();
    List<Map<String, String>> rows = new ArrayList<>();
    try (var it = mapper.readerFor(String[].class).<String[]>readValues(csv.toFile())) {
      String[] header = it.nextValue();
      while (it.hasNextValue()) {
        String[] row = it.nextValue();
        Map<String, String> r = new LinkedHashMap<>();
        for (int i = 0; i < header.length; i++) {
          r.put(header[i], row[i]);
        }
        rows.add(r);
      }
    }
    return rows;
  }

  /** The secrets that occur in {@code data} (UTF-8): windows of their first 8 bytes looked up, then compared. */
  static List<String> found(Set<String> secrets, byte[] data) {
    Map<Long, List<byte[]>> byPrefix = new HashMap<>();
    List<String> found = new ArrayList<>();
    String text = null;
    for (String secret : secrets) {
      byte[] b = secret.getBytes(StandardCharsets.UTF_8);
      if (b.length < 8) {
        text = text == null ? new String(data, StandardCharsets.ISO_8859_1) : text;
        if (text.contains(new String(b, StandardCharsets.ISO_8859_1))) {
          found.add(secret);
        }
        continue;
      }
      byPrefix.computeIfAbsent(prefix(b, 0), p -> new ArrayList<>()).add(b);
    }
    long window = 0;
    for (int i = 0; i < data.length; i++) {
      window = (window << 8) | (data[i] & 0xFF);
      if (i < 7) {
        continue;
      }
      List<byte[]> candidates = byPrefix.get(window);
      if (candidates != null) {
        int start = i - 7;
        for (byte[] c : candidates) {
          if (start + c.length <= data.length && java.util.Arrays.equals(data, start, start + c.length, c, 0, c.length)) {
            found.add(new String(c, StandardCharsets.UTF_8));
          }
        }
      }
    }
    return found;
  }

  private static long prefix(byte[] b, int from) {
    long p = 0;
    for (int i = 0; i < 8; i++) {
      p = (p << 8) | (b[from + i] & 0xFF);
    }
    return p;
  }
}
