package io.mysimbdp.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mysimbdp.node.testing.HttpApi;
import io.mysimbdp.node.testing.HttpApi.Reply;
import io.mysimbdp.node.testing.TestNode;
import io.mysimbdp.node.tenant.ApiKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tenant API over real HTTP against a whole node on the embedded store and broker. */
class TenantApiTest {
  @TempDir static Path dataDir;
  static TestNode node;
  static HttpApi api;
  static String admin = TestNode.ADMIN_TOKEN;
  static String aliceKey;
  static String bobKey;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(dataDir);
    api = node.api;
    aliceKey = api.createTenant("alice");
    bobKey = api.createTenant("bob");
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void createTenantAnswersProfileAndKeyOnce() {
    Reply created = api.postJson("/v1/tenants", admin, "{\"id\":\"carol\"}");
    assertEquals(201, created.status(), created::toString);
    JsonNode body = created.json();
    String key = body.path("apiKey").asText();
    assertTrue(key.matches("msk_[A-Za-z0-9_-]{43}"), "a 256-bit url-safe key: " + key);
    assertEquals("carol", body.path("tenant").path("id").asText());
    assertEquals("tenant_carol", body.path("tenant").path("database").asText());
    assertEquals(100, body.path("tenant").path("constraints").path("maxFiles").asInt());

    Reply profile = api.get("/v1/tenants/carol", key);
    assertEquals(200, profile.status(), profile::toString);
    assertEquals("carol", profile.json().path("id").asText());
    assertFalse(profile.body().contains(key), "the key is never shown again");
  }

  @Test
  void keysAreStoredOnlyAsHashes() {
    try (MongoClient client = MongoClients.create(node.embedded.mongo().orElseThrow().connectionString())) {
      Document alice = client.getDatabase("mysimbdp").getCollection("tenants").find(new Document("_id", "alice")).first();
      assertEquals(ApiKeys.hash(aliceKey), alice.getString("apiKeyHash"));
      assertFalse(alice.toJson().contains(aliceKey.substring(4)), "no field holds the key itself");
    }
  }

  @Test
  void duplicateIdIsConflict() {
    Reply reply = api.postJson("/v1/tenants", admin, "{\"id\":\"alice\"}");
    assertEquals(409, reply.status(), reply::toString);
    assertEquals("tenant_exists", reply.errorCode());
    // The existing tenant's key still works: nothing was overwritten.
    assertEquals(200, api.get("/v1/tenants/alice", aliceKey).status());
  }

  @Test
  void invalidIdsAreRejectedWithTheReason() {
    for (String id : List.of("a/b", "..", "has space", "x".repeat(300), "", "Alice", "-lead", "a.b", "ünï")) {
      Reply reply = api.postJson("/v1/tenants", admin, "{\"id\":" + quote(id) + "}");
      assertEquals(400, reply.status(), () -> id + ": " + reply);
      assertEquals("invalid_tenant_id", reply.errorCode(), id);
      assertFalse(reply.json().path("message").asText().isBlank());
    }
    Reply missing = api.postJson("/v1/tenants", admin, "{}");
    assertEquals(400, missing.status(), missing::toString);
    assertEquals("invalid_tenant_id", missing.errorCode());
    Reply listed = api.get("/v1/tenants", admin);
    assertFalse(listed.body().contains("has space"), "nothing was written for a rejected id");
  }

  @Test
  void badBodiesAreClearErrors() {
    Reply malformed = api.postJson("/v1/tenants", admin, "{\"id\": \"dave\"");
    assertEquals(400, malformed.status(), malformed::toString);
    assertEquals("malformed_body", malformed.errorCode());

    Reply unknownField = api.postJson("/v1/tenants", admin, "{\"id\":\"dave\",\"plan\":\"gold\"}");
    assertEquals(400, unknownField.status(), unknownField::toString);
    assertEquals("unknown_field", unknownField.errorCode());
    assertEquals("plan", unknownField.json().path("details").path("field").asText());

    Reply wrongType = api.postJson("/v1/tenants", admin, "{\"id\":42}");
    assertEquals(400, wrongType.status(), wrongType::toString);

    Reply notObject = api.postJson("/v1/tenants", admin, "null");
    assertEquals(400, notObject.status(), notObject::toString);

    Reply empty = api.send("POST", "/v1/tenants", admin, "application/json", new byte[0]);
    assertEquals(400, empty.status(), empty::toString);

    Reply wrongContentType =
        api.send("POST", "/v1/tenants", admin, "text/plain", "{\"id\":\"dave\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, wrongContentType.status(), wrongContentType::toString);
    assertEquals("unsupported_media_type", wrongContentType.errorCode());

    String huge = "{\"id\":\"dave\",\"pad\":\"" + "x".repeat(70_000) + "\"}";
    Reply tooLarge = api.postJson("/v1/tenants", admin, huge);
    assertEquals(413, tooLarge.status(), tooLarge::toString);
    assertEquals("payload_too_large", tooLarge.errorCode());

    assertEquals(404, api.get("/v1/tenants/dave", admin).status(), "no bad request created dave");
  }

  /** The routes the isolation test tries: every route of every routes class's table (see {@link RouteTable}). */
  @Test
  void theIsolationTestTriesEveryDocumentedRouteAndEveryRouteIsDocumented() {
    List<RouteTable.RoutesClass> classes = RouteTable.classes();
    List<String> names = classes.stream().map(RouteTable.RoutesClass::file).toList();
    for (String expected : List.of("TenantRoutes.java", "BatchRoutes.java", "TusRoutes.java", "StreamRoutes.java", "FunctionRoutes.java",
        "ReportRoutes.java", "DeadLetterRoutes.java")) {
      assertTrue(names.contains(expected), () -> expected + " is among the routes classes read: " + names);
    }
    for (RouteTable.RoutesClass c : classes) {
      assertFalse(c.routes().isEmpty(), () -> c.file() + " documents its routes in a <pre> table of METHOD path lines");
      Set<String> undocumented = new TreeSet<>(c.codeSegments());
      undocumented.removeAll(c.documentedSegments());
      assertTrue(undocumented.isEmpty(), () -> c.file() + " matches on path segments its route table does not name: " + undocumented);
    }
    Set<String> routes = new TreeSet<>();
    RouteTable.all().forEach(r -> routes.add(r.method() + " " + r.path()));
    for (String expected : List.of("GET ", "GET reports", "GET stats", "POST messages", "POST stream/start", "GET stream",
        "PUT functions/{name}", "PUT categories/{category}", "PUT quality", "POST files", "PATCH uploads/{upload}",
        "POST ingestions", "GET ingestions/{job}", "GET data/{collection}", "GET dead-letters", "POST dead-letters/replay")) {
      assertTrue(routes.contains(expected), () -> expected + " is among the routes the isolation test tries: " + routes);
    }
  }

  @Test
  void everyTenantRouteNeedsTheTenantsOwnKey() {
    List<RouteTable.Route> routes = RouteTable.all();
    assertTrue(routes.size() >= 40, () -> "every tenant route: " + routes);
    for (RouteTable.Route route : routes) {
      String path = route.concrete("alice");
      String what = route + " as " + path;
      boolean head = route.method().equals("HEAD");
      byte[] body = route.method().equals("GET") || head ? null : "{}".getBytes(StandardCharsets.UTF_8);
      Reply none = api.send(route.method(), path, null, "application/json", body);
      assertEquals(401, none.status(), () -> what + " without a key: " + none);
      assertTrue(none.raw().headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), what);
      if (!head) {
        assertEquals("missing_credentials", none.errorCode(), what);
      }

      Reply wrong = api.send(route.method(), path, "msk_" + "A".repeat(43), "application/json", body);
      assertEquals(401, wrong.status(), () -> what + " with a bad key: " + wrong);
      if (!head) {
        assertEquals("invalid_credentials", wrong.errorCode(), what);
      }

      Reply foreign = api.send(route.method(), path, bobKey, "application/json", body);
      assertEquals(403, foreign.status(), () -> what + " with bob's key: " + foreign);
      if (!head) {
        assertEquals("forbidden", foreign.errorCode(), what);
      }
    }
    // The tenant check comes before any route matches: a path no table names is refused the same way,
    // and a foreign key gets the same answer whether or not the tenant exists.
    assertEquals(403, api.get("/v1/tenants/alice/not-a-route", bobKey).status());
    assertEquals(403, api.send("DELETE", "/v1/tenants/alice/anything/at/all", bobKey, null, null).status());
    Reply ghost = api.get("/v1/tenants/ghost/constraints", bobKey);
    assertEquals(403, ghost.status(), ghost::toString);
    // Nothing was changed by all those requests: alice's data is as it was.
    Reply files = api.get("/v1/tenants/alice/files", aliceKey);
    assertEquals(200, files.status(), files::toString);
  }

  /** The OpenAPI document is public (no key) and is openapi.yaml as JSON, valid OpenAPI 3.1. */
  @Test
  void theOpenApiDocumentIsServedWithoutAKey() throws Exception {
    Reply served = api.get("/v1/openapi.json", null);
    assertEquals(200, served.status(), served::toString);
    assertTrue(served.raw().headers().firstValue("Content-Type").orElse("").startsWith("application/json"), served::toString);
    var parsed = OpenApiContract.parse(served.body());
    assertTrue(parsed.getMessages() == null || parsed.getMessages().isEmpty(), () -> "not valid OpenAPI: " + parsed.getMessages());
    assertEquals(io.swagger.v3.oas.models.SpecVersion.V31, parsed.getOpenAPI().getSpecVersion());
    assertEquals(io.mysimbdp.protocol.ProtocolJson.YAML.readTree(OpenApiContract.resourceText()), served.json());
    // No CORS headers unless origins are configured (CorsBrowserTest has them).
    Reply fromAPage = api.send("OPTIONS", "/v1/tenants/alice/uploads", null, null, null);
    assertEquals(401, fromAPage.status(), fromAPage::toString);
    assertTrue(fromAPage.raw().headers().firstValue("Access-Control-Allow-Origin").isEmpty(), fromAPage::toString);
  }

  @Test
  void adminRoutesRefuseTenantKeys() {
    assertEquals(403, api.postJson("/v1/tenants", aliceKey, "{\"id\":\"mallory\"}").status());
    assertEquals(403, api.get("/v1/tenants", aliceKey).status());
    Reply ownConstraints = api.putJson("/v1/tenants/alice/constraints", aliceKey, "{\"maxFiles\":100000}");
    assertEquals(403, ownConstraints.status(), ownConstraints::toString);
    assertEquals("admin_only", ownConstraints.errorCode());
    assertEquals(404, api.get("/v1/tenants/mallory", admin).status(), "a tenant key cannot create tenants");
  }

  @Test
  void constraintsAcceptJsonWithClearNames() {
    Reply put =
        api.putJson(
            "/v1/tenants/alice/constraints", admin, "{\"maxFiles\":5,\"maxFileSizeMegabytes\":10,\"formats\":[\"csv\"]}");
    assertEquals(200, put.status(), put::toString);
    Reply get = api.get("/v1/tenants/alice/constraints", aliceKey);
    assertEquals(200, get.status(), get::toString);
    assertEquals(5, get.json().path("maxFiles").asInt());
    assertEquals(10, get.json().path("maxFileSizeMegabytes").asInt());
    assertEquals("[\"csv\"]", get.json().path("formats").toString());
  }

  @Test
  void constraintsAcceptTheSeedsYamlKeys() {
    String yaml = "max_number_files: 7\nmax_size_file_in_megabytes: 3\nformat_data: csv,json\n";
    Reply put =
        api.send("PUT", "/v1/tenants/bob/constraints", admin, "application/yaml", yaml.getBytes(StandardCharsets.UTF_8));
    assertEquals(200, put.status(), put::toString);
    JsonNode got = api.get("/v1/tenants/bob/constraints", bobKey).json();
    assertEquals(7, got.path("maxFiles").asInt());
    assertEquals(3, got.path("maxFileSizeMegabytes").asInt());
    assertEquals("[\"csv\",\"json\"]", got.path("formats").toString());

    // Fields left out take the platform defaults.
    Reply partial = api.send("PUT", "/v1/tenants/bob/constraints", admin, "application/x-yaml",
        "max_number_files: 9\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(200, partial.status(), partial::toString);
    assertEquals(9, partial.json().path("maxFiles").asInt());
    assertEquals(2048, partial.json().path("maxFileSizeMegabytes").asInt());
  }

  @Test
  void badConstraintsChangeNothing() {
    api.putJson("/v1/tenants/alice/constraints", admin, "{\"maxFiles\":5,\"maxFileSizeMegabytes\":10,\"formats\":[\"csv\"]}");
    String path = "/v1/tenants/alice/constraints";

    Reply negative = api.putJson(path, admin, "{\"maxFiles\":-1}");
    assertEquals(422, negative.status(), negative::toString);
    assertEquals("invalid_constraints", negative.errorCode());
    assertTrue(negative.json().path("message").asText().contains("maxFiles"));

    Reply unknownFormat = api.putJson(path, admin, "{\"formats\":[\"exe\"]}");
    assertEquals(422, unknownFormat.status(), unknownFormat::toString);
    assertTrue(unknownFormat.json().path("message").asText().contains("exe"));

    Reply unknownKey = api.putJson(path, admin, "{\"max_files_please\":3}");
    assertEquals(400, unknownKey.status(), unknownKey::toString);
    assertEquals("unknown_field", unknownKey.errorCode());

    Reply fractional = api.putJson(path, admin, "{\"maxFiles\":1.5}");
    assertEquals(400, fractional.status(), fractional::toString);

    Reply text = api.putJson(path, admin, "{\"maxFiles\":\"lots\"}");
    assertEquals(400, text.status(), text::toString);
    assertEquals("invalid_field", text.errorCode());

    Reply badYaml =
        api.send("PUT", path, admin, "application/yaml", "max_number_files: 'oops\nformat_data: [csv\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, badYaml.status(), badYaml::toString);
    assertEquals("malformed_body", badYaml.errorCode());

    Reply wrongType = api.send("PUT", path, admin, "text/csv", "a,b".getBytes(StandardCharsets.UTF_8));
    assertEquals(415, wrongType.status(), wrongType::toString);

    JsonNode unchanged = api.get(path, aliceKey).json();
    assertEquals(5, unchanged.path("maxFiles").asInt());
    assertEquals("[\"csv\"]", unchanged.path("formats").toString());

    Reply unknownTenant = api.putJson("/v1/tenants/nobody/constraints", admin, "{\"maxFiles\":3}");
    assertEquals(404, unknownTenant.status(), unknownTenant::toString);
    assertEquals("tenant_not_found", unknownTenant.errorCode());
  }

  @Test
  void badIdsInPathsAreRejected() {
    Reply encodedSlash = api.get("/v1/tenants/a%2Fb/constraints", admin);
    assertEquals(400, encodedSlash.status(), encodedSlash::toString);
    assertEquals("invalid_tenant_id", encodedSlash.errorCode());
    Reply spaces = api.get("/v1/tenants/a%20b", admin);
    assertEquals(400, spaces.status(), spaces::toString);
    // Akka HTTP removes dot segments before routing, so ".." never reaches a tenant route.
    Reply dots = api.get("/v1/tenants/%2E%2E/constraints", admin);
    assertTrue(dots.status() == 400 || dots.status() == 404, dots::toString);
    assertFalse(dots.errorCode().isBlank());
    Reply longId = api.get("/v1/tenants/" + "y".repeat(300), admin);
    assertEquals(400, longId.status(), longId::toString);
  }

  @Test
  void unknownRoutesAndMethodsAnswerInTheErrorShape() {
    Reply unknown = api.get("/v1/tenants/alice/nothing-here", aliceKey);
    assertEquals(404, unknown.status(), unknown::toString);
    assertEquals("not_found", unknown.errorCode());
    Reply method = api.send("DELETE", "/v1/tenants/alice/constraints", admin, null, null);
    assertEquals(405, method.status(), method::toString);
    assertEquals("method_not_allowed", method.errorCode());
  }

  @Test
  void rotatingAKeyRetiresTheOldOne() {
    String key = api.createTenant("erin");
    Reply rotated = api.send("POST", "/v1/tenants/erin/api-key", admin, null, null);
    assertEquals(200, rotated.status(), rotated::toString);
    String newKey = rotated.json().path("apiKey").asText();
    assertEquals(401, api.get("/v1/tenants/erin", key).status());
    assertEquals(200, api.get("/v1/tenants/erin", newKey).status());
  }

  @Test
  void theTenantsIngestorRunsOnThisNode() {
    Reply status = api.get("/v1/tenants/alice/ingestor", aliceKey);
    assertEquals(200, status.status(), status::toString);
    assertEquals("alice", status.json().path("tenant").asText());
    String self = Cluster.get(node.testKit.system()).selfMember().address().toString();
    assertEquals(self, status.json().path("node").asText());
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
