package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streamed messages go through the tenant's category function and quality rules like files do. */
class StreamQualityTest {

  @Test
  void streamedRecordsAreTransformedTaggedAndDeadLetteredByTheTenantsRules(@TempDir Path dataDir) throws Exception {
    try (TestNode node = TestNode.start(dataDir);
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      var api = node.api;
      String key = api.createTenant("sq");
      assertEquals(201, api.send("PUT", "/v1/tenants/sq/functions/double", key, "application/json",
          "{\"jsonata\": \"$merge([$, {'doubled': value * 2}])\"}".getBytes(StandardCharsets.UTF_8)).status());
      assertEquals(200, api.putJson("/v1/tenants/sq/categories/sensors", key, "{\"function\":\"double\",\"collection\":\"readings\"}").status());
      Reply rules = api.putJson("/v1/tenants/sq/quality", key, """
          {"rules": [
            {"name": "positive", "cel": "record.value > 0", "threshold": 0.5, "action": "DEAD_LETTER"},
            {"name": "small", "cel": "record.value < 100", "threshold": 0.5, "action": "TAG"}
          ]}""");
      assertEquals(200, rules.status(), rules::toString);
      assertEquals(200, api.send("POST", "/v1/tenants/sq/stream/start", key, null, (byte[]) null).status());

      StringBuilder ndjson = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        int value = i < 5 ? -i : (i < 10 ? 100 + i : i);
        ndjson.append("{\"n\":").append(i).append(",\"value\":").append(value).append("}\n");
      }
      Reply published = api.send("POST", "/v1/tenants/sq/messages?category=sensors", key, "application/x-ndjson",
          ndjson.toString().getBytes(StandardCharsets.UTF_8));
      assertEquals(202, published.status(), published::toString);

      MongoDatabase db = mongo.getDatabase("tenant_sq");
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      while (Instant.now().isBefore(deadline)
          && db.getCollection("readings").countDocuments() + db.getCollection("dead_letters").countDocuments() < 20) {
        Thread.sleep(200);
      }
      // value <= 0 (5 messages): dead letters, stage quality; value >= 100 (5): stored, tagged.
      assertEquals(15, db.getCollection("readings").countDocuments());
      assertEquals(5, db.getCollection("dead_letters").countDocuments(Filters.eq("stage", "quality")));
      Document tagged = db.getCollection("readings").find(Filters.eq("n", 7)).first();
      assertEquals(214, ((Number) tagged.get("doubled")).intValue(), "the category's function ran");
      assertTrue(tagged.get("_quality", Document.class).getList("failed", String.class).contains("small"));
      Document clean = db.getCollection("readings").find(Filters.eq("n", 12)).first();
      assertTrue(clean.get("_quality") == null, clean.toJson());
    }
  }

  /**
   * A rule that hits the sandbox's bounds (here: a 1.6 M-character string, over the 1 M limit) on
   * three records in a row is disabled, GET quality says so, and defining it again enables it.
   */
  @Test
  void aRuleThatKeepsHittingItsBoundsIsDisabledUntilDefinedAgain(@TempDir Path dataDir) throws Exception {
    try (TestNode node = TestNode.start(dataDir);
        MongoClient mongo = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      var api = node.api;
      String key = api.createTenant("sqb");
      String leaf = "record.s";
      for (int i = 0; i < 4; i++) {
        leaf = "(" + leaf + " + " + leaf + ")";
      }
      String bomb = "{\"cel\": \"size(" + leaf + ") > 0\", \"action\": \"TAG\"}";
      assertEquals(200, api.putJson("/v1/tenants/sqb/quality/rules/bomb", key, bomb).status());
      assertEquals(200, api.send("POST", "/v1/tenants/sqb/stream/start", key, null, (byte[]) null).status());
      String big = "x".repeat(100_000);
      for (int i = 0; i < 5; i++) {
        Reply published = api.send("POST", "/v1/tenants/sqb/messages", key, "application/json",
            ("{\"n\":" + i + ",\"s\":\"" + big + "\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(202, published.status(), published::toString);
      }
      MongoDatabase db = mongo.getDatabase("tenant_sqb");
      Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
      while (Instant.now().isBefore(deadline) && db.getCollection("records").countDocuments() < 5) {
        Thread.sleep(200);
      }
      assertEquals(5, db.getCollection("records").countDocuments());
      assertEquals(3, db.getCollection("records").countDocuments(Filters.exists("_quality")), "tagged until disabled");

      JsonNode rule = api.get("/v1/tenants/sqb/quality", key).json().path("rules").get(0);
      assertEquals("DISABLED", rule.path("state").asText(), rule::toString);
      assertTrue(rule.path("disabledReason").asText().contains("consecutive bound violations"), rule::toString);
      assertTrue(rule.path("disabledReason").asText().contains("memory limit"), rule::toString);

      Reply again = api.putJson("/v1/tenants/sqb/quality/rules/bomb", key, bomb);
      assertEquals(200, again.status(), again::toString);
      assertEquals("ACTIVE", again.json().path("rules").get(0).path("state").asText(), again::toString);
    }
  }
}
