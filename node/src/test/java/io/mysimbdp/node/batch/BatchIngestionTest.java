package io.mysimbdp.node.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch ingestion end to end over HTTP: staged files into each tenant's own database. */
class BatchIngestionTest {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
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

  static String uploadOk(String tenant, String key, String name, String type, byte[] bytes) {
    Reply reply = api.upload(tenant, key, name, null, type, bytes);
    assertEquals(201, reply.status(), reply::toString);
    return reply.json().path("id").asText();
  }

  @Test
  void twoTenantsEachIngestTheWaterQualityFileIntoTheirOwnDatabase() throws Exception {
    byte[] csv = FileUploadTest.waterQuality();
    List<Map<String, String>> rows = new ArrayList<>();
    try (MappingIterator<Map<String, String>> it = new CsvMapper().readerFor(Map.class)
        .with(CsvSchema.emptySchema().withHeader()).readValues(csv)) {
      it.forEachRemaining(rows::add);
    }
    assertEquals(9_999, rows.size());

    for (String tenant : List.of("wq-alice", "wq-bob")) {
      String key = api.createTenant(tenant);
      String fileId = uploadOk(tenant, key, "water-quality-10k.csv", "text/csv", csv);
      JsonNode job = api.ingestAndWait(tenant, key, null, JOB_TIMEOUT);
      assertEquals("succeeded", job.path("state").asText(), job::toString);
      assertEquals(9_999, job.path("records").path("read").asLong());
      assertEquals(9_999, job.path("records").path("written").asLong());
      assertEquals(0, job.path("records").path("failed").asLong());
      assertEquals(9_999, db(tenant).getCollection("records").countDocuments());

      // Spot checks: the stored values are the CSV's.
      for (int i : List.of(0, 1, 4_321, 9_998)) {
        Document doc = db(tenant).getCollection("records").find(Filters.eq("_id", fileId + ":" + i + ":0")).first();
        assertEquals(rows.get(i).get("result"), doc.getString("result"), "row " + i);
        assertEquals(rows.get(i).get("@id"), doc.getString("@id"), "row " + i);
        assertEquals(rows.get(i).get("sample.samplingPoint.label"), doc.getString("sample.samplingPoint.label"), "row " + i);
      }
      JsonNode file = api.get("/v1/tenants/" + tenant + "/files/" + fileId, key).json();
      assertEquals("ingested", file.path("state").asText());
      assertEquals(9_999, file.path("records").path("written").asLong());

      // Ingesting the same file again stores nothing twice.
      JsonNode again = api.ingestAndWait(tenant, key, List.of(fileId), JOB_TIMEOUT);
      assertEquals("succeeded", again.path("state").asText(), again::toString);
      assertEquals(9_999, db(tenant).getCollection("records").countDocuments());
    }
    assertEquals(401, api.get("/v1/tenants/wq-bob/ingestions", null).status());
    JsonNode jobs = api.get("/v1/tenants/wq-bob/ingestions", api.adminToken).json();
    assertEquals(2, jobs.path("jobs").size(), "bob's two jobs, newest first");
    assertEquals("succeeded", jobs.path("jobs").get(0).path("state").asText());
    Reply page = api.get("/v1/tenants/wq-alice/data/records?limit=5", null);
    assertEquals(401, page.status());
  }

  @Test
  void readingBackPagesThroughTheTenantsOwnRecords() {
    String key = api.createTenant("pager");
    uploadOk("pager", key, "p.ndjson", "application/x-ndjson",
        "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n{\"n\":5}\n".getBytes(StandardCharsets.UTF_8));
    assertEquals("succeeded", api.ingestAndWait("pager", key, null, JOB_TIMEOUT).path("state").asText());
    JsonNode first = api.get("/v1/tenants/pager/data/records?limit=2", key).json();
    assertEquals(2, first.path("records").size());
    String next = first.path("next").asText();
    JsonNode second = api.get("/v1/tenants/pager/data/records?limit=2&after=" + next, key).json();
    assertEquals(2, second.path("records").size());
    JsonNode last = api.get("/v1/tenants/pager/data/records?limit=2&after=" + second.path("next").asText(), key).json();
    assertEquals(1, last.path("records").size());
    assertTrue(last.path("next").isNull());
    assertEquals(400, api.get("/v1/tenants/pager/data/records?limit=0", key).status());
    assertEquals(404, api.get("/v1/tenants/pager/data/ingestion_jobs", key).status(), "internal collections are not data");
  }

  @Test
  void aPageOfLargeRecordsEndsAtItsByteBoundAndGoesOnFromThere() {
    String key = api.createTenant("big-pager");
    String blob = "z".repeat(6_000_000);
    var records = mongo.getDatabase("tenant_big-pager").getCollection("records");
    for (int i = 1; i <= 5; i++) {
      records.insertOne(new org.bson.Document("_id", "r" + i).append("blob", blob));
    }
    // 6 MB each: two fit in a page's 16 MiB, a third would not, whatever the limit asks for.
    List<Integer> sizes = new java.util.ArrayList<>();
    String after = null;
    do {
      JsonNode page = api.get("/v1/tenants/big-pager/data/records?limit=100" + (after == null ? "" : "&after=" + after), key).json();
      sizes.add(page.path("records").size());
      page.path("records").forEach(r -> assertEquals(blob.length(), r.path("blob").asText().length()));
      after = page.path("next").isNull() ? null : page.path("next").asText();
    } while (after != null);
    assertEquals(List.of(2, 2, 1), sizes);
  }

  @Test
  void badRecordsGoToTheDeadLetterStoreAndTheRestOfTheFileGoesOn() {
    String key = api.createTenant("messy");
    String ragged = uploadOk("messy", key, "ragged.csv", "text/csv",
        "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n13,14,15\n".getBytes(StandardCharsets.UTF_8));
    String headerOnly = uploadOk("messy", key, "header.csv", "text/csv", "a,b,c\n".getBytes(StandardCharsets.UTF_8));
    String lines = uploadOk("messy", key, "lines.ndjson", "application/x-ndjson",
        "{\"ok\":1}\nnot json\n[1,2]\n\n{\"ok\":2}\n".getBytes(StandardCharsets.UTF_8));
    String cut = uploadOk("messy", key, "cut.json", "application/json",
        "[{\"k\":1},{\"k\":2},{\"k\":3,\"v\":\"unfinish".getBytes(StandardCharsets.UTF_8));
    String bigLine = uploadOk("messy", key, "big.ndjson", "application/x-ndjson",
        ("{\"big\":\"" + "x".repeat(10 * 1024 * 1024) + "\"}\n{\"small\":1}\n").getBytes(StandardCharsets.UTF_8));

    JsonNode job = api.ingestAndWait("messy", key, List.of(ragged, headerOnly, lines, cut, bigLine), JOB_TIMEOUT);
    assertEquals("failed", job.path("state").asText(), "the cut JSON file could not be read to its end: " + job);

    assertEquals(3, db("messy").getCollection("records").countDocuments(Filters.regex("_id", "^" + ragged)));
    assertEquals(0, db("messy").getCollection("records").countDocuments(Filters.regex("_id", "^" + headerOnly)));
    assertEquals(2, db("messy").getCollection("records").countDocuments(Filters.regex("_id", "^" + lines)));
    assertEquals(2, db("messy").getCollection("records").countDocuments(Filters.regex("_id", "^" + cut)));
    assertEquals(2, db("messy").getCollection("records").countDocuments(Filters.regex("_id", "^" + bigLine)));
    Document big = db("messy").getCollection("records").find(Filters.eq("_id", bigLine + ":0:0")).first();
    assertEquals(10 * 1024 * 1024, big.getString("big").length());

    var deadLetters = db("messy").getCollection("dead_letters");
    Document raggedShort = deadLetters.find(Filters.eq("_id", ragged + ":1:parse")).first();
    assertEquals(3, raggedShort.getLong("line"));
    assertTrue(raggedShort.getString("reason").contains("2 fields"), raggedShort.toJson());
    assertEquals("parse", raggedShort.getString("stage"));
    assertEquals("ragged.csv", raggedShort.get("source", Document.class).getString("name"));
    assertTrue(deadLetters.find(Filters.eq("_id", ragged + ":3:parse")).first().getString("reason").contains("4 fields"));
    assertTrue(deadLetters.find(Filters.eq("_id", lines + ":1:parse")).first().getString("reason").contains("not valid JSON"));
    assertTrue(deadLetters.find(Filters.eq("_id", lines + ":2:parse")).first().getString("reason").contains("not an object"));
    assertTrue(deadLetters.find(Filters.eq("_id", cut + ":2:parse")).first().getString("reason").contains("cannot be read"));
    assertEquals(5, deadLetters.countDocuments());

    JsonNode files = api.get("/v1/tenants/messy/files", key).json().path("files");
    for (JsonNode file : files) {
      String expected = file.path("id").asText().equals(cut) ? "failed" : "ingested";
      assertEquals(expected, file.path("state").asText(), file::toString);
    }
    assertEquals(2, job.path("files").get(0).path("records").path("failed").asLong());
  }

  @Test
  void ingestionRequestsAreChecked() {
    String key = api.createTenant("jobs");
    Reply nothing = api.postJson("/v1/tenants/jobs/ingestions", key, "{}");
    assertEquals(422, nothing.status(), nothing::toString);
    assertEquals("nothing_to_ingest", nothing.errorCode());
    Reply unknown = api.postJson("/v1/tenants/jobs/ingestions", key, "{\"files\":[\"nope\"]}");
    assertEquals(404, unknown.status(), unknown::toString);
    Reply malformed = api.postJson("/v1/tenants/jobs/ingestions", key, "{\"files\":\"nope\"");
    assertEquals(400, malformed.status(), malformed::toString);
    assertEquals(404, api.get("/v1/tenants/jobs/ingestions/nope", key).status());
    String other = api.createTenant("jobs-other");
    assertEquals(403, api.postJson("/v1/tenants/jobs/ingestions", other, "{}").status());
  }
}
