package io.mysimbdp.node.tenant;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.NodeSettings;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.protocol.CreatedTenant;
import io.mysimbdp.protocol.Tenant;
import io.mysimbdp.protocol.TenantConstraints;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.bson.Document;

/**
 * Tenant profiles, key hashes and constraints, in the platform database's {@code tenants}
 * collection. Every method is non-blocking.
 */
public final class TenantRepository {
  public static final String COLLECTION = "tenants";

  /** The outcome of creating a tenant. */
  public sealed interface CreateResult {}

  public record Created(CreatedTenant tenant) implements CreateResult {}

  public record AlreadyExists(String id) implements CreateResult {}

  private final CoreDms coreDms;
  private final NodeSettings settings;
  private final MongoCollection<Document> tenants;

  public TenantRepository(CoreDms coreDms, NodeSettings settings) {
    this.coreDms = coreDms;
    this.settings = settings;
    this.tenants = coreDms.platformDatabase().getCollection(COLLECTION);
  }

  public CompletionStage<Void> ensureIndexes() {
    return coreDms
        .first(tenants.createIndex(Indexes.ascending("apiKeyHash"), new IndexOptions().unique(true).name("apiKeyHash")))
        .thenCompose(name -> coreDms.first(tenants.createIndex(Indexes.ascending("createdAt"), new IndexOptions().name("createdAt"))))
        .thenApply(name -> null);
  }

  /** Creates the tenant with the default constraints; the id must be valid already. */
  public CompletionStage<CreateResult> create(String id) {
    String apiKey = ApiKeys.generate();
    Instant createdAt = Instant.now();
    Tenant tenant = new Tenant(id, createdAt, settings.tenantDatabase(id), settings.defaultConstraints());
    Document doc =
        new Document("_id", id)
            .append("createdAt", Date.from(createdAt))
            .append("database", tenant.database())
            .append("apiKeyHash", ApiKeys.hash(apiKey))
            .append("constraints", toDocument(tenant.constraints()))
            .append("fileCount", 0);
    return coreDms
        .first(tenants.insertOne(doc))
        .<CreateResult>thenApply(inserted -> new Created(new CreatedTenant(tenant, apiKey)))
        .exceptionally(
            e -> {
              if (isDuplicateKey(e)) {
                return new AlreadyExists(id);
              }
              throw new CompletionException(unwrap(e));
            });
  }

  public CompletionStage<Optional<Tenant>> find(String id) {
    return coreDms.first(tenants.find(Filters.eq("_id", id)).first()).thenApply(d -> d.map(this::toTenant));
  }

  public CompletionStage<List<Tenant>> list(int limit) {
    return coreDms
        .all(tenants.find().sort(Sorts.ascending("_id")).limit(limit))
        .thenApply(docs -> docs.stream().map(this::toTenant).toList());
  }

  /** Every tenant's id. */
  public CompletionStage<List<String>> ids() {
    return coreDms
        .all(tenants.find().projection(new Document("_id", 1)))
        .thenApply(docs -> docs.stream().map(d -> d.getString("_id")).toList());
  }

  /** The ids of the tenants created at or after {@code since} (null: every tenant's). */
  public CompletionStage<List<String>> idsCreatedSince(Instant since) {
    if (since == null) {
      return ids();
    }
    return coreDms
        .all(tenants.find(Filters.gte("createdAt", Date.from(since))).projection(new Document("_id", 1)))
        .thenApply(docs -> docs.stream().map(d -> d.getString("_id")).toList());
  }

  /** The tenant id that the key belongs to. */
  public CompletionStage<Optional<String>> tenantForKey(String apiKey) {
    return coreDms
        .first(tenants.find(Filters.eq("apiKeyHash", ApiKeys.hash(apiKey))).projection(new Document("_id", 1)).first())
        .thenApply(d -> d.map(doc -> doc.getString("_id")));
  }

  /** Replaces the tenant's constraints (already merged with defaults and valid). */
  public CompletionStage<Optional<Tenant>> updateConstraints(String id, TenantConstraints constraints) {
    return coreDms
        .first(
            tenants.findOneAndUpdate(
                Filters.eq("_id", id),
                Updates.set("constraints", toDocument(constraints)),
                new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER)))
        .thenApply(d -> d.map(this::toTenant));
  }

  /**
   * Takes one of the tenant's file slots if fewer than {@code maxFiles} are taken: one atomic
   * update, so two uploads racing for the last slot cannot both win.
   */
  public CompletionStage<Boolean> reserveFileSlot(String id, int maxFiles) {
    return coreDms
        .first(
            tenants.updateOne(
                Filters.and(
                    Filters.eq("_id", id),
                    Filters.or(Filters.exists("fileCount", false), Filters.lt("fileCount", maxFiles))),
                Updates.inc("fileCount", 1)))
        .thenApply(r -> r.isPresent() && r.get().getModifiedCount() == 1);
  }

  /** Gives back a file slot (an upload that failed, a deleted file). */
  public CompletionStage<Void> releaseFileSlot(String id) {
    return coreDms
        .first(tenants.updateOne(Filters.and(Filters.eq("_id", id), Filters.gt("fileCount", 0)), Updates.inc("fileCount", -1)))
        .thenApply(r -> null);
  }

  /** How many file slots the tenant uses. */
  public CompletionStage<Integer> fileCount(String id) {
    return coreDms
        .first(tenants.find(Filters.eq("_id", id)).projection(new Document("fileCount", 1)).first())
        .thenApply(d -> d.map(doc -> doc.get("fileCount") instanceof Number n ? n.intValue() : 0).orElse(0));
  }

  /** Issues a new key; the old one stops working at once. Empty when there is no such tenant. */
  public CompletionStage<Optional<String>> rotateKey(String id) {
    String apiKey = ApiKeys.generate();
    return coreDms
        .first(tenants.updateOne(Filters.eq("_id", id), Updates.set("apiKeyHash", ApiKeys.hash(apiKey))))
        .thenApply(r -> r.isPresent() && r.get().getMatchedCount() == 1 ? Optional.of(apiKey) : Optional.empty());
  }

  private Tenant toTenant(Document doc) {
    Document c = doc.get("constraints", Document.class);
    TenantConstraints constraints =
        c == null
            ? settings.defaultConstraints()
            : new TenantConstraints(
                    c.getInteger("maxFiles"), toLong(c.get("maxFileSizeMegabytes")), c.getList("formats", String.class))
                .withDefaults(settings.defaultConstraints());
    return new Tenant(
        doc.getString("_id"),
        doc.getDate("createdAt").toInstant(),
        doc.getString("database"),
        constraints);
  }

  private static Long toLong(Object value) {
    return value instanceof Number n ? n.longValue() : null;
  }

  private static Document toDocument(TenantConstraints c) {
    return new Document("maxFiles", c.maxFiles())
        .append("maxFileSizeMegabytes", c.maxFileSizeMegabytes())
        .append("formats", c.formats());
  }

  private static boolean isDuplicateKey(Throwable e) {
    return unwrap(e) instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
  }

  private static Throwable unwrap(Throwable e) {
    return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
  }
}
