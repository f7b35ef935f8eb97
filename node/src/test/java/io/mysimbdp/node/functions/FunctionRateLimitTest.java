package io.mysimbdp.node.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-tenant rate limit on the calls that run or re-enable tenant code (upload, roll back,
 * reset, dry run), through real HTTP on a whole node: a small bucket (3 calls, a token every 6 s)
 * so that the refill is waited for in seconds, and so that a loaded machine does not refill a
 * token while the test is checking that calls are refused.
 */
class FunctionRateLimitTest {
  static final int BURST = 3;
  static final int PER_MINUTE = 10;
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir, ConfigFactory.parseString(
        "mysimbdp.functions.rate-limit { per-minute = " + PER_MINUTE + ", burst = " + BURST + " }"));
    api = node.api;
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static String fn(String tenant, String name) {
    return "/v1/tenants/" + tenant + "/functions/" + name;
  }

  static void ok(int status, Reply reply) {
    assertEquals(status, reply.status(), reply::toString);
  }

  /** 429, code rate_limited, the limit named, Retry-After equal to the body's retryAfterSeconds; answers the seconds. */
  static long assertLimited(Reply reply, String what) {
    assertEquals(429, reply.status(), () -> what + ": " + reply);
    JsonNode body = reply.json();
    assertEquals(429, body.path("status").asInt(), what);
    assertEquals("rate_limited", body.path("code").asText(), what);
    String message = body.path("message").asText();
    assertTrue(message.contains("at most " + BURST + " at once and " + PER_MINUTE + " a minute"), () -> what + ": " + message);
    assertTrue(message.contains("'rl'"), () -> what + ": the tenant is named: " + message);
    long seconds = body.path("details").path("retryAfterSeconds").asLong();
    assertTrue(seconds >= 1 && seconds <= 60 / PER_MINUTE, () -> what + ": " + body);
    assertEquals(String.valueOf(seconds), reply.raw().headers().firstValue("Retry-After").orElse(null), what);
    assertEquals(PER_MINUTE, body.path("details").path("perMinute").asInt(), what);
    assertEquals(BURST, body.path("details").path("burst").asInt(), what);
    return seconds;
  }

  @Test
  void uploadsResetsDryRunsAndRollBacksBeyondTheBurstAreRefusedUntilTheRefill() throws Exception {
    String key = api.createTenant("rl");
    String otherKey = api.createTenant("rl-other");
    // three calls: the whole bucket
    ok(201, api.putJson(fn("rl", "deep"), key, "{\"jsonata\": \"($f := function($i) { 1 + $f($i + 1) }; $f(0))\"}"));
    ok(201, api.putJson(fn("rl", "shape"), key, "{\"jsonata\": \"{'v': 1}\"}"));
    ok(201, api.putJson(fn("rl", "shape"), key, "{\"jsonata\": \"{'v': 2}\"}"));
    // the recursion is DISABLED by an ingestion (not a limited call)
    ok(200, api.putJson("/v1/tenants/rl/categories/deep", key, "{\"function\":\"deep\",\"collection\":\"records\"}"));
    Reply file = api.upload("rl", key, "deep.ndjson", "deep", "application/x-ndjson",
        "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n".getBytes(StandardCharsets.UTF_8));
    ok(201, file);
    JsonNode job = api.ingestAndWait("rl", key, List.of(file.json().path("id").asText()), Duration.ofMinutes(3));
    assertEquals("succeeded", job.path("state").asText(), job::toString);
    assertEquals("DISABLED", api.get(fn("rl", "deep"), key).json().path("status").path("state").asText());

    // the ingestion took a while: spend whatever refilled meanwhile with dry runs (each one allowed is real)
    int allowed = 0;
    Reply refused = null;
    for (int i = 0; i <= BURST && refused == null; i++) {
      Reply dry = api.postJson(fn("rl", "shape") + "/test", key, "[{}]");
      if (dry.status() == 429) {
        refused = dry;
      } else {
        ok(200, dry);
        assertEquals(2, dry.json().path("results").get(0).path("outputs").get(0).path("v").asInt(), dry::toString);
        allowed++;
      }
    }
    assertTrue(refused != null, "a dry run beyond the burst is refused");
    assertTrue(allowed <= BURST, "at most the burst");
    // after Retry-After one token is back: one call goes through, the next is refused for a whole
    // refill interval (6 s), the window in which the refusals below are checked
    Thread.sleep(Duration.ofSeconds(assertLimited(refused, "dry run")).toMillis());
    ok(200, api.postJson(fn("rl", "shape") + "/test", key, "[{}]"));
    long window = System.nanoTime();
    assertLimited(api.postJson(fn("rl", "shape") + "/test", key, "[{}]"), "dry run beyond the refill");

    // every limited route is refused now, whoever calls for the tenant, and changes nothing
    assertLimited(api.putJson(fn("rl", "shape"), key, "{\"jsonata\": \"{'v': 3}\"}"), "upload");
    assertLimited(api.send("PUT", fn("rl", "shape"), key, "application/x-jsonata",
        "{'v': 4}".getBytes(StandardCharsets.UTF_8)), "raw upload");
    assertLimited(api.postJson(fn("rl", "deep") + "/reset", key, ""), "reset");
    assertLimited(api.postJson(fn("rl", "shape") + "/active", key, "{\"version\": 1}"), "roll back (POST)");
    assertLimited(api.putJson(fn("rl", "shape") + "/active", key, "{\"version\": 1}"), "roll back (PUT)");
    assertLimited(api.postJson(fn("rl", "deep") + "/reset", api.adminToken, ""), "reset by the admin");
    long wait = assertLimited(api.postJson(fn("rl", "shape") + "/test", key, "[{}]"), "dry run again");
    // a refused upload did not compile or store anything, even a source that does not compile
    assertLimited(api.putJson(fn("rl", "broken"), key, "{\"jsonata\": \"(1 + \"}"), "upload of a broken source");
    JsonNode shape = api.get(fn("rl", "shape"), key).json();
    assertEquals(2, shape.path("versions").size(), shape::toString);
    assertEquals(2, shape.path("activeVersion").asInt(), "the refused roll-back changed nothing: " + shape);
    JsonNode deep = api.get(fn("rl", "deep"), key).json().path("status");
    assertEquals("DISABLED", deep.path("state").asText(), "the refused reset changed nothing: " + deep);
    ok(404, api.get(fn("rl", "broken"), key));
    // the routes that do not run tenant code are not limited
    ok(200, api.get(fn("rl", "shape"), key));
    ok(200, api.get("/v1/tenants/rl/functions", key));
    ok(200, api.putJson("/v1/tenants/rl/categories/other", key, "{\"function\":\"shape\",\"collection\":\"records\"}"));

    // another tenant at the same time: its own bucket, all three go through
    ok(201, api.putJson(fn("rl-other", "f"), otherKey, "{\"jsonata\": \"$\"}"));
    ok(200, api.postJson(fn("rl-other", "f") + "/test", otherKey, "[{\"a\": 1}]"));
    ok(200, api.postJson(fn("rl-other", "f") + "/reset", otherKey, ""));
    assertLimited(api.postJson(fn("rl", "deep") + "/reset", key, ""), "reset, while the other tenant was served");
    assertTrue(System.nanoTime() - window < Duration.ofSeconds(60 / PER_MINUTE).toNanos(),
        "the refusals above were all checked within one refill interval (else the machine is too slow for this test)");

    // after the refill (Retry-After) the call goes through and acts
    Thread.sleep(Duration.ofSeconds(wait).toMillis());
    Reply reset = api.postJson(fn("rl", "deep") + "/reset", key, "");
    ok(200, reset);
    assertEquals("ACTIVE", reset.json().path("status").path("state").asText(), reset::toString);
    assertEquals("ACTIVE", api.get(fn("rl", "deep"), key).json().path("status").path("state").asText());
  }

  /** Quality rules compile the tenant's CEL, and replacing one re-enables it: the same bucket. */
  @Test
  void qualityRuleChangesBeyondTheBurstAreRefused() {
    String key = api.createTenant("rlq");
    String rules = "/v1/tenants/rlq/quality";
    int allowed = 0;
    Reply refused = null;
    for (int i = 0; i <= BURST && refused == null; i++) {
      Reply put = api.putJson(rules + "/rules/r" + i, key, "{\"cel\": \"has(record.v)\"}");
      if (put.status() == 429) {
        refused = put;
      } else {
        ok(200, put);
        allowed++;
      }
    }
    assertTrue(refused != null, "a quality rule change beyond the burst is refused");
    assertTrue(allowed >= 1 && allowed <= BURST, allowed + " allowed");
    assertEquals("rate_limited", refused.errorCode());
    assertTrue(refused.raw().headers().firstValue("Retry-After").isPresent(), refused::toString);
    Reply replaceAll = api.putJson(rules, key, "{\"rules\": [{\"name\": \"x\", \"cel\": \"true\"}]}");
    assertEquals(429, replaceAll.status(), replaceAll::toString);
    Reply delete = api.send("DELETE", rules + "/rules/r0", key, "application/json", new byte[0]);
    assertEquals(429, delete.status(), delete::toString);
    // reading is not limited, and nothing refused was changed
    Reply read = api.get(rules, key);
    ok(200, read);
    assertEquals(allowed, read.json().path("rules").size(), read::toString);
  }
}
