package io.mysimbdp.node.http;

import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The OpenAPI document as swagger-parser reads it, and the routes it names, for the contract tests. */
final class OpenApiContract {
  static final String TENANT_PREFIX = "/v1/tenants/{id}";

  private OpenApiContract() {}

  static String resourceText() {
    try (InputStream in = OpenApiContract.class.getClassLoader().getResourceAsStream(OpenApiDocument.RESOURCE)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parsed with every $ref inlined; the result's messages list what is not valid OpenAPI. */
  static SwaggerParseResult parse(String text) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    options.setResolveFully(true);
    return new OpenAPIParser().readContents(text, null, options);
  }

  /** Every operation as "METHOD /path", in path order. */
  static Map<String, Operation> operations(OpenAPI api) {
    Map<String, Operation> out = new LinkedHashMap<>();
    api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) ->
        out.put(method.name() + " " + path, operation)));
    return out;
  }

  /**
   * The document's tenant routes as RouteTable names them: "METHOD path" under {@code /v1/tenants/{id}}
   * ("" for the tenant itself), every placeholder written {@code {}}.
   */
  static Set<String> tenantRoutes(OpenAPI api) {
    Set<String> out = new TreeSet<>();
    for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
      if (!path.getKey().startsWith(TENANT_PREFIX)) {
        continue;
      }
      String under = path.getKey().substring(TENANT_PREFIX.length());
      under = under.startsWith("/") ? under.substring(1) : under;
      for (PathItem.HttpMethod method : path.getValue().readOperationsMap().keySet()) {
        out.add(method.name() + " " + normalise(under));
      }
    }
    return out;
  }

  /** The routes the {@code *Routes} classes document, in the same form. */
  static Set<String> documentedRoutes() {
    Set<String> out = new TreeSet<>();
    RouteTable.all().forEach(r -> out.add(r.method() + " " + normalise(r.path())));
    return out;
  }

  static String normalise(String path) {
    return path.replaceAll("\\{[^}]*}", "{}");
  }
}
