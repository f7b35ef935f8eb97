package io.mysimbdp.node.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import io.mysimbdp.node.testing.ExampleData;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenant functions, categories and quality rules end to end: a whole node, real HTTP, real batch
 * ingestions, the stored documents and dead letters read back from the store.
 */
class FunctionsTest {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;
  static MongoClient mongo;
  static byte[] csv;
  static List<Map<String, String>> rows;

  @BeforeAll
  static void start() throws Exception {
    // The platform's bounds (100 ms of CPU per record, 500 ms of wall clock): CPU time is not charged
    // for a loaded build machine, so a legitimate record does not need a larger bound here.
    // This class tests what the routes do, not their rate limit (FunctionRateLimitTest does): a
    // bucket large enough for its tenants' dozens of uploads and dry runs.
    node = TestNode.start(dataDir, com.typesafe.config.ConfigFactory.parseString("mysimbdp.functions.rate-limit.burst = 1000"));
    api = node.api;
    mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString());
    csv = Files.readAllBytes(ExampleData.waterQuality());
    rows = new ArrayList<>();
    try (MappingIterator<Map<String, String>> it = new CsvMapper().readerFor(Map.class)
        .with(CsvSchema.emptySchema().withHeader()).readValues(csv)) {
      it.forEachRemaining(rows::add);
    }
    assertEquals(9_999, rows.size());
  }

  @AfterAll
  static void stop() {
    mongo.close();
    node.close();
  }

  static MongoDatabase db(String tenant) {
    return mongo.getDatabase("tenant_" + tenant);
  }

  static String fn(String tenant, String name) {
    return "/v1/tenants/" + tenant + "/functions/" + name;
  }

  static Reply putFunction(String tenant, String key, String name, Map<String, Object> spec) throws Exception {
    return api.putJson(fn(tenant, name), key, ProtocolJson.JSON.writeValueAsString(spec));
  }

  static void ok(int status, Reply reply) {
    assertEquals(status, reply.status(), reply::toString);
  }

  static void map(String tenant, String key, String category, String function, String collection) {
    ok(200, api.putJson("/v1/tenants/" + tenant + "/categories/" + category, key,
        "{\"function\":\"" + function + "\",\"collection\":\"" + collection + "\"}"));
  }

  /** Uploads a copy: the tests send the same bytes under several categories. */
  static String upload(String tenant, String key, String name, String category, String type, byte[] bytes) {
    Reply reply = api.uploadCopy(tenant, key, name, category, type, bytes);
    ok(201, reply);
    return reply.json().path("id").asText();
  }

  static String example(String name) throws Exception {
    try (InputStream in = FunctionsTest.class.getResourceAsStream("/examples/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void functionsAreCompiledAtUploadVersionedRolledBackTestedAndDeleted() throws Exception {
    String key = api.createTenant("fx");
    String other = api.createTenant("fx-other");

    Reply broken = api.putJson(fn("fx", "broken"), key, "{\"jsonata\": \"{\\n  'a': (1 + )\\n}\"}");
    ok(422, broken);
    assertEquals("function_does_not_compile", broken.errorCode());
    assertEquals(2, broken.json().path("details").path("line").asInt(), broken::toString);
    assertTrue(broken.json().path("details").path("column").asInt() > 0, broken::toString);
    ok(422, putFunction("fx", key, "badcfg", Map.of("builtin", "coerce", "config", Map.of("feilds", Map.of()))));
    ok(422, putFunction("fx", key, "celbad", Map.of("cel", "record.x +")));
    ok(404, api.get(fn("fx", "broken"), key));
    ok(400, api.putJson(fn("fx", "bad%20name"), key, "{\"jsonata\":\"$\"}"));

    Reply v1 = putFunction("fx", key, "shape", Map.of("jsonata", "{'n': $number(n), 'v': 1}"));
    ok(201, v1);
    assertEquals(1, v1.json().path("version").asInt());
    // a raw JSONata body
    Reply v2 = api.send("PUT", fn("fx", "shape"), key, "application/x-jsonata",
        "{'n': $number(n), 'v': 2}".getBytes(StandardCharsets.UTF_8));
    ok(201, v2);
    assertEquals(2, v2.json().path("version").asInt());

    JsonNode described = api.get(fn("fx", "shape"), key).json();
    assertEquals(2, described.path("activeVersion").asInt());
    assertEquals(2, described.path("versions").size());
    assertFalse(described.path("versions").get(0).path("active").asBoolean());
    assertTrue(described.path("versions").get(1).path("active").asBoolean());
    assertEquals("ACTIVE", described.path("status").path("state").asText());
    assertEquals("{'n': $number(n), 'v': 1}", described.path("versions").get(0).path("spec").path("jsonata").asText());
    assertEquals(1, api.get("/v1/tenants/fx/functions", key).json().path("functions").size());

    // a dry run: outputs and errors per record, nothing stored
    Reply dry = api.postJson(fn("fx", "shape") + "/test", key, "[{\"n\":\"7\"},{\"n\":\"x\"},5]");
    ok(200, dry);
    JsonNode results = dry.json().path("results");
    assertEquals(2, results.get(0).path("outputs").get(0).path("v").asInt());
    assertEquals(7, results.get(0).path("outputs").get(0).path("n").asInt());
    assertTrue(results.get(1).path("error").asText().contains("For input string: \"x\""), dry::toString);
    assertTrue(results.get(2).path("error").asText().contains("not a JSON object"), dry::toString);
    Reply ndjson = api.send("POST", fn("fx", "shape") + "/test?version=1", key, "application/x-ndjson",
        "{\"n\":\"1\"}\n{\"n\":\"2\"}\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(1, ndjson.json().path("results").get(1).path("outputs").get(0).path("v").asInt(), ndjson::toString);
    ok(413, api.postJson(fn("fx", "shape") + "/test", key, "[" + "{},".repeat(100) + "{}]"));
    assertEquals(0, db("fx").getCollection("records").countDocuments());

    // categories: the function must exist, the collection must be the tenant's own
    ok(422, api.putJson("/v1/tenants/fx/categories/c1", key, "{\"function\":\"nope\",\"collection\":\"out\"}"));
    ok(400, api.putJson("/v1/tenants/fx/categories/c1", key, "{\"function\":\"shape\",\"collection\":\"dead_letters\"}"));
    ok(400, api.putJson("/v1/tenants/fx/categories/c1", key, "{\"function\":\"shape\",\"collection\":\"functions\"}"));
    ok(400, api.putJson("/v1/tenants/fx/categories/c1", key, "{\"function\":\"shape\",\"collection\":\"a.b\"}"));
    ok(400, api.putJson("/v1/tenants/fx/categories/c1", key, "{\"function\":\"shape\",\"colection\":\"out\"}"));
    map("fx", key, "c1", "shape", "out");
    assertEquals("out", api.get("/v1/tenants/fx/categories/c1", key).json().path("collection").asText());
    String f2 = upload("fx", key, "a.ndjson", "c1", "application/x-ndjson", "{\"n\":\"3\"}\n".getBytes(StandardCharsets.UTF_8));
    assertEquals("succeeded", api.ingestAndWait("fx", key, List.of(f2), JOB_TIMEOUT).path("state").asText());
    assertEquals(2L, db("fx").getCollection("out").find(Filters.eq("_id", f2 + ":0:0")).first().get("v"), "JSONata numbers are canonical Longs");

    // roll back to version 1: takes effect for the next file
    Reply rolled = api.postJson(fn("fx", "shape") + "/active", key, "{\"version\":1}");
    ok(200, rolled);
    assertEquals(1, rolled.json().path("activeVersion").asInt());
    ok(404, api.putJson(fn("fx", "shape") + "/active", key, "{\"version\":9}"));
    String f1 = upload("fx", key, "b.ndjson", "c1", "application/x-ndjson", "{\"n\":\"4\"}\n".getBytes(StandardCharsets.UTF_8));
    assertEquals("succeeded", api.ingestAndWait("fx", key, List.of(f1), JOB_TIMEOUT).path("state").asText());
    assertEquals(1L, db("fx").getCollection("out").find(Filters.eq("_id", f1 + ":0:0")).first().get("v"), "JSONata numbers are canonical Longs");

    // the fallback category '*' applies to categories without a mapping
    map("fx", key, "*", "shape", "fallback");
    String f3 = upload("fx", key, "c.ndjson", "unmapped", "application/x-ndjson", "{\"n\":\"5\"}\n".getBytes(StandardCharsets.UTF_8));
    assertEquals("succeeded", api.ingestAndWait("fx", key, List.of(f3), JOB_TIMEOUT).path("state").asText());
    assertEquals(5L, db("fx").getCollection("fallback").find(Filters.eq("_id", f3 + ":0:0")).first().get("n"));
    ok(200, api.send("DELETE", "/v1/tenants/fx/categories/*", key, null, null));
    ok(404, api.send("DELETE", "/v1/tenants/fx/categories/*", key, null, null));

    // another tenant's key gets nothing; no key: 401
    ok(403, api.get(fn("fx", "shape"), other));
    ok(403, api.putJson(fn("fx", "x"), other, "{\"jsonata\":\"$\"}"));
    ok(401, api.get("/v1/tenants/fx/functions", null));
    ok(200, api.get("/v1/tenants/fx/functions", api.adminToken));
    ok(404, api.get("/v1/tenants/fx-other/functions/shape", other));
    // a body over the routes' limit (256 KiB)
    ok(413, api.putJson(fn("fx", "huge"), key, "{\"jsonata\":\"" + "1".repeat(300 * 1024) + "\"}"));
  }

  @Test
  void nonObjectResultsAndADeletedFunctionEndInTheDeadLetters() throws Exception {
    String key = api.createTenant("fy");
    ok(201, putFunction("fy", key, "stringy", Map.of("jsonata", "$string(n)")));
    ok(201, putFunction("fy", key, "gone", Map.of("builtin", "identity")));
    map("fy", key, "s", "stringy", "records");
    map("fy", key, "g", "gone", "records");
    Reply deleted = api.send("DELETE", fn("fy", "gone"), key, null, null);
    ok(200, deleted);
    assertEquals("g", deleted.json().path("categoriesStillMapped").get(0).asText(), deleted::toString);
    ok(404, api.get(fn("fy", "gone"), key));

    byte[] two = "{\"n\":1}\n{\"n\":2}\n".getBytes(StandardCharsets.UTF_8);
    String s = upload("fy", key, "s.ndjson", "s", "application/x-ndjson", two);
    String g = upload("fy", key, "g.ndjson", "g", "application/x-ndjson", two);
    JsonNode job = api.ingestAndWait("fy", key, List.of(s, g), JOB_TIMEOUT);
    assertEquals("succeeded", job.path("state").asText(), job::toString);
    assertEquals(0, db("fy").getCollection("records").countDocuments());
    var letters = db("fy").getCollection("dead_letters");
    Document notObject = letters.find(Filters.eq("_id", s + ":0:function")).first();
    assertEquals("function", notObject.getString("stage"));
    assertTrue(notObject.getString("reason").contains("returned a string"), notObject.toJson());
    Document gone = letters.find(Filters.eq("_id", g + ":1:function")).first();
    assertTrue(gone.getString("reason").contains("function 'gone' was deleted"), gone.toJson());
    assertEquals(4, letters.countDocuments());
  }

  /**
   * Isolation: tenant A ingests the water-quality file through Alice's uploaded JSONata function
   * while tenant B runs nine hostile functions. A loses nothing; each hostile record is stopped
   * within 1 s (the dry run times each one) and dead-lettered with the bound's message; each
   * hostile function is DISABLED, those that hit a bound after 3 records (they cost CPU and
   * memory), the others after 10 failures; its status says why. Both tenants' functions run on the
   * node's function threads, in turn. Throughput is compared by {@code scripts/bench-isolation.sh},
   * not here.
   */
  @Test
  void hostileFunctionsAreStoppedAndDisabledWhileAnotherTenantLosesNothing() throws Exception {
    Map<String, String> hostile = new LinkedHashMap<>();
    hostile.put("loop", "($loop := function($i) { $loop($i + 1) }; $loop(0))");
    hostile.put("alloc", "$reduce([1..40], function($acc, $i) { $acc & $acc }, 'xxxxxxxx')");
    hostile.put("append", "$reduce([1..100000], function($acc, $i) { $append($acc, $i) }, [])");
    hostile.put("spread", "{'a': [1..10000000]}");
    hostile.put("recursion", "($f := function($i) { 1 + $f($i + 1) }; $f(0))");
    hostile.put("file", "{'x': $readFile('/etc/passwd')}");
    hostile.put("socket", "{'x': $socket('localhost', 22)}");
    hostile.put("thread", "{'x': $thread(function() { 1 })}");
    hostile.put("host", "{'x': $class('java.lang.Runtime')}");
    String evil = api.createTenant("evil");
    String good = api.createTenant("good");
    int perFile = 12;
    StringBuilder records = new StringBuilder();
    for (int i = 0; i < perFile; i++) {
      records.append("{\"i\":").append(i).append("}\n");
    }
    List<String> evilFiles = new ArrayList<>();
    for (var h : hostile.entrySet()) {
      ok(201, putFunction("evil", evil, h.getKey(), Map.of("jsonata", h.getValue())));
      map("evil", evil, h.getKey(), h.getKey(), "records");
      // the dry run shows the bound per record, each within 1 s; after 3 bound violations it stops
      // running the function (as a pipeline would), without disabling the pipelines' function
      JsonNode dry = api.postJson(fn("evil", h.getKey()) + "/test", evil, "[{\"i\":1},{\"i\":2},{\"i\":3},{\"i\":4}]").json();
      assertEquals(4, dry.path("results").size(), h.getKey() + ": " + dry);
      for (JsonNode r : dry.path("results")) {
        assertFalse(r.path("error").asText().isEmpty(), h.getKey() + ": " + dry);
        assertTrue(r.path("millis").asDouble() < 1000, h.getKey() + ": " + dry);
      }
      boolean bound = !List.of("file", "socket", "thread", "host").contains(h.getKey());
      assertEquals(bound, dry.path("results").get(3).path("error").asText().contains("is disabled: 3 consecutive bound violations"),
          h.getKey() + ": " + dry);
      assertEquals("ACTIVE", api.get(fn("evil", h.getKey()), evil).json().path("status").path("state").asText(), h.getKey());
      evilFiles.add(upload("evil", evil, h.getKey() + ".ndjson", h.getKey(), "application/x-ndjson",
          records.toString().getBytes(StandardCharsets.UTF_8)));
    }
    ok(201, putFunction("good", good, "alice", Map.of("jsonata", example("alice.jsonata"))));
    map("good", good, "water", "alice", "measurements");
    String goodFile = upload("good", good, "wq.csv", "water", "text/csv", csv);

    CompletableFuture<JsonNode> goodJob = CompletableFuture.supplyAsync(
        () -> api.ingestAndWait("good", good, List.of(goodFile), JOB_TIMEOUT));
    long e0 = System.nanoTime();
    JsonNode evilJob = api.ingestAndWait("evil", evil, evilFiles, JOB_TIMEOUT);
    double evilSeconds = (System.nanoTime() - e0) / 1e9;
    JsonNode goodDone = goodJob.get();

    // A: every row stored, through its function, nothing dead-lettered
    assertEquals("succeeded", goodDone.path("state").asText(), goodDone::toString);
    assertEquals(9_999, goodDone.path("records").path("written").asLong(), goodDone::toString);
    assertEquals(0, goodDone.path("records").path("failed").asLong(), goodDone::toString);
    assertEquals(9_999, db("good").getCollection("measurements").countDocuments(Filters.regex("_id", "^" + goodFile + ":")));
    Document row3 = db("good").getCollection("measurements").find(Filters.eq("_id", goodFile + ":2:0")).first();
    assertEquals(2.75, row3.get("result"), "Alice's typed output");
    Document letter = db("good").getCollection("dead_letters").find().first();
    assertEquals(null, letter, () -> "tenant A lost a record: " + letter.toJson());
    JsonNode alice = api.get(fn("good", "alice"), good).json().path("status");
    assertEquals("ACTIVE", alice.path("state").asText(), alice::toString);
    assertEquals(9_999, alice.path("calls").asLong(), alice::toString);
    assertEquals(0, alice.path("failures").asLong(), alice::toString);

    // B: every hostile record dead-lettered with the reason, every function disabled with it
    assertEquals("succeeded", evilJob.path("state").asText(), evilJob::toString);
    assertTrue(evilSeconds < hostile.size() * perFile * 1.0, "each hostile record within 1 s: " + evilSeconds);
    assertEquals(0, db("evil").getCollection("records").countDocuments());
    var letters = db("evil").getCollection("dead_letters");
    assertEquals(hostile.size() * perFile, letters.countDocuments(Filters.eq("stage", "function")));
    int f = 0;
    for (String name : hostile.keySet()) {
      String file = evilFiles.get(f++);
      String first = letters.find(Filters.eq("_id", file + ":0:function")).first().getString("reason");
      boolean bound = !List.of("file", "socket", "thread", "host").contains(name);
      String expected = switch (name) {
        case "loop", "append" -> "(timeout after 100 ms|memory limit: allocated|timeout after 500 ms of wall clock)";
        case "alloc" -> "memory limit";
        case "spread" -> "(memory limit|output limit)";
        case "recursion" -> "recursion depth";
        default -> "T1006"; // no such function: nothing to call
      };
      assertTrue(java.util.regex.Pattern.compile(expected).matcher(first).find(), name + ": " + first);
      int ran = bound ? 3 : 10;
      String stopped = letters.find(Filters.eq("_id", file + ":" + ran + ":function")).first().getString("reason");
      assertTrue(stopped.contains("is disabled"), name + ": " + stopped);
      String last = letters.find(Filters.eq("_id", file + ":" + (perFile - 1) + ":function")).first().getString("reason");
      assertTrue(last.contains("is disabled"), name + ": " + last);
      JsonNode status = api.get(fn("evil", name), evil).json().path("status");
      assertEquals("DISABLED", status.path("state").asText(), name + ": " + status);
      String reason = status.path("reason").asText();
      assertTrue(reason.startsWith(bound ? "3 consecutive bound violations, the last: " : "10 consecutive failures, the last: "),
          name + ": " + status);
      assertTrue(java.util.regex.Pattern.compile(expected).matcher(reason).find(), name + ": " + status);
      assertEquals(ran, status.path("calls").asLong(), name + " ran only until disabled: " + status);
    }
    // re-enabled: ACTIVE again (and disabled again by the next failures)
    JsonNode reset = api.postJson(fn("evil", "file") + "/reset", evil, "").json();
    assertEquals("ACTIVE", reset.path("status").path("state").asText(), reset::toString);
    assertEquals(0, reset.path("status").path("consecutiveFailures").asInt(), reset::toString);
  }

  /** Alice's and Bob's functions, built in and uploaded as JSONata, store identical documents. */
  @Test
  void aliceAndBobBuiltInAndUploadedStoreIdenticalDocuments() throws Exception {
    String key = api.createTenant("ab");
    ok(201, putFunction("ab", key, "alice-java", Map.of("builtin", "alice")));
    ok(201, putFunction("ab", key, "alice-jsonata", Map.of("jsonata", example("alice.jsonata"))));
    ok(201, putFunction("ab", key, "bob-java", Map.of("builtin", "bob")));
    ok(201, putFunction("ab", key, "bob-jsonata", Map.of("jsonata", example("bob.jsonata"))));
    List<String> files = new ArrayList<>();
    for (String name : List.of("alice-java", "alice-jsonata", "bob-java", "bob-jsonata")) {
      map("ab", key, name, name, name.replace('-', '_'));
      files.add(upload("ab", key, name + ".csv", name, "text/csv", csv));
    }
    JsonNode job = api.ingestAndWait("ab", key, files, JOB_TIMEOUT);
    assertEquals("succeeded", job.path("state").asText(), job::toString);
    Document letter = db("ab").getCollection("dead_letters").find().first();
    assertEquals(null, letter, () -> "no dead letters: " + letter.toJson());

    for (String who : List.of("alice", "bob")) {
      Map<String, Document> java = stored("ab", who + "_java");
      Map<String, Document> jsonata = stored("ab", who + "_jsonata");
      assertEquals(who.equals("alice") ? 9_999 : 1_436, java.size(), who);
      assertEquals(java.keySet(), jsonata.keySet(), who);
      for (var e : java.entrySet()) {
        assertEquals(e.getValue(), jsonata.get(e.getKey()), who + " record " + e.getKey());
      }
    }
    // the documents are typed (not CSV strings): spot check row 3 of Alice
    Document row3 = stored("ab", "alice_java").get("2:0");
    assertEquals(2.75, row3.get("result"));
    assertEquals(467020L, row3.get("sample", Document.class).get("samplingPoint", Document.class).get("easting"));
  }

  /** Stored documents by _id without its file-id prefix ("index:output"). */
  static Map<String, Document> stored(String tenant, String collection) {
    Map<String, Document> out = new TreeMap<>();
    for (Document d : db(tenant).getCollection(collection).find()) {
      String id = d.getString("_id");
      String suffix = id.substring(id.indexOf(':') + 1);
      d.remove("_id");
      if (out.put(suffix, d) != null) {
        throw new AssertionError("two documents end in " + suffix);
      }
    }
    return out;
  }

  /** Per-rule pass rates match an independent count over the CSV; TAG and DEAD_LETTER act on the records. */
  @Test
  void qualityRulesAreCountedTaggedAndDeadLettered() throws Exception {
    String key = api.createTenant("qa");
    String rules = """
        {"rules": [
          {"name": "result-numeric", "kind": "pattern", "field": "result", "regex": "^[0-9]+(\\\\.[0-9]+)?$"},
          {"name": "result-range", "kind": "range", "field": "result", "min": 0, "max": 100, "threshold": 0.95},
          {"name": "qualifier", "kind": "required", "field": "resultQualifier.notation", "threshold": 0.1},
          {"name": "mg-per-litre", "kind": "allowed", "field": "determinand.unit.label", "values": ["mg/l"], "threshold": 0.5},
          {"name": "temperature", "kind": "range", "field": "temperature", "min": 0, "max": 40, "threshold": 0.5},
          {"name": "compliance", "cel": "record['sample.isComplianceSample'] == 'true'", "threshold": 0.2, "action": "DEAD_LETTER"}
        ]}""";
    Reply defined = api.putJson("/v1/tenants/qa/quality", key, rules);
    ok(200, defined);
    Reply bad = api.putJson("/v1/tenants/qa/quality/rules/broken", key, "{\"cel\": \"record.x >\"}");
    ok(422, bad);
    assertEquals("invalid_quality_rule", bad.errorCode());
    ok(400, api.putJson("/v1/tenants/qa/quality/rules/x", key, "{\"name\": \"y\", \"cel\": \"true\"}"));

    String file = upload("qa", key, "wq.csv", null, "text/csv", csv);
    JsonNode job = api.ingestAndWait("qa", key, List.of(file), JOB_TIMEOUT);
    assertEquals("succeeded", job.path("state").asText(), job::toString);

    // an independent count over the CSV, in plain Java
    long numeric = 0, inRange = 0, qualifier = 0, mgl = 0, compliance = 0;
    java.util.regex.Pattern number = java.util.regex.Pattern.compile("^[0-9]+(\\.[0-9]+)?$");
    for (Map<String, String> row : rows) {
      String result = row.get("result");
      numeric += number.matcher(result).find() ? 1 : 0;
      try {
        double v = Double.parseDouble(result);
        inRange += v >= 0 && v <= 100 ? 1 : 0;
      } catch (NumberFormatException e) {
        // not in range
      }
      qualifier += row.get("resultQualifier.notation").isEmpty() ? 0 : 1;
      mgl += row.get("determinand.unit.label").equals("mg/l") ? 1 : 0;
      compliance += row.get("sample.isComplianceSample").equals("true") ? 1 : 0;
    }
    Map<String, Long> expected = Map.of("result-numeric", numeric, "result-range", inRange, "qualifier", qualifier,
        "mg-per-litre", mgl, "temperature", 0L, "compliance", compliance);
    Map<String, Double> thresholds = Map.of("result-numeric", 1.0, "result-range", 0.95, "qualifier", 0.1,
        "mg-per-litre", 0.5, "temperature", 0.5, "compliance", 0.2);

    JsonNode quality = api.get("/v1/tenants/qa/quality", key).json();
    assertEquals(6, quality.path("rules").size(), quality::toString);
    for (JsonNode rule : quality.path("rules")) {
      String name = rule.path("name").asText();
      assertEquals(9_999, rule.path("evaluated").asLong(), name);
      assertEquals(expected.get(name), rule.path("passed").asLong(), name);
      assertEquals(9_999 - expected.get(name), rule.path("failed").asLong(), name);
      double rate = expected.get(name) / 9_999.0;
      assertEquals(rate, rule.path("passRate").asDouble(), 1e-9, name);
      assertEquals(rate >= thresholds.get(name), rule.path("acceptable").asBoolean(), name);
    }
    assertEquals(9_999, quality.path("rules").get(4).path("errors").asLong(), "the missing field is an error, counted as failed");

    // DEAD_LETTER: the non-compliance rows are not stored; TAG: the rest carry _quality
    assertEquals(compliance, db("qa").getCollection("records").countDocuments());
    assertEquals(9_999 - compliance, db("qa").getCollection("dead_letters").countDocuments(Filters.eq("stage", "quality")));
    Document stored = db("qa").getCollection("records").find().first();
    Document tag = stored.get("_quality", Document.class);
    assertTrue(tag.getList("failed", String.class).contains("temperature"), stored.toJson());
    assertEquals("missing field temperature", tag.get("reasons", Document.class).getString("temperature"));
    String letter = db("qa").getCollection("dead_letters").find(Filters.eq("stage", "quality")).first().getString("reason");
    assertTrue(letter.contains("compliance"), letter);

    // redefining a rule starts its counts again; deleting removes it
    ok(200, api.putJson("/v1/tenants/qa/quality/rules/qualifier", key, "{\"kind\": \"required\", \"field\": \"result\"}"));
    JsonNode after = api.get("/v1/tenants/qa/quality", key).json();
    assertEquals("qualifier", after.path("rules").get(2).path("name").asText(), after::toString);
    assertEquals(0, after.path("rules").get(2).path("evaluated").asLong());
    assertEquals(9_999, after.path("rules").get(0).path("evaluated").asLong());
    ok(200, api.send("DELETE", "/v1/tenants/qa/quality/rules/temperature", key, null, null));
    assertEquals(5, api.get("/v1/tenants/qa/quality", key).json().path("rules").size());
  }
}
