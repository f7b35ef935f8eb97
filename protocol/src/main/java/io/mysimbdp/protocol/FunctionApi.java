package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the function, category and quality-rule routes answer ({@code /v1/tenants/{id}/functions},
 * {@code /categories}, {@code /quality}); docs/api.md has each shape. A field marked {@code
 * NON_NULL} is left out when it does not apply.
 */
public final class FunctionApi {
  private FunctionApi() {}

  /** {@code GET /functions}. */
  public record FunctionList(List<FunctionSummary> functions) {}

  public record FunctionSummary(String name, Long activeVersion, Long latestVersion, FunctionStatus status, Instant updatedAt) {}

  /**
   * ACTIVE or DISABLED (a disable recorded in the store, by any node, or by this node's guard) and
   * this node's counts since it loaded the version.
   */
  public record FunctionStatus(
      String state,
      @JsonInclude(JsonInclude.Include.NON_NULL) String reason,
      @JsonInclude(JsonInclude.Include.NON_NULL) Instant since,
      long version,
      int consecutiveFailures,
      long calls,
      long failures,
      String countsFrom) {}

  /** {@code PUT /functions/{name}}: the version the definition became, active at once. */
  public record UploadedFunction(String name, long version, boolean active, String kind) {}

  /** {@code GET /functions/{name}}, and the answer to activate and reset. */
  public record FunctionDetail(
      String name, long activeVersion, Long latestVersion, FunctionStatus status, List<FunctionVersion> versions, List<String> categories) {}

  public record FunctionVersion(long version, Instant createdAt, boolean active, Map<String, Object> spec) {}

  /** {@code DELETE /functions/{name}}; {@code warning} when categories still name it. */
  public record DeletedFunction(
      String name, boolean deleted, List<String> categoriesStillMapped, @JsonInclude(JsonInclude.Include.NON_NULL) String warning) {}

  /** {@code POST /functions/{name}/test}: each sample's outputs or error; nothing stored. */
  public record DryRun(String function, Long version, int records, int failed, List<DryRunResult> results) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record DryRunResult(int index, List<Map<String, Object>> outputs, String error, Double millis) {}

  /** {@code GET /categories}; {@code unmapped}: what happens to a category without a mapping. */
  public record CategoryList(List<CategoryMapping> categories, String unmapped) {}

  /** {@code types}: "strings", "infer", or a column-to-type map. */
  public record CategoryMapping(String category, String function, String collection, Object types, Instant updatedAt) {}

  public record DeletedCategory(String category, boolean deleted) {}

  /** {@code GET /quality} and the answer to every change of the rules. */
  public record QualityRules(List<QualityRuleView> rules) {}

  /** A rule, its counts over all nodes since it was last defined, or {@code error} if it no longer compiles. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record QualityRuleView(
      String name,
      Map<String, Object> definition,
      String cel,
      String action,
      Double threshold,
      Long evaluated,
      Long passed,
      Long failed,
      Long errors,
      Double passRate,
      Boolean acceptable,
      String state,
      String disabledReason,
      String error,
      Instant since) {}
}
