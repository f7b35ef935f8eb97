package io.mysimbdp.node.functions;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.protocol.ProtocolJson;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Where a tenant's functions, category mappings and quality rules live: collections of the tenant's
 * own database. Specs and rule definitions are kept as JSON text (their config keys may contain dots,
 * which MongoDB field names should not).
 *
 * <pre>
 * functions         {_id: name, latest: n, active: n, revision, resets, disabled?: {version, reason, since}, createdAt, updatedAt}
 * function_versions {_id: "name@n", name, version: n, createdAt, spec: "&lt;FunctionSpec JSON&gt;"}
 * categories        {_id: category, function, collection, updatedAt}
 * quality_rules     {_id: rule name, definition: "&lt;JSON&gt;", generation, order, updatedAt}
 * quality_stats     {_id: "rule@generation", rule, evaluated, passed, failed, errors, disabled?: {reason, at}}
 * </pre>
 *
 * {@code revision} changes with every change of a function (upload, roll-back, reset, disable), so
 * nodes caching the compiled function can tell cheaply whether theirs is current; {@code resets}
 * counts re-enables (a node resets its guard when it sees a new value).
 */
public final class FunctionStore {
  public static final String FUNCTIONS = "functions";
  public static final String VERSIONS = "function_versions";
  public static final String CATEGORIES = "categories";
  public static final String QUALITY_RULES = "quality_rules";
  public static final String QUALITY_STATS = "quality_stats";
  /** The collections above: never targets of a category, never readable as data. */
  public static final List<String> COLLECTIONS = List.of(FUNCTIONS, VERSIONS, CATEGORIES, QUALITY_RULES, QUALITY_STATS);

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final CoreDms coreDms;

  public FunctionStore(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  private MongoCollection<Document> collection(String tenantId, String name) {
    return coreDms.tenantDatabase(tenantId).getCollection(name);
  }

  // ---- functions

  public CompletionStage<Optional<Document>> function(String tenantId, String name) {
    return coreDms.first(collection(tenantId, FUNCTIONS).find(Filters.eq("_id", name)).first());
  }

  public CompletionStage<List<Document>> functions(String tenantId) {
    return coreDms.all(collection(tenantId, FUNCTIONS).find().sort(Sorts.ascending("_id")).limit(10_000));
  }

  public CompletionStage<Optional<Document>> version(String tenantId, String name, long version) {
    return coreDms.first(collection(tenantId, VERSIONS).find(Filters.eq("_id", name + "@" + version)).first());
  }

  public CompletionStage<List<Document>> versions(String tenantId, String name) {
    return coreDms.all(collection(tenantId, VERSIONS).find(Filters.eq("name", name)).sort(Sorts.ascending("version")));
  }

  /** Stores a new version of {@code name} and makes it the active one; answers its number. */
  public CompletionStage<Long> addVersion(String tenantId, String name, Map<String, ?> spec) {
    Date now = new Date();
    return coreDms
        .first(collection(tenantId, FUNCTIONS).findOneAndUpdate(
            Filters.eq("_id", name),
            Updates.combine(Updates.inc("latest", 1L), Updates.setOnInsert("createdAt", now)),
            new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER)))
        .thenCompose(doc -> {
          long version = ((Number) doc.orElseThrow().get("latest")).longValue();
          Document versionDoc = new Document("_id", name + "@" + version)
              .append("name", name)
              .append("version", version)
              .append("createdAt", now)
              .append("spec", json(spec));
          return coreDms.first(collection(tenantId, VERSIONS).insertOne(versionDoc))
              .thenCompose(inserted -> activate(tenantId, name, version))
              .thenApply(done -> version);
        });
  }

  /** Makes {@code version} the active one (and enabled: a new active version starts ACTIVE). */
  public CompletionStage<Boolean> activate(String tenantId, String name, long version) {
    return update(tenantId, name, Updates.combine(
        Updates.set("active", version), Updates.unset("disabled"), Updates.inc("resets", 1L)));
  }

  /** Re-enables a disabled function. */
  public CompletionStage<Boolean> reset(String tenantId, String name) {
    return update(tenantId, name, Updates.combine(Updates.unset("disabled"), Updates.inc("resets", 1L)));
  }

  /** Records that {@code version} was disabled (only if it is still the active one). */
  public CompletionStage<Boolean> disabled(String tenantId, String name, long version, String reason) {
    Document disabled = new Document("version", version).append("reason", reason).append("since", new Date());
    return coreDms
        .first(collection(tenantId, FUNCTIONS).updateOne(
            Filters.and(Filters.eq("_id", name), Filters.eq("active", version)),
            Updates.combine(Updates.set("disabled", disabled), Updates.inc("revision", 1L), Updates.set("updatedAt", new Date()))))
        .thenApply(r -> r.map(u -> u.getMatchedCount() > 0).orElse(false));
  }

  private CompletionStage<Boolean> update(String tenantId, String name, Bson change) {
    return coreDms
        .first(collection(tenantId, FUNCTIONS).updateOne(
            Filters.eq("_id", name),
            Updates.combine(change, Updates.inc("revision", 1L), Updates.set("updatedAt", new Date()))))
        .thenApply(r -> r.map(u -> u.getMatchedCount() > 0).orElse(false));
  }

  /** Deletes a function and all its versions; answers whether it existed. */
  public CompletionStage<Boolean> deleteFunction(String tenantId, String name) {
    return coreDms.first(collection(tenantId, FUNCTIONS).deleteOne(Filters.eq("_id", name)))
        .thenCompose(deleted -> coreDms.first(collection(tenantId, VERSIONS).deleteMany(Filters.eq("name", name)))
            .thenApply(v -> deleted.map(d -> d.getDeletedCount() > 0).orElse(false)));
  }

  // ---- categories

  public CompletionStage<List<Document>> categories(String tenantId) {
    return coreDms.all(collection(tenantId, CATEGORIES).find().sort(Sorts.ascending("_id")).limit(10_000));
  }

  public CompletionStage<Void> putCategory(String tenantId, String category, String function, String targetCollection) {
    return putCategory(tenantId, category, function, targetCollection, null);
  }

  /** With the category's typed CSV values ({@code types}: "infer" or column → type; null for text). */
  public CompletionStage<Void> putCategory(String tenantId, String category, String function, String targetCollection, Object types) {
    Document mapping = new Document("_id", category).append("function", function).append("collection", targetCollection);
    if (types != null) {
      mapping.append("types", types);
    }
    return coreDms
        .first(collection(tenantId, CATEGORIES).replaceOne(
            Filters.eq("_id", category),
            mapping.append("updatedAt", new Date()),
            new com.mongodb.client.model.ReplaceOptions().upsert(true)))
        .thenApply(r -> null);
  }

  public CompletionStage<Boolean> deleteCategory(String tenantId, String category) {
    return coreDms.first(collection(tenantId, CATEGORIES).deleteOne(Filters.eq("_id", category)))
        .thenApply(r -> r.map(d -> d.getDeletedCount() > 0).orElse(false));
  }

  // ---- quality rules and their counts

  public CompletionStage<List<Document>> qualityRules(String tenantId) {
    return coreDms.all(collection(tenantId, QUALITY_RULES).find().sort(Sorts.ascending("order")).limit(1_000));
  }

  /** Replaces every rule (new generations: their counts start at zero). */
  public CompletionStage<Void> replaceQualityRules(String tenantId, List<Map<String, Object>> definitions) {
    long base = System.currentTimeMillis() * 1000;
    List<Document> docs = new java.util.ArrayList<>();
    for (int i = 0; i < definitions.size(); i++) {
      docs.add(ruleDocument(definitions.get(i), base + i));
    }
    return coreDms.first(collection(tenantId, QUALITY_RULES).deleteMany(new Document()))
        .thenCompose(d -> docs.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : coreDms.first(collection(tenantId, QUALITY_RULES).insertMany(docs)).thenApply(r -> null));
  }

  /** Adds or replaces one rule (a new generation: its counts start at zero; its place is kept). */
  public CompletionStage<Void> putQualityRule(String tenantId, Map<String, Object> definition, Long keepOrder) {
    Document doc = ruleDocument(definition, keepOrder != null ? keepOrder : System.currentTimeMillis() * 1000);
    return coreDms
        .first(collection(tenantId, QUALITY_RULES).replaceOne(
            Filters.eq("_id", doc.getString("_id")), doc, new com.mongodb.client.model.ReplaceOptions().upsert(true)))
        .thenApply(r -> null);
  }

  public CompletionStage<Boolean> deleteQualityRule(String tenantId, String name) {
    return coreDms.first(collection(tenantId, QUALITY_RULES).deleteOne(Filters.eq("_id", name)))
        .thenApply(r -> r.map(d -> d.getDeletedCount() > 0).orElse(false));
  }

  private static Document ruleDocument(Map<String, Object> definition, long order) {
    return new Document("_id", String.valueOf(definition.get("name")))
        .append("definition", json(definition))
        .append("generation", new org.bson.types.ObjectId().toHexString())
        .append("order", order)
        .append("updatedAt", new Date());
  }

  public CompletionStage<List<Document>> qualityStats(String tenantId) {
    return coreDms.all(collection(tenantId, QUALITY_STATS).find().limit(10_000));
  }

  /** Adds counts to a rule generation's persisted totals ($inc: exact with any number of nodes). */
  public CompletionStage<Void> addQualityCounts(String tenantId, String statsId, String rule, long evaluated, long passed,
      long failed, long errors) {
    return coreDms
        .first(collection(tenantId, QUALITY_STATS).updateOne(
            Filters.eq("_id", statsId),
            Updates.combine(
                Updates.set("rule", rule),
                Updates.inc("evaluated", evaluated),
                Updates.inc("passed", passed),
                Updates.inc("failed", failed),
                Updates.inc("errors", errors)),
            new UpdateOptions().upsert(true)))
        .thenApply(r -> null);
  }

  /** Records that a node disabled a rule generation for repeated bound violations. */
  public CompletionStage<Void> qualityRuleDisabled(String tenantId, String statsId, String rule, String reason) {
    return coreDms
        .first(collection(tenantId, QUALITY_STATS).updateOne(
            Filters.eq("_id", statsId),
            Updates.combine(Updates.set("rule", rule), Updates.set("disabled", new Document("reason", reason).append("at", new Date()))),
            new UpdateOptions().upsert(true)))
        .thenApply(r -> null);
  }

  // ---- JSON text

  public static String json(Map<String, ?> value) {
    try {
      return ProtocolJson.JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not serialisable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  public static Map<String, Object> parse(String json) {
    try {
      return ProtocolJson.JSON.readValue(json, MAP);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON does not parse: " + e.getOriginalMessage(), e);
    }
  }

  static Instant instant(Object date) {
    return date instanceof Date d ? d.toInstant() : null;
  }
}
