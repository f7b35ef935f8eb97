package io.mysimbdp.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.Set;
import java.util.TreeSet;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters as a tenant sees them, end to end on one node: listing them, replaying the records
 * that failed under a function once the function is fixed (stored once, gone from the dead
 * letters; a replay again stores nothing), and typed CSV values that send a cell of the wrong type
 * to the dead letters.
 */
class DeadLetterReplayTest {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(2);
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;
  static MongoClient mongo;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir, com.typesafe.config.ConfigFactory.parseString("mysimbdp.functions.rate-limit.burst = 1000"));
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

  static void ok(int status, Reply reply) {
    assertEquals(status, reply.status(), reply::toString);
  }

  /** Uploads {@code content} (a copy even if the tenant has the same bytes already: categories differ). */
  static String upload(String tenant, String key, String name, String category, String type, String content) {
    Reply reply = api.uploadCopy(tenant, key, name, category, type, content.getBytes(StandardCharsets.UTF_8));
    ok(201, reply);
    return reply.json().path("id").asText();
  }

  static JsonNode replay(String tenant, String key, String body) {
    Reply reply = api.postJson("/v1/tenants/" + tenant + "/dead-letters/replay", key, body);
    ok(200, reply);
    return reply.json();
  }

  static void assertCounts(JsonNode result, long replayed, long stored, long failedAgain, long remaining) {
    assertEquals(replayed, result.path("replayed").asLong(), result::toString);
    assertEquals(stored, result.path("stored").asLong(), result::toString);
    assertEquals(failedAgain, result.path("failedAgain").asLong(), result::toString);
    assertEquals(remaining, result.path("remaining").asLong(), result::toString);
  }

  @Test
  void recordsThatFailedUnderAFunctionAreReplayedOnceItIsFixedAndStoredOnce() throws Exception {
    String key = api.createTenant("rp");
    // Version 1 fails on odd numbers (a string is not a record).
    ok(201, api.putJson("/v1/tenants/rp/functions/check", key, "{\"jsonata\": \"n % 2 = 0 ? {'n': n, 'v': 1} : 'odd'\"}"));
    ok(200, api.putJson("/v1/tenants/rp/categories/c", key, "{\"function\": \"check\", \"collection\": \"records\"}"));
    StringBuilder ndjson = new StringBuilder();
    for (int n = 1; n <= 6; n++) {
      ndjson.append("{\"n\":").append(n).append("}\n");
    }
    String file = upload("rp", key, "numbers.ndjson", "c", "application/x-ndjson", ndjson.toString());
    String other = upload("rp", key, "more.ndjson", "c", "application/x-ndjson", "{\"n\":7}\n");
    JsonNode job = api.ingestAndWait("rp", key, List.of(file, other), JOB_TIMEOUT);
    assertEquals("succeeded", job.path("state").asText(), job::toString);
    assertEquals(3, db("rp").getCollection("records").countDocuments());

    // Listed by id, paged, each replayable (the whole record is kept, with its category).
    Reply firstPage = api.get("/v1/tenants/rp/dead-letters?stage=function&limit=2", key);
    ok(200, firstPage);
    JsonNode letters = firstPage.json().path("deadLetters");
    assertEquals(2, letters.size(), firstPage::toString);
    assertEquals(file + ":0:function", letters.get(0).path("id").asText());
    assertEquals("function", letters.get(0).path("stage").asText());
    assertEquals("c", letters.get(0).path("category").asText());
    assertEquals(file, letters.get(0).path("source").path("id").asText());
    assertTrue(letters.get(0).path("replayable").asBoolean(), letters::toString);
    assertFalse(letters.get(0).has("record"), "the listing leaves the whole record out");
    String next = firstPage.json().path("next").asText();
    Reply secondPage = api.get("/v1/tenants/rp/dead-letters?stage=function&limit=2&after=" + next, key);
    ok(200, secondPage);
    List<String> ids = new ArrayList<>();
    letters.forEach(l -> ids.add(l.path("id").asText()));
    secondPage.json().path("deadLetters").forEach(l -> ids.add(l.path("id").asText()));
    assertEquals(List.of(file + ":0:function", file + ":2:function", file + ":4:function", other + ":0:function").stream().sorted().toList(),
        ids.stream().sorted().toList());
    Reply ofOneFile = api.get("/v1/tenants/rp/dead-letters?source=" + other, key);
    assertEquals(1, ofOneFile.json().path("deadLetters").size(), ofOneFile::toString);
    assertEquals(0, api.get("/v1/tenants/rp/dead-letters?stage=parse", key).json().path("deadLetters").size());

    // Replayed before the fix: every record fails again and stays, with the new reason.
    JsonNode unfixed = replay("rp", key, "{\"stage\": \"function\", \"source\": \"" + file + "\"}");
    assertCounts(unfixed, 3, 0, 3, 3);
    Document again = db("rp").getCollection("dead_letters").find(Filters.eq("_id", file + ":2:function")).first();
    assertTrue(again.getString("reason").contains("failed again on replay"), again::toJson);
    assertEquals(1, again.getInteger("replays"));

    // Fixed: version 2. The file's records are stored with the ids ingestion gives them, and leave.
    ok(201, api.putJson("/v1/tenants/rp/functions/check", key, "{\"jsonata\": \"{'n': n, 'v': 2}\"}"));
    JsonNode fixed = replay("rp", key, "{\"stage\": \"function\", \"source\": \"" + file + "\"}");
    assertCounts(fixed, 3, 3, 0, 0);
    var records = db("rp").getCollection("records");
    assertEquals(6, records.countDocuments());
    for (int index : List.of(0, 2, 4)) {
      Document stored = records.find(Filters.eq("_id", file + ":" + index + ":0")).first();
      assertEquals(index + 1, ((Number) stored.get("n")).intValue(), stored::toJson);
      assertEquals(2, ((Number) stored.get("v")).intValue(), stored::toJson);
    }
    assertEquals(1, db("rp").getCollection("dead_letters").countDocuments(), "only the other file's letter is left");

    // Idempotent: a replay again stores nothing; the rest (no source, a limit) takes the other file's letter.
    assertCounts(replay("rp", key, "{\"stage\": \"function\", \"source\": \"" + file + "\"}"), 0, 0, 0, 0);
    assertCounts(replay("rp", key, "{\"stage\": \"function\", \"limit\": 10}"), 1, 1, 0, 0);
    assertCounts(replay("rp", key, "{}"), 0, 0, 0, 0);
    assertEquals(7, records.countDocuments());
    Set<Object> storedIds = new TreeSet<>();
    records.find().forEach(d -> storedIds.add(d.get("_id")));
    assertEquals(7, storedIds.size());

    // A record stored but whose letter came back (a replay cut short after the write) is not stored twice.
    db("rp").getCollection("dead_letters").insertOne(new Document("_id", file + ":0:function").append("stage", "function")
        .append("source", new Document("kind", "file").append("id", file).append("name", "numbers.ndjson"))
        .append("position", 0L).append("line", 1L).append("reason", "cut short").append("category", "c").append("record", "{\"n\":1}"));
    assertCounts(replay("rp", key, "{}"), 1, 1, 0, 0);
    assertEquals(7, records.countDocuments());
  }

  @Test
  void messagesThatFailedUnderAFunctionAreReplayedWithTheirMessageIds() throws Exception {
    String key = api.createTenant("rs");
    ok(201, api.putJson("/v1/tenants/rs/functions/check", key, "{\"jsonata\": \"n % 2 = 0 ? {'n': n} : 'odd'\"}"));
    ok(200, api.putJson("/v1/tenants/rs/categories/m", key, "{\"function\": \"check\", \"collection\": \"records\"}"));
    Reply published = api.send("POST", "/v1/tenants/rs/messages?category=m", key, "application/x-ndjson",
        "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n".getBytes(StandardCharsets.UTF_8));
    ok(202, published);
    List<String> ids = new ArrayList<>();
    published.json().path("ids").forEach(id -> ids.add(id.asText()));
    assertEquals(4, ids.size(), published::toString);
    ok(200, api.postJson("/v1/tenants/rs/stream/start", key, "{}"));
    var records = db("rs").getCollection("records");
    var letters = db("rs").getCollection("dead_letters");
    long deadline = System.nanoTime() + JOB_TIMEOUT.toNanos();
    while ((records.countDocuments() < 2 || letters.countDocuments() < 2) && System.nanoTime() < deadline) {
      Thread.sleep(100); // polling the store for the consumer's writes
    }
    assertEquals(2, records.countDocuments());
    assertEquals(2, letters.countDocuments());
    ok(200, api.postJson("/v1/tenants/rs/stream/stop", key, "{}"));

    ok(201, api.putJson("/v1/tenants/rs/functions/check", key, "{\"jsonata\": \"{'n': n, 'fixed': true}\"}"));
    assertCounts(replay("rs", key, "{\"stage\": \"function\"}"), 2, 2, 0, 0);
    assertEquals(4, records.countDocuments());
    for (int i : List.of(0, 2)) {
      Document stored = records.find(Filters.eq("_id", "rs:" + ids.get(i))).first();
      assertEquals(i + 1, ((Number) stored.get("n")).intValue(), () -> "rs:" + ids.get(i) + " in " + ids);
      assertEquals(Boolean.TRUE, stored.get("fixed"));
    }
    assertEquals(0, letters.countDocuments());
    assertCounts(replay("rs", key, "{}"), 0, 0, 0, 0);
  }

  @Test
  void badReplaysAndListingsAreClearErrors() {
    String key = api.createTenant("rq");
    String path = "/v1/tenants/rq/dead-letters/replay";
    Reply parse = api.postJson(path, key, "{\"stage\": \"parse\"}");
    assertEquals(422, parse.status(), parse::toString);
    assertEquals("stage_not_replayable", parse.errorCode());
    Reply zero = api.postJson(path, key, "{\"limit\": 0}");
    assertEquals(400, zero.status(), zero::toString);
    assertEquals("limit", zero.json().path("details").path("field").asText());
    Reply tooMany = api.postJson(path, key, "{\"limit\": 1001}");
    assertEquals(400, tooMany.status(), tooMany::toString);
    Reply unknown = api.postJson(path, key, "{\"stage\": \"function\", \"everything\": true}");
    assertEquals(400, unknown.status(), unknown::toString);
    assertEquals("unknown_field", unknown.errorCode());
    Reply text = api.send("POST", path, key, "text/plain", "function".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, text.status(), text::toString);
    Reply stage = api.get("/v1/tenants/rq/dead-letters?stage=nope", key);
    assertEquals(400, stage.status(), stage::toString);
    assertEquals("stage", stage.json().path("details").path("parameter").asText());
    Reply limit = api.get("/v1/tenants/rq/dead-letters?limit=5000", key);
    assertEquals(400, limit.status(), limit::toString);
    Reply nobody = api.postJson("/v1/tenants/nobody/dead-letters/replay", TestNode.ADMIN_TOKEN, "{}");
    assertEquals(404, nobody.status(), nobody::toString);
  }

  @Test
  void csvCategoriesCanAskForTypedValues() throws Exception {
    String key = api.createTenant("ty");
    ok(201, api.putJson("/v1/tenants/ty/functions/same", key, "{\"builtin\": \"identity\"}"));
    Reply typed = api.putJson("/v1/tenants/ty/categories/typed", key,
        "{\"function\": \"same\", \"collection\": \"typed\", \"types\": {\"result\": \"number\", \"ok\": \"boolean\", \"when\": \"date\", "
            + "\"count\": \"integer\"}}");
    ok(200, typed);
    assertEquals("number", typed.json().path("types").path("result").asText(), typed::toString);
    ok(200, api.putJson("/v1/tenants/ty/categories/inferred", key, "{\"function\": \"same\", \"collection\": \"inferred\", \"types\": \"infer\"}"));
    Reply plain = api.putJson("/v1/tenants/ty/categories/plain", key, "{\"function\": \"same\", \"collection\": \"plain\"}");
    assertEquals("strings", plain.json().path("types").asText(), plain::toString);

    String csv = "site,result,ok,when,count,code\n"
        + "A,7.27,true,2020-01-02T03:04:05,3,007\n"
        + "B,abc,false,2020-01-03,4,010\n"
        + "C,,TRUE,2020-01-04,5,1\n";
    List<String> files = new ArrayList<>();
    for (String category : List.of("typed", "inferred", "plain")) {
      files.add(upload("ty", key, category + ".csv", category, "text/csv", csv));
    }
    JsonNode job = api.ingestAndWait("ty", key, files, JOB_TIMEOUT);
    assertEquals("succeeded", job.path("state").asText(), job::toString);

    // Explicit columns: typed, empty is null, and a cell that does not fit goes to the dead letters (stage type).
    var typedRecords = db("ty").getCollection("typed");
    assertEquals(2, typedRecords.countDocuments());
    Document a = typedRecords.find(Filters.eq("site", "A")).first();
    assertEquals(7.27, a.get("result"));
    assertEquals(Boolean.TRUE, a.get("ok"));
    assertEquals("2020-01-02T03:04:05.000Z", a.get("when"));
    assertEquals(3L, ((Number) a.get("count")).longValue());
    assertTrue(a.get("count") instanceof Long || a.get("count") instanceof Integer, a::toJson);
    assertEquals("007", a.get("code"), "a column not named stays text");
    Document c = typedRecords.find(Filters.eq("site", "C")).first();
    assertTrue(c.containsKey("result") && c.get("result") == null, c::toJson);
    assertEquals("2020-01-04T00:00:00.000Z", c.get("when"));
    Document wrong = db("ty").getCollection("dead_letters").find(Filters.eq("_id", files.get(0) + ":1:type")).first();
    assertEquals("type", wrong.getString("stage"), wrong::toJson);
    assertTrue(wrong.getString("reason").contains("'result'") && wrong.getString("reason").contains("'abc'"), wrong::toJson);
    Reply listed = api.get("/v1/tenants/ty/dead-letters?stage=type", key);
    assertEquals(1, listed.json().path("deadLetters").size(), listed::toString);

    // Inferred: each cell on its own, never failing.
    var inferred = db("ty").getCollection("inferred");
    assertEquals(3, inferred.countDocuments());
    Document ia = inferred.find(Filters.eq("site", "A")).first();
    assertEquals(7.27, ia.get("result"));
    assertEquals(Boolean.TRUE, ia.get("ok"));
    assertEquals("2020-01-02T03:04:05.000Z", ia.get("when"));
    assertEquals("007", ia.get("code"), "leading zeros stay text");
    Document ib = inferred.find(Filters.eq("site", "B")).first();
    assertEquals("abc", ib.get("result"));
    Document ic = inferred.find(Filters.eq("site", "C")).first();
    assertEquals("", ic.get("result"));
    assertEquals(1L, ((Number) ic.get("code")).longValue());

    // The default: text, as always.
    Document pa = db("ty").getCollection("plain").find(Filters.eq("site", "A")).first();
    assertEquals("7.27", pa.get("result"));
    assertEquals("true", pa.get("ok"));

    Reply unknownType = api.putJson("/v1/tenants/ty/categories/bad", key, "{\"function\": \"same\", \"types\": {\"result\": \"decimal\"}}");
    assertEquals(400, unknownType.status(), unknownType::toString);
    assertEquals("invalid_types", unknownType.errorCode());
    assertTrue(unknownType.json().path("message").asText().contains("decimal"), unknownType::toString);
    Reply notASpec = api.putJson("/v1/tenants/ty/categories/bad", key, "{\"function\": \"same\", \"types\": 5}");
    assertEquals(400, notASpec.status(), notASpec::toString);
    ok(404, api.get("/v1/tenants/ty/categories/bad", key));
  }
}
