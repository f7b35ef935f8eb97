package io.mysimbdp.node.functions;

import io.mysimbdp.protocol.FunctionApi.CategoryList;
import io.mysimbdp.protocol.FunctionApi.CategoryMapping;
import io.mysimbdp.protocol.FunctionApi.DeletedCategory;
import io.mysimbdp.protocol.FunctionApi.DeletedFunction;
import io.mysimbdp.protocol.FunctionApi.DryRun;
import io.mysimbdp.protocol.FunctionApi.DryRunResult;
import io.mysimbdp.protocol.FunctionApi.FunctionDetail;
import io.mysimbdp.protocol.FunctionApi.FunctionList;
import io.mysimbdp.protocol.FunctionApi.FunctionStatus;
import io.mysimbdp.protocol.FunctionApi.FunctionSummary;
import io.mysimbdp.protocol.FunctionApi.FunctionVersion;
import io.mysimbdp.protocol.FunctionApi.QualityRuleView;
import io.mysimbdp.protocol.FunctionApi.QualityRules;
import io.mysimbdp.protocol.FunctionApi.UploadedFunction;

import io.mysimbdp.node.functions.CsvTypes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.FunctionSpec;
import io.mysimbdp.functions.quality.QualityRule;
import io.mysimbdp.protocol.PerformanceReport;
import io.mysimbdp.functions.sandbox.GuardedFunction;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import io.mysimbdp.node.coredms.TenantCollections;
import io.mysimbdp.node.errors.Refusal;
import io.mysimbdp.node.functions.CategoryFunctions;
import io.mysimbdp.protocol.ProtocolJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * What the function, category and quality routes do: validate (compile at upload), store, and tell
 * this node's {@link CategoryFunctions} to re-read the tenant. Failures are {@link Refusal}s.
 */
public final class FunctionService {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final String NAME_RULE = "1-64 letters, digits, '_', '-' or '.', starting with a letter or digit";
  /** A dry run stops after this long; the records left are reported as not run. */
  private static final Duration DRY_RUN_BUDGET = Duration.ofSeconds(10);
  /** A dry run stops evaluating after this many bound violations in a row (as a pipeline's guard does by default). */
  private static final int DRY_RUN_VIOLATIONS = GuardedFunction.Policy.DEFAULT.maxConsecutiveViolations();

  private final FunctionStore store;
  private final CategoryFunctions categories;
  private final FunctionFactory factory;
  private final int testMaxRecords;

  public FunctionService(FunctionStore store, CategoryFunctions categories, int testMaxRecords) {
    this.store = store;
    this.categories = categories;
    this.factory = categories.factory();
    this.testMaxRecords = testMaxRecords;
  }

  // ---- functions

  public CompletionStage<FunctionList> list(String tenantId) {
    return store.functions(tenantId).thenApply(docs -> {
      List<FunctionSummary> out = new ArrayList<>();
      for (Document d : docs) {
        if (d.get("active") == null) {
          continue; // an upload that failed half-way
        }
        out.add(new FunctionSummary(d.getString("_id"), number(d.get("active")), number(d.get("latest")), status(tenantId, d),
            FunctionStore.instant(d.get("updatedAt"))));
      }
      return new FunctionList(out);
    });
  }

  /** A version number as the store holds it (int or long), or null. */
  private static Long number(Object stored) {
    return stored instanceof Number n ? n.longValue() : null;
  }

  public CompletionStage<UploadedFunction> upload(String tenantId, String name, Map<String, Object> body) {
    checkName("function", name);
    FunctionSpec spec = compile(body);
    return store.addVersion(tenantId, name, body).thenApply(version -> {
      categories.changed(tenantId);
      return new UploadedFunction(name, version, true, spec.kind().name().toLowerCase(java.util.Locale.ROOT));
    });
  }

  /** Compiles a definition now: 422 with the position when it does not. */
  private FunctionSpec compile(Map<String, Object> body) {
    try {
      FunctionSpec spec = FunctionSpec.fromMap(body);
      factory.create(spec);
      return spec;
    } catch (CompileException e) {
      throw compileError("function_does_not_compile", e);
    }
  }

  private static Refusal compileError(String code, CompileException e) {
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("language", e.language());
    details.put("detail", e.detail());
    if (e.line() > 0) {
      details.put("line", e.line());
      details.put("column", e.column());
      details.put("offset", e.offset());
    }
    return new Refusal(Refusal.Kind.UNPROCESSABLE, code, e.getMessage(), details);
  }

  public CompletionStage<FunctionDetail> describe(String tenantId, String name) {
    return existing(tenantId, name).thenCompose(doc -> store.versions(tenantId, name).thenCombine(store.categories(tenantId),
        (versions, mappings) -> {
          long active = ((Number) doc.get("active")).longValue();
          List<FunctionVersion> list = new ArrayList<>();
          for (Document v : versions) {
            long number = ((Number) v.get("version")).longValue();
            list.add(new FunctionVersion(number, FunctionStore.instant(v.get("createdAt")), number == active, FunctionStore.parse(v.getString("spec"))));
          }
          List<String> mappedCategories = mappings.stream().filter(m -> name.equals(m.getString("function")))
              .map(m -> m.getString("_id")).toList();
          return new FunctionDetail(name, active, number(doc.get("latest")), status(tenantId, doc), list, mappedCategories);
        }));
  }

  /** ACTIVE/DISABLED (from the store: every node's guard records a disable there) and this node's counts. */
  private FunctionStatus status(String tenantId, Document doc) {
    long active = ((Number) doc.get("active")).longValue();
    Optional<GuardedFunction.Status> local = categories.localStatus(tenantId, doc.getString("_id"), active);
    Document disabled = doc.get("disabled", Document.class);
    String state = "ACTIVE";
    String reason = null;
    Instant since = null;
    if (disabled != null && ((Number) disabled.get("version")).longValue() == active) {
      state = "DISABLED";
      reason = disabled.getString("reason");
      since = FunctionStore.instant(disabled.get("since"));
    } else if (local.isPresent() && local.get().state() == GuardedFunction.State.DISABLED) {
      state = "DISABLED";
      reason = local.get().reason();
      since = local.get().since();
    }
    return new FunctionStatus(state, reason, since, active,
        local.map(GuardedFunction.Status::consecutiveFailures).orElse(0),
        local.map(GuardedFunction.Status::calls).orElse(0L),
        local.map(GuardedFunction.Status::failures).orElse(0L),
        "this node, since it loaded the version");
  }

  public CompletionStage<DeletedFunction> delete(String tenantId, String name) {
    return existing(tenantId, name).thenCompose(doc -> store.deleteFunction(tenantId, name))
        .thenCompose(deleted -> store.categories(tenantId))
        .thenApply(mappings -> {
          categories.changed(tenantId);
          List<String> still = mappings.stream().filter(m -> name.equals(m.getString("function")))
              .map(m -> m.getString("_id")).toList();
          String warning = still.isEmpty() ? null : "records of these categories now go to the dead letters (\"function '" + name
              + "' was deleted\") until they are mapped to another function";
          return new DeletedFunction(name, true, still, warning);
        });
  }

  public CompletionStage<FunctionDetail> activate(String tenantId, String name, long version) {
    return existing(tenantId, name)
        .thenCompose(doc -> store.version(tenantId, name, version))
        .thenCompose(v -> {
          if (v.isEmpty()) {
            throw new Refusal(Refusal.Kind.NOT_FOUND, "version_not_found", "function '" + name + "' has no version " + version);
          }
          return store.activate(tenantId, name, version);
        })
        .thenCompose(done -> {
          categories.changed(tenantId);
          return describe(tenantId, name);
        });
  }

  public CompletionStage<FunctionDetail> reset(String tenantId, String name) {
    return existing(tenantId, name).thenCompose(doc -> store.reset(tenantId, name)).thenCompose(done -> {
      categories.changed(tenantId);
      // Loads the function again now, so that this node's guard is reset before the answer.
      return categories.resolveFunction(tenantId, name).thenCompose(loaded -> describe(tenantId, name));
    });
  }

  private CompletionStage<Document> existing(String tenantId, String name) {
    checkName("function", name);
    return store.function(tenantId, name).thenApply(doc -> doc.filter(d -> d.get("active") != null).orElseThrow(() ->
        new Refusal(Refusal.Kind.NOT_FOUND, "function_not_found", "there is no function '" + name + "'", Map.of("function", name))));
  }

  /** Runs a version (default: the active one) on sample records; stores nothing, counts nothing. */
  public CompletionStage<DryRun> dryRun(String tenantId, String name, Long version, String mediaType,
      byte[] body, Executor executor) {
    List<Object> samples = samples(mediaType, body);
    return existing(tenantId, name)
        .thenCompose(doc -> store.version(tenantId, name, version != null ? version : ((Number) doc.get("active")).longValue()))
        .thenComposeAsync(v -> {
          Document versionDoc = v.orElseThrow(() ->
              new Refusal(Refusal.Kind.NOT_FOUND, "version_not_found", "function '" + name + "' has no version " + version));
          IngestionFunction function;
          try {
            function = factory.create(FunctionSpec.fromMap(FunctionStore.parse(versionDoc.getString("spec"))));
          } catch (CompileException e) {
            throw compileError("function_does_not_compile", e);
          }
          // A guard of its own: a dry run never disables the function the pipelines use. It shows
          // every ordinary failure, but stops running the function after the bound violations that
          // would disable it in a pipeline (the later samples say so), so a dry run of a hostile
          // function costs what its ingestion would.
          GuardedFunction guard = factory.guard("dry-run " + tenantId + "/" + name, function,
              new GuardedFunction.Policy(Integer.MAX_VALUE, DRY_RUN_VIOLATIONS, DRY_RUN_BUDGET));
          return CompletableFuture.completedFuture(run(tenantId, name, versionDoc, guard, samples));
        }, executor);
  }

  private DryRun run(String tenantId, String name, Document versionDoc, GuardedFunction guard, List<Object> samples) {
    long deadline = System.nanoTime() + DRY_RUN_BUDGET.toNanos();
    List<DryRunResult> results = new ArrayList<>();
    int failed = 0;
    for (int i = 0; i < samples.size(); i++) {
      Object sample = samples.get(i);
      if (System.nanoTime() - deadline > 0) {
        results.add(new DryRunResult(i, null, "not run: the dry run's " + DRY_RUN_BUDGET.toSeconds() + " s were used up", null));
        failed++;
      } else if (!(sample instanceof Map<?, ?> map)) {
        results.add(new DryRunResult(i, null, "sample " + i + " is not a JSON object", null));
        failed++;
      } else {
        long start = System.nanoTime();
        List<Map<String, Object>> outputs = null;
        String error = null;
        try {
          @SuppressWarnings("unchecked")
          Map<String, Object> record = (Map<String, Object>) map;
          outputs = io.mysimbdp.functions.sealed.SealedFields.admitting(guard).apply(record, new FunctionContext(tenantId, "dry-run", "test", i));
        } catch (FunctionException e) {
          error = e.getMessage();
          failed++;
        }
        results.add(new DryRunResult(i, outputs, error, (System.nanoTime() - start) / 1_000_000.0));
      }
    }
    return new DryRun(name, number(versionDoc.get("version")), samples.size(), failed, results);
  }

  private List<Object> samples(String mediaType, byte[] body) {
    List<Object> samples = new ArrayList<>();
    try {
      if (mediaType.equals("application/x-ndjson") || mediaType.equals("application/jsonl")) {
        String text = new String(body, StandardCharsets.UTF_8);
        for (String line : text.split("\r?\n")) {
          if (!line.isBlank()) {
            samples.add(ProtocolJson.JSON.readValue(line, Object.class));
            checkCount(samples.size());
          }
        }
      } else if (mediaType.equals("application/json")) {
        JsonNode tree = ProtocolJson.JSON.readTree(body);
        if (tree == null || !tree.isArray()) {
          throw new Refusal(Refusal.Kind.INVALID, "malformed_body", "send the sample records as a JSON array (or NDJSON lines)");
        }
        checkCount(tree.size());
        for (JsonNode node : tree) {
          samples.add(ProtocolJson.JSON.treeToValue(node, Object.class));
        }
      } else {
        throw new Refusal(Refusal.Kind.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
            "send the sample records as application/json (an array) or application/x-ndjson, not " + mediaType);
      }
    } catch (JsonProcessingException e) {
      throw new Refusal(Refusal.Kind.INVALID, "malformed_body", "the sample records are not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new Refusal(Refusal.Kind.INVALID, "malformed_body", "the sample records could not be read: " + e.getMessage());
    }
    if (samples.isEmpty()) {
      throw new Refusal(Refusal.Kind.INVALID, "malformed_body", "send at least one sample record");
    }
    return samples;
  }

  private void checkCount(int n) {
    if (n > testMaxRecords) {
      throw new Refusal(Refusal.Kind.TOO_LARGE, "too_many_records", "a dry run takes at most " + testMaxRecords + " records",
          Map.of("limit", testMaxRecords));
    }
  }

  // ---- categories

  public CompletionStage<CategoryList> categories(String tenantId) {
    return store.categories(tenantId).thenApply(docs -> new CategoryList(
        docs.stream().map(FunctionService::mapping).toList(),
        docs.stream().anyMatch(d -> d.getString("_id").equals(CategoryFunctions.FALLBACK_CATEGORY))
            ? "the '*' mapping" : "identity into '" + CategoryFunctions.DEFAULT_COLLECTION + "'"));
  }

  private static CategoryMapping mapping(Document d) {
    return new CategoryMapping(d.getString("_id"), d.getString("function"), d.getString("collection"),
        d.get("types") instanceof Document typed ? new java.util.TreeMap<>(typed) : d.get("types", "strings"),
        FunctionStore.instant(d.get("updatedAt")));
  }

  public CompletionStage<CategoryMapping> category(String tenantId, String category) {
    checkCategory(category);
    return store.categories(tenantId).thenApply(docs -> docs.stream().filter(d -> d.getString("_id").equals(category))
        .findFirst().map(FunctionService::mapping).orElseThrow(() -> noCategory(category)));
  }

  public CompletionStage<CategoryMapping> putCategory(String tenantId, String category, Map<String, Object> body) {
    checkCategory(category);
    for (String key : body.keySet()) {
      if (!key.equals("function") && !key.equals("collection") && !key.equals("types")) {
        throw new Refusal(Refusal.Kind.INVALID, "unknown_field", "unknown field '" + key + "' (known: function, collection, types)",
            Map.of("field", key));
      }
    }
    Object types;
    try {
      types = CsvTypes.fromSpec(body.get("types")).spec();
    } catch (IllegalArgumentException e) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_types", e.getMessage(), Map.of("field", "types"));
    }
    if (!(body.get("function") instanceof String function) || function.isBlank()) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_field", "field 'function' (a function's name) is required", Map.of("field", "function"));
    }
    Object rawCollection = body.getOrDefault("collection", CategoryFunctions.DEFAULT_COLLECTION);
    if (!(rawCollection instanceof String collection) || !TenantCollections.isTargetCollection(collection)) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_collection", "field 'collection' must be 1-64 letters, digits, '_' or '-', "
          + "starting with a letter or digit, and not one of the platform's collections", Map.of("field", "collection"));
    }
    return store.function(tenantId, function).thenCompose(found -> {
      if (found.filter(d -> d.get("active") != null).isEmpty()) {
        throw new Refusal(Refusal.Kind.UNPROCESSABLE, "function_not_found", "there is no function '" + function + "'; upload it first "
            + "(PUT /v1/tenants/" + tenantId + "/functions/" + function + ")", Map.of("function", function));
      }
      return store.putCategory(tenantId, category, function, collection, types);
    }).thenCompose(done -> {
      categories.changed(tenantId);
      return category(tenantId, category);
    });
  }

  public CompletionStage<DeletedCategory> deleteCategory(String tenantId, String category) {
    checkCategory(category);
    return store.deleteCategory(tenantId, category).thenApply(deleted -> {
      if (!deleted) {
        throw noCategory(category);
      }
      categories.changed(tenantId);
      return new DeletedCategory(category, true);
    });
  }

  private static void checkCategory(String category) {
    if (!category.equals(CategoryFunctions.FALLBACK_CATEGORY)) {
      checkName("category", category);
    }
  }

  private static Refusal noCategory(String category) {
    return new Refusal(Refusal.Kind.NOT_FOUND, "category_not_found", "category '" + category + "' is not mapped", Map.of("category", category));
  }

  // ---- quality rules

  public CompletionStage<QualityRules> quality(String tenantId) {
    return categories.flushQuality().exceptionally(e -> null)
        .thenCompose(flushed -> store.qualityRules(tenantId).thenCombine(store.qualityStats(tenantId), (rules, stats) -> {
          Map<String, Document> statsById = new HashMap<>();
          stats.forEach(s -> statsById.put(s.getString("_id"), s));
          List<QualityRuleView> out = new ArrayList<>();
          for (Document rule : rules) {
            Map<String, Object> definition = FunctionStore.parse(rule.getString("definition"));
            Document s = statsById.getOrDefault(rule.getString("_id") + "@" + rule.getString("generation"), new Document());
            String name = rule.getString("_id");
            Instant since = FunctionStore.instant(rule.get("updatedAt"));
            QualityRule compiled;
            try {
              compiled = QualityRule.fromMap(definition);
            } catch (CompileException e) {
              out.add(new QualityRuleView(name, definition, null, null, null, null, null, null, null, null, null, null, null, e.getMessage(), since));
              continue;
            }
            long evaluated = count(s, "evaluated");
            long passed = count(s, "passed");
            double rate = evaluated == 0 ? 1.0 : (double) passed / evaluated;
            Document disabled = s.get("disabled", Document.class);
            out.add(new QualityRuleView(name, definition, compiled.cel(), compiled.action().name(), compiled.threshold(), evaluated, passed,
                count(s, "failed"), count(s, "errors"), rate, rate >= compiled.threshold(), disabled == null ? "ACTIVE" : "DISABLED",
                disabled == null ? null : disabled.getString("reason"), null, since));
          }
          return new QualityRules(out);
        }));
  }

  /** Each quality rule's counts (all nodes, since the rule was last defined), for reports. */
  public static CompletionStage<List<PerformanceReport.QualityCount>> qualityCounts(FunctionStore store, String tenantId) {
    return store.qualityRules(tenantId).thenCombine(store.qualityStats(tenantId), (rules, stats) -> {
      Map<String, Document> statsById = new HashMap<>();
      stats.forEach(s -> statsById.put(s.getString("_id"), s));
      List<PerformanceReport.QualityCount> out = new ArrayList<>();
      for (Document rule : rules) {
        Document s = statsById.getOrDefault(rule.getString("_id") + "@" + rule.getString("generation"), new Document());
        double threshold;
        try {
          threshold = QualityRule.fromMap(FunctionStore.parse(rule.getString("definition"))).threshold();
        } catch (CompileException e) {
          continue;
        }
        out.add(new PerformanceReport.QualityCount(rule.getString("_id"), count(s, "evaluated"), count(s, "passed"), threshold));
      }
      return out;
    });
  }

  private static long count(Document stats, String field) {
    return stats.get(field) instanceof Number n ? n.longValue() : 0;
  }

  public CompletionStage<QualityRules> putQuality(String tenantId, Map<String, Object> body) {
    if (body.size() != 1 || !(body.get("rules") instanceof List<?> list)) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_field", "the body must be {\"rules\": [rule, ...]}", Map.of("field", "rules"));
    }
    List<Map<String, Object>> definitions = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> map)) {
        throw new Refusal(Refusal.Kind.INVALID, "invalid_field", "rules[" + i + "] must be an object", Map.of("field", "rules[" + i + "]"));
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> definition = (Map<String, Object>) map;
      if (!(definition.get("name") instanceof String name)) {
        throw new Refusal(Refusal.Kind.INVALID, "invalid_field", "rules[" + i + "].name is required", Map.of("field", "rules[" + i + "].name"));
      }
      checkName("quality rule", name);
      if (!names.add(name)) {
        throw new Refusal(Refusal.Kind.INVALID, "duplicate_rule", "two rules are named '" + name + "'", Map.of("rule", name));
      }
      definitions.add(definition);
    }
    checkRules(definitions);
    return store.replaceQualityRules(tenantId, definitions).thenCompose(done -> {
      categories.changed(tenantId);
      return quality(tenantId);
    });
  }

  public CompletionStage<QualityRules> putQualityRule(String tenantId, String name, Map<String, Object> body) {
    checkName("quality rule", name);
    Object given = body.get("name");
    if (given != null && !name.equals(given)) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_field", "the body names rule '" + given + "', the path '" + name + "'",
          Map.of("field", "name"));
    }
    Map<String, Object> definition = new LinkedHashMap<>(body);
    definition.put("name", name);
    checkRules(List.of(definition));
    return store.qualityRules(tenantId).thenCompose(rules -> {
      Long order = rules.stream().filter(r -> r.getString("_id").equals(name)).findFirst()
          .map(r -> ((Number) r.get("order")).longValue()).orElse(null);
      return store.putQualityRule(tenantId, definition, order);
    }).thenCompose(done -> {
      categories.changed(tenantId);
      return quality(tenantId);
    });
  }

  public CompletionStage<QualityRules> deleteQualityRule(String tenantId, String name) {
    checkName("quality rule", name);
    return store.deleteQualityRule(tenantId, name).thenCompose(deleted -> {
      if (!deleted) {
        throw new Refusal(Refusal.Kind.NOT_FOUND, "rule_not_found", "there is no quality rule '" + name + "'", Map.of("rule", name));
      }
      categories.changed(tenantId);
      return quality(tenantId);
    });
  }

  private void checkRules(List<Map<String, Object>> definitions) {
    try {
      factory.qualityRules(definitions);
    } catch (CompileException e) {
      throw compileError("invalid_quality_rule", e);
    }
  }

  private static void checkName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new Refusal(Refusal.Kind.INVALID, "invalid_name", "a " + what + " name is " + NAME_RULE);
    }
  }
}
