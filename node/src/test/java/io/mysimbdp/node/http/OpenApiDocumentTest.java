package io.mysimbdp.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.SpecVersion;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document ({@code openapi.yaml}, served at {@code GET /v1/openapi.json}) is valid OpenAPI
 * 3.1 and names exactly the routes the {@code *Routes} classes document (and so the routes the
 * isolation test tries), each with the error shape; {@code docs/api.md} is what it generates.
 */
class OpenApiDocumentTest {
  private static final Path API_DOCS = Path.of("../docs/api.md");

  /** Parsed once for the tests that only read it (a parse takes seconds). */
  private static OpenAPI shared;

  private static synchronized OpenAPI parsed() {
    if (shared == null) {
      shared = parseFresh();
    }
    return shared;
  }

  private static OpenAPI parseFresh() {
    SwaggerParseResult result = OpenApiContract.parse(OpenApiContract.resourceText());
    assertTrue(result.getMessages() == null || result.getMessages().isEmpty(), () -> "not valid OpenAPI: " + result.getMessages());
    assertNotNull(result.getOpenAPI());
    return result.getOpenAPI();
  }

  @Test
  void theDocumentIsValidOpenApi31() {
    OpenAPI api = parsed();
    assertEquals(SpecVersion.V31, api.getSpecVersion());
    assertTrue(api.getOpenapi().startsWith("3.1."), api.getOpenapi());
    assertNotNull(api.getComponents().getSchemas().get("ApiError"));
    assertEquals(Set.of("status", "code", "message"), Set.copyOf(api.getComponents().getSchemas().get("ApiError").getRequired()));
  }

  @Test
  void theDocumentNamesExactlyTheRoutesTheRoutesClassesDocument() {
    OpenAPI api = parsed();
    assertEquals(List.of(), differences(OpenApiContract.tenantRoutes(api), OpenApiContract.documentedRoutes()));
    Map<String, Operation> operations = OpenApiContract.operations(api);
    // The admin's collection routes (which RouteTable leaves out) and the document itself.
    for (String expected : List.of("POST /v1/tenants", "GET /v1/tenants", "GET /v1/openapi.json")) {
      assertTrue(operations.containsKey(expected), () -> expected + " is in the document: " + operations.keySet());
    }
    Set<String> unexpected = new TreeSet<>(operations.keySet());
    unexpected.removeIf(op -> op.contains(" " + OpenApiContract.TENANT_PREFIX) || op.endsWith(" /v1/tenants") || op.endsWith(" /v1/openapi.json"));
    assertEquals(Set.of(), unexpected, "the document names no route the API does not have");
  }

  /** The check above can fail: a route left out of the document, or one it names that the code lacks, is found. */
  @Test
  void aRouteMissingOnEitherSideIsFound() {
    OpenAPI api = parseFresh();
    api.getPaths().remove(OpenApiContract.TENANT_PREFIX + "/dead-letters/replay");
    Set<String> documented = OpenApiContract.documentedRoutes();
    assertEquals(List.of("in the route tables but not in the document: [POST dead-letters/replay]"),
        differences(OpenApiContract.tenantRoutes(api), documented));
    documented.remove("GET stats");
    assertEquals(List.of("in the document but not in the route tables: [GET stats]"),
        differences(OpenApiContract.tenantRoutes(parsed()), documented));
  }

  @Test
  void everyTenantOperationNeedsAKeyAndAnswersErrorsInTheOneShape() {
    OpenAPI api = parsed();
    assertFalse(api.getSecurity().isEmpty(), "a key is required unless an operation says otherwise");
    for (Map.Entry<String, Operation> entry : OpenApiContract.operations(api).entrySet()) {
      String name = entry.getKey();
      Operation operation = entry.getValue();
      assertNotNull(operation.getOperationId(), name);
      assertNotNull(operation.getSummary(), name);
      if (name.endsWith(" /v1/openapi.json")) {
        assertEquals(List.of(), operation.getSecurity(), "the document is public");
        continue;
      }
      assertTrue(operation.getSecurity() == null, () -> name + " keeps the document's bearer requirement");
      assertTrue(operation.getResponses().containsKey("401"), () -> name + " documents 401");
      assertTrue(operation.getResponses().containsKey("403"), () -> name + " documents 403");
      for (Map.Entry<String, ApiResponse> response : operation.getResponses().entrySet()) {
        int status = Integer.parseInt(response.getKey());
        if (status < 400 || name.startsWith("HEAD ")) {
          continue;
        }
        MediaType json = response.getValue().getContent() == null ? null : response.getValue().getContent().get("application/json");
        assertNotNull(json, () -> name + " " + status + " answers JSON");
        assertEquals(Set.of("status", "code", "message", "details"), json.getSchema().getProperties().keySet(),
            () -> name + " " + status + " answers an ApiError");
      }
    }
  }

  @Test
  void theContractedHeadersAndParametersAreDocumented() {
    OpenAPI api = parsed();
    Map<String, Operation> operations = OpenApiContract.operations(api);
    Operation upload = operations.get("POST /v1/tenants/{id}/files");
    assertTrue(upload.getParameters().stream().anyMatch(p -> p.getName().equals("duplicate") && p.getIn().equals("query")));
    ApiResponse conflict = upload.getResponses().get("409");
    assertTrue(conflict.getHeaders().containsKey("Mysimbdp-File-Id"));
    assertTrue(conflict.getDescription().contains("duplicate_file") && conflict.getDescription().contains("details.fileId"));
    assertTrue(operations.get("POST /v1/tenants/{id}/uploads").getParameters().stream()
        .anyMatch(p -> p.getName().equals("duplicate") && p.getIn().equals("query")));
    assertTrue(operations.get("POST /v1/tenants/{id}/messages").getParameters().stream()
        .anyMatch(p -> p.getName().equals("Idempotency-Key") && p.getIn().equals("header")));
    assertTrue(operations.get("POST /v1/tenants/{id}/messages").getResponses().get("429").getHeaders().containsKey("Retry-After"));
  }

  /**
   * docs/api.md is generated from the document: regenerate it with
   * {@code -Dapi.docs.write=true} after changing openapi.yaml.
   */
  @Test
  void docsApiMdIsGeneratedFromTheDocument() throws Exception {
    String generated = ApiDocs.markdown(parsed());
    if (Boolean.getBoolean("api.docs.write")) {
      Files.writeString(API_DOCS, generated, StandardCharsets.UTF_8);
    }
    String committed = Files.exists(API_DOCS) ? Files.readString(API_DOCS, StandardCharsets.UTF_8) : "";
    if (!committed.equals(generated)) {
      Path fresh = Path.of("target/api.md");
      Files.writeString(fresh, generated, StandardCharsets.UTF_8);
      throw new AssertionError("docs/api.md is not what openapi.yaml generates (see " + fresh.toAbsolutePath()
          + "); regenerate it: mvn -pl node -am verify -Dtest=OpenApiDocumentTest -Dapi.docs.write=true -Dsurefire.failIfNoSpecifiedTests=false");
    }
  }

  private static List<String> differences(Set<String> inDocument, Set<String> inTables) {
    Set<String> missing = new TreeSet<>(inTables);
    missing.removeAll(inDocument);
    Set<String> extra = new TreeSet<>(inDocument);
    extra.removeAll(inTables);
    List<String> out = new java.util.ArrayList<>();
    if (!missing.isEmpty()) {
      out.add("in the route tables but not in the document: " + missing);
    }
    if (!extra.isEmpty()) {
      out.add("in the document but not in the route tables: " + extra);
    }
    return out;
  }
}
