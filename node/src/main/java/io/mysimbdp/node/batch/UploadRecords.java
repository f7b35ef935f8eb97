package io.mysimbdp.node.batch;

import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.tenant.TenantRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.Binary;

/**
 * Where resumable uploads' records live and the rules on their times, shared by the tus protocol
 * ({@link ResumableUploads}) and the sweep ({@link UploadSweeper}): each tenant's {@value
 * ResumableUploads#COLLECTION} collection, the platform's index of tenants with records due
 * ({@value ResumableUploads#SWEPT_TENANTS}), when an upload expires, when its record is forgotten,
 * and each rule also as a query filter.
 */
final class UploadRecords {
  private static final String PLAIN = ResumableUploads.PLAIN;
  private static final String SWEEP_AT = ResumableUploads.SWEEP_AT;

  private final ActorSystem<?> system;
  private final CoreDms coreDms;
  private final TenantRepository tenants;
  private final Duration expiry;

  UploadRecords(ActorSystem<?> system, CoreDms coreDms, TenantRepository tenants, Duration expiry) {
    this.system = system;
    this.coreDms = coreDms;
    this.tenants = tenants;
    this.expiry = expiry;
  }

  /** Only tus uploads' records, not plain uploads in progress. */
  static Bson tus(String uploadId) {
    return Filters.and(Filters.eq("_id", uploadId), Filters.exists(PLAIN, false));
  }

  MongoCollection<Document> uploads(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(ResumableUploads.COLLECTION);
  }

  /**
   * At start-up: the sweep's index on every tenant's {@code uploads} that exists (a tenant's first
   * upload creates the collection with it). Asking for the names first creates no collection for
   * the tenants that never used resumable uploads.
   */
  CompletionStage<Void> ensureIndexes() {
    // Records written before the tenants' index existed: their tenants are swept at the next sweep.
    return tenants.ids()
        .thenCompose(ids -> Source.from(ids)
            .mapAsync(1, tenantId -> coreDms.all(coreDms.tenantDatabase(tenantId).listCollectionNames())
                .thenCompose(names -> names.contains(ResumableUploads.COLLECTION)
                    ? ensureSweepIndex(tenantId).thenCompose(i -> sweptFrom(tenantId, Instant.EPOCH))
                    : CompletableFuture.completedFuture(null)))
            .runWith(Sink.ignore(), system))
        .thenCompose(done -> coreDms.first(sweptTenants().createIndex(Indexes.ascending(SWEEP_AT), new IndexOptions().name(SWEEP_AT))))
        .thenApply(done -> null);
  }

  MongoCollection<Document> sweptTenants() {
    return coreDms.platformDatabase().getCollection(ResumableUploads.SWEPT_TENANTS);
  }

  /** The tenant has an upload record that may be due at {@code due}: the sweep visits it from then. */
  CompletionStage<Void> sweptFrom(String tenantId, Instant due) {
    return coreDms.first(sweptTenants().updateOne(Filters.eq("_id", tenantId),
            Updates.combine(Updates.min(SWEEP_AT, Date.from(due)), Updates.set("touchedAt", new Date())),
            new com.mongodb.client.model.UpdateOptions().upsert(true)))
        .thenApply(r -> null);
  }

  CompletionStage<Void> ensureSweepIndex(String tenantId) {
    return coreDms.first(uploads(tenantId).createIndex(Indexes.ascending(SWEEP_AT), new IndexOptions().name(SWEEP_AT)))
        .thenApply(name -> null);
  }

  /**
   * When an unfinished upload expires: {@code expiresAt}, or for an upload created before uploads
   * expired (no {@code expiresAt}), one expiry after its last write. Same rule as {@link #expiredBy}.
   */
  Instant expiresOf(Document d) {
    Date expiresAt = d.getDate("expiresAt");
    if (expiresAt != null) {
      return expiresAt.toInstant();
    }
    Date created = d.getDate("createdAt");
    Date updated = d.getDate("updatedAt");
    Date last = updated != null && (created == null || updated.after(created)) ? updated : created;
    return (last == null ? Instant.EPOCH : last.toInstant()).plus(expiry);
  }

  /** The unfinished uploads that have expired by {@code now} (swept or not): {@link #expiresOf} as a filter. */
  Bson expiredBy(Instant now) {
    Date cutoff = Date.from(now.minus(expiry));
    return Filters.and(Filters.exists("fileId", false), Filters.or(
        Filters.exists("expired", true),
        Filters.lte("expiresAt", Date.from(now)),
        Filters.and(Filters.exists("expiresAt", false), Filters.lte("createdAt", cutoff),
            Filters.or(Filters.exists("updatedAt", false), Filters.lte("updatedAt", cutoff)))));
  }

  /** The uploads still open at {@code now}: unfinished and not expired (the complement of {@link #expiredBy}). */
  Bson openAt(Instant now) {
    Date cutoff = Date.from(now.minus(expiry));
    return Filters.and(Filters.exists("fileId", false), Filters.exists("expired", false), Filters.or(
        Filters.gt("expiresAt", Date.from(now)),
        Filters.and(Filters.exists("expiresAt", false), Filters.or(Filters.gt("createdAt", cutoff), Filters.gt("updatedAt", cutoff)))));
  }

  /**
   * When the sweep has work on a record, the value {@code sweepAt} holds: an unfinished upload
   * expires ({@link #expiresOf}); a completed upload's record, or an expired one's tombstone, is
   * forgotten one expiry after it completed or expired. Same rule as {@link #forgottenBy}.
   */
  Instant dueAt(Document d) {
    if (d.containsKey("fileId")) {
      return d.getDate("completedAt").toInstant().plus(expiry);
    }
    if (d.containsKey("expired")) {
      return d.getDate("expiredAt").toInstant().plus(expiry);
    }
    return expiresOf(d);
  }

  /** The completed and expired uploads' records kept long enough by {@code now}: {@link #dueAt} as a filter. */
  Bson forgottenBy(Instant now) {
    Date kept = Date.from(now.minus(expiry));
    return Filters.or(
        Filters.and(Filters.exists("fileId", true), Filters.lte("completedAt", kept)),
        Filters.and(Filters.eq("expired", true), Filters.lte("expiredAt", kept)));
  }

  /**
   * The records the sweep may have work on by {@code now}, all found through the {@value #SWEEP_AT}
   * index: those due, and those without {@code sweepAt} (written before it existed, or by a node
   * that does not write it yet; a non-sparse index holds them under null).
   */
  static Bson dueBy(Instant now) {
    return Filters.or(Filters.lte(SWEEP_AT, Date.from(now)), Filters.eq(SWEEP_AT, null));
  }

  /** {@code expiresAt} moved to {@code expires}, and {@code sweepAt} with it. */
  static Bson expiresAt(Instant expires) {
    return Updates.combine(Updates.set("expiresAt", Date.from(expires)), Updates.set(SWEEP_AT, Date.from(expires)));
  }

  /**
   * A record's end, completed or expired: {@code field} ({@code completedAt} or {@code expiredAt})
   * now and forgotten one expiry later; no tail, no lease.
   */
  Bson ended(String field) {
    Instant now = Instant.now();
    return Updates.combine(Updates.set(field, Date.from(now)), Updates.set(SWEEP_AT, Date.from(now.plus(expiry))),
        Updates.set("tail", new Binary(new byte[0])), Updates.set("leaseUntil", new Date(0)));
  }

  static long offsetOf(Document d) {
    return (long) d.getInteger("nextChunk") * StagingStore.CHUNK_SIZE + d.get("tail", Binary.class).length();
  }
}
