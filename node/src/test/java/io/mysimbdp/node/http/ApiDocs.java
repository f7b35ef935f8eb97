package io.mysimbdp.node.http;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.tags.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** docs/api.md, generated from the OpenAPI document: one table per tag, then the error shape. */
final class ApiDocs {
  private ApiDocs() {}

  static String markdown(OpenAPI api) {
    StringBuilder md = new StringBuilder();
    md.append("# Tenant API\n\n");
    md.append("<!-- Generated from node/src/main/resources/openapi.yaml by OpenApiDocumentTest: edit the YAML, then run\n");
    md.append("     mvn -pl node -am verify -Dtest=OpenApiDocumentTest -Dapi.docs.write=true -Dsurefire.failIfNoSpecifiedTests=false -->\n\n");
    md.append("The machine-readable contract is served by every node at `GET /v1/openapi.json` (OpenAPI ")
        .append(api.getOpenapi()).append(", no key needed): generate a client from it.\n\n");
    md.append(api.getInfo().getDescription().strip()).append("\n\n");
    for (Tag tag : api.getTags()) {
      List<String> rows = new ArrayList<>();
      for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
        for (Map.Entry<PathItem.HttpMethod, Operation> entry : path.getValue().readOperationsMap().entrySet()) {
          Operation operation = entry.getValue();
          if (operation.getTags() != null && operation.getTags().contains(tag.getName())) {
            rows.add(row(entry.getKey().name(), path.getKey(), path.getValue(), operation));
          }
        }
      }
      md.append("## ").append(tag.getName()).append("\n\n").append(tag.getDescription()).append("\n\n");
      md.append("| Method | Path | What | Parameters | Answers |\n|---|---|---|---|---|\n");
      rows.forEach(md::append);
      md.append("\n");
    }
    md.append("## Errors\n\nEvery error is an `ApiError`:\n\n| Field | Type | Meaning |\n|---|---|---|\n");
    Schema<?> error = api.getComponents().getSchemas().get("ApiError");
    error.getProperties().forEach((name, schema) ->
        md.append("| `").append(name).append("` | ").append(type(schema)).append(" | ").append(cell(schema.getDescription())).append(" |\n"));
    md.append("\nStatuses used: ");
    md.append(api.getComponents().getResponses().entrySet().stream()
        .filter(e -> e.getValue().getContent() != null && e.getValue().getContent().get("application/json") != null
            && e.getValue().getContent().get("application/json").getSchema() != null
            && isApiError(e.getValue().getContent().get("application/json").getSchema()))
        .map(e -> "**" + e.getKey() + "**: " + cell(e.getValue().getDescription()))
        .collect(Collectors.joining("; ")));
    md.append(".\n");
    return md.toString();
  }

  private static String row(String method, String path, PathItem item, Operation operation) {
    List<String> parameters = new ArrayList<>();
    List<Parameter> all = new ArrayList<>();
    if (operation.getParameters() != null) {
      all.addAll(operation.getParameters());
    }
    for (Parameter p : all) {
      if (!"path".equals(p.getIn())) {
        parameters.add("`" + p.getName() + "` (" + p.getIn() + (Boolean.TRUE.equals(p.getRequired()) ? ", required" : "") + ")");
      }
    }
    if (operation.getRequestBody() != null && operation.getRequestBody().getContent() != null) {
      parameters.add("body: " + operation.getRequestBody().getContent().keySet().stream().map(t -> "`" + t + "`")
          .collect(Collectors.joining(", ")));
    }
    List<String> answers = new ArrayList<>();
    for (Map.Entry<String, ApiResponse> response : operation.getResponses().entrySet()) {
      answers.add(response.getKey());
    }
    String what = cell(operation.getSummary()) + (operation.getSecurity() != null && operation.getSecurity().isEmpty() ? " (public)" : "");
    return "| " + method + " | `" + path + "` | " + what + " | " + String.join(", ", parameters) + " | " + String.join(", ", answers) + " |\n";
  }

  private static String type(Schema<?> schema) {
    if (schema.getTypes() != null && !schema.getTypes().isEmpty()) {
      return String.join("|", schema.getTypes());
    }
    return schema.getType() == null ? "any" : schema.getType();
  }

  private static boolean isApiError(Schema<?> schema) {
    return schema.getProperties() != null && schema.getProperties().keySet().equals(java.util.Set.of("status", "code", "message", "details"));
  }

  private static String cell(String text) {
    return text == null ? "" : text.strip().replace("\n", " ").replace("|", "\\|");
  }
}
