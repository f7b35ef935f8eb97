package io.mysimbdp.node.batch;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.UpdateResult;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.errors.Refusal;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.Binary;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumable uploads (the server side of tus 1.0): each PATCH appends to the upload's GridFS chunks
 * as the bytes arrive; the bytes after the last full chunk are kept with the upload's state, so
 * the server's offset counts every byte it holds, even from a PATCH whose connection dropped. A
 * PATCH holds a short lease, renewed on time while its body streams ({@link LeaseKeeper}), so two
 * PATCHes never write the same upload at once, however slow the client. When the last byte arrives
 * the file is checked (encoding, format, not a duplicate) and becomes a staged file; completing
 * again finds that file.
 *
 * <p>Plain uploads ({@code POST .../files}) are recorded here too while their body streams
 * ({@link #beginPlain}, marked {@value #PLAIN}, invisible to the tus routes), so that the same sweep
 * reclaims the chunks and file slot of one whose node died mid-body.
 *
 * <p>An unfinished upload not appended to for {@code expiry} expires (tus expiration): from then on
 * it is answered 410 Gone and never completed, and {@link #sweep} removes its chunks, gives its file
 * slot back and leaves a tombstone (the upload document with {@code expired}) for one more expiry
 * period, so a client learns why the upload is gone before it becomes a plain 404. A completed
 * upload's record (its staged file is separate and stays) is kept for one expiry after the last
 * byte too, so a client's late HEAD still finds the upload complete; then the sweep removes it.
 *
 * <p>Every record carries {@code sweepAt}, indexed: when the sweep next has work on it (an open
 * upload's {@code expiresAt}; a completed or expired one's end of retention). The sweep asks the
 * index for the records due, never scans the collection. {@code sweepAt} is a hint never later
 * than the truth: the claim and removal conditions are on the fields it is computed from.
 */
public final class ResumableUploads {
  private static final Logger log = LoggerFactory.getLogger(ResumableUploads.class);
  public static final String COLLECTION = "uploads";
  /**
   * The platform database's index of the tenants that have upload records ({@code _id}: tenant,
   * {@code sweepAt}: no record of theirs is due before it, {@code touchedAt}: its last upload's
   * creation): the sweep visits these tenants only, when due, not every tenant.
   */
  public static final String SWEPT_TENANTS = "upload_sweeps";
  /** The indexed field the sweep queries, and its index's name. */
  static final String SWEEP_AT = "sweepAt";
  /** The whole file's SHA-256 the client declared at creation (tus metadata {@code sha256}), checked at completion. */
  private static final String DECLARED_SHA256 = "declaredSha256";
  /** How long a PATCH (or a plain upload) holds its upload without renewing; renewed a third of it apart. */
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
  /** Marks the record of a plain (single-request) upload in progress: not a tus upload. */
  static final String PLAIN = "plain";

  /**
   * An upload's state as the tus routes report it: {@code expires} while it is unfinished and can
   * still expire, {@code expired} once it has (it is then answered 410 Gone).
   */
  public record Status(String id, long length, long offset, Optional<String> fileId, Optional<Instant> expires, boolean expired) {
    static Status open(String id, long length, long offset, Instant expires) {
      return new Status(id, length, offset, Optional.empty(), Optional.of(expires), false);
    }

    static Status completed(String id, long length) {
      return new Status(id, length, length, Optional.of(id), Optional.empty(), false);
    }
  }

  private final ActorSystem<?> system;
  private final CoreDms coreDms;
  private final StagingStore staging;
  private final TenantRepository tenants;
  private final Duration expiry;
  private final Duration lease;
  private final AtomicBoolean sweeping = new AtomicBoolean();

  public ResumableUploads(ActorSystem<?> system, CoreDms coreDms, StagingStore staging, TenantRepository tenants, Duration expiry) {
    this(system, coreDms, staging, tenants, expiry, DEFAULT_LEASE);
  }

  public ResumableUploads(
      ActorSystem<?> system, CoreDms coreDms, StagingStore staging, TenantRepository tenants, Duration expiry, Duration lease) {
    this.system = system;
    this.coreDms = coreDms;
    this.staging = staging;
    this.tenants = tenants;
    this.expiry = expiry;
    this.lease = lease;
  }

  /** Only tus uploads' records, not plain uploads in progress. */
  private static Bson tus(String uploadId) {
    return Filters.and(Filters.eq("_id", uploadId), Filters.exists(PLAIN, false));
  }

  private MongoCollection<Document> uploads(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(COLLECTION);
  }

  /**
   * At start-up: the sweep's index on every tenant's {@code uploads} that exists (a tenant's first
   * upload creates the collection with it). Asking for the names first creates no collection for
   * the tenants that never used resumable uploads.
   */
  public CompletionStage<Void> ensureIndexes() {
    // Records written before the tenants' index existed: their tenants are swept at the next sweep.
    return tenants.ids()
        .thenCompose(ids -> Source.from(ids)
            .mapAsync(1, tenantId -> coreDms.all(coreDms.tenantDatabase(tenantId).listCollectionNames())
                .thenCompose(names -> names.contains(COLLECTION)
                    ? ensureSweepIndex(tenantId).thenCompose(i -> sweptFrom(tenantId, Instant.EPOCH))
                    : CompletableFuture.completedFuture(null)))
            .runWith(Sink.ignore(), system))
        .thenCompose(done -> coreDms.first(sweptTenants().createIndex(Indexes.ascending(SWEEP_AT), new IndexOptions().name(SWEEP_AT))))
        .thenApply(done -> null);
  }

  private MongoCollection<Document> sweptTenants() {
    return coreDms.platformDatabase().getCollection(SWEPT_TENANTS);
  }

  /** The tenant has an upload record that may be due at {@code due}: the sweep visits it from then. */
  private CompletionStage<Void> sweptFrom(String tenantId, Instant due) {
    return coreDms.first(sweptTenants().updateOne(Filters.eq("_id", tenantId),
            Updates.combine(Updates.min(SWEEP_AT, Date.from(due)), Updates.set("touchedAt", new Date())),
            new com.mongodb.client.model.UpdateOptions().upsert(true)))
        .thenApply(r -> null);
  }

  private CompletionStage<Void> ensureSweepIndex(String tenantId) {
    return coreDms.first(uploads(tenantId).createIndex(Indexes.ascending(SWEEP_AT), new IndexOptions().name(SWEEP_AT)))
        .thenApply(name -> null);
  }

  /**
   * Creates an upload of {@code length} bytes, taking a file slot. {@code sha256} (the client's hash
   * of the whole file, or null): a live file with that content refuses the upload at once
   * ({@link DuplicateFile}) unless {@code allowDuplicate}; the content is checked again at completion,
   * where bytes whose hash is not the declared one are refused ({@code checksum_mismatch}) and not kept.
   */
  public CompletionStage<Status> create(
      String tenantId, int maxFiles, long length, FileUploads.Upload upload, String sha256, boolean allowDuplicate) {
    if (length == 0) {
      throw new Refusal(Refusal.Kind.UNPROCESSABLE, "empty_file", "the file is empty");
    }
    CompletionStage<Void> notADuplicate = sha256 == null || allowDuplicate
        ? CompletableFuture.completedFuture(null)
        : staging.findByContent(tenantId, sha256).thenApply(existing -> {
          existing.ifPresent(file -> {
            throw new DuplicateFile(file.getString("_id"));
          });
          return null;
        });
    return notADuplicate.thenCompose(checked -> tenants.reserveFileSlot(tenantId, maxFiles)).thenCompose(reserved -> {
      if (!reserved) {
        throw new Refusal(Refusal.Kind.CONFLICT, "too_many_files",
            "tenant '" + tenantId + "' already has its maximum of " + maxFiles + " files; delete one first");
      }
      String id = new ObjectId().toHexString();
      Instant expires = Instant.now().plus(expiry);
      Document doc = new Document("_id", id)
          .append("length", length)
          .append("nextChunk", 0)
          .append("tail", new Binary(new byte[0]))
          .append("name", upload.name())
          .append("category", upload.category())
          .append("format", upload.format().id())
          .append("createdAt", new Date())
          .append("expiresAt", Date.from(expires))
          .append(SWEEP_AT, Date.from(expires))
          .append("leaseUntil", new Date(0));
      if (allowDuplicate) {
        doc.append("allowDuplicate", true);
      }
      if (sha256 != null) {
        doc.append(DECLARED_SHA256, sha256);
      }
      return staging.ensureIndexes(tenantId)
          .thenCompose(i -> ensureSweepIndex(tenantId))
          .thenCompose(i -> coreDms.first(uploads(tenantId).insertOne(doc)))
          // After the record: a sweep that read none and removes the tenant's entry meanwhile is
          // followed by this, which puts it back (see nextSweep).
          .thenCompose(i -> sweptFrom(tenantId, expires))
          .thenApply(r -> Status.open(id, length, 0, expires))
          .exceptionallyCompose(failure -> giveSlotBack(tenantId, failure));
    });
  }

  /** The slot reserved for an upload that was never recorded goes back, whatever failed. */
  private <T> CompletionStage<T> giveSlotBack(String tenantId, Throwable failure) {
    return tenants.releaseFileSlot(tenantId).handle((released, e) -> {
      if (e != null) {
        log.warn("tenant {}: could not give back the file slot of a failed upload: {}", tenantId, e.toString());
      }
      throw new CompletionException(FileUploads.unwrap(failure));
    });
  }

  /**
   * Records a plain (single-request) upload while its body streams, held by a lease renewed on a
   * timer: if the node dies mid-body, the lease lapses and the sweep removes its chunks and gives its
   * slot back, as for an expired tus upload. tus requests never see this record.
   */
  public CompletionStage<LeaseKeeper> beginPlain(String tenantId, String fileId, FileUploads.Upload upload) {
    Instant now = Instant.now();
    Date until = Date.from(now.plus(lease));
    Document doc = new Document("_id", fileId)
        .append(PLAIN, true)
        .append("length", -1L)
        .append("nextChunk", 0)
        .append("tail", new Binary(new byte[0]))
        .append("name", upload.name())
        .append("category", upload.category())
        .append("format", upload.format().id())
        .append("createdAt", Date.from(now))
        .append("expiresAt", until)
        .append(SWEEP_AT, until)
        .append("leaseUntil", until);
    return ensureSweepIndex(tenantId)
        .thenCompose(i -> coreDms.first(uploads(tenantId).insertOne(doc)))
        // The sweep visits only tenants listed as due: this record is, once its lease may lapse.
        .thenCompose(r -> sweptFrom(tenantId, until.toInstant()))
        .thenApply(r -> new LeaseKeeper(tenantId, fileId, until, true));
  }

  /** The plain upload is staged (or given up, its chunks removed): its record goes. */
  public CompletionStage<Void> endPlain(String tenantId, String fileId) {
    return coreDms.first(uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", fileId), Filters.eq(PLAIN, true))))
        .thenApply(r -> null);
  }

  /**
   * Holds an upload's lease while a request writes it, renewing it on time (a third of the lease
   * apart), not per chunk, so a slow client keeps it. Each renewal is conditional on the lease this
   * holder set last: once the sweep (or anyone) has taken the upload, renewals fail and
   * {@link #renew} answers false.
   */
  public final class LeaseKeeper {
    private final String tenantId;
    private final String uploadId;
    private final boolean plain;
    private volatile Date until;
    private final Cancellable timer;

    LeaseKeeper(String tenantId, String uploadId, Date until, boolean plain) {
      this.tenantId = tenantId;
      this.uploadId = uploadId;
      this.until = until;
      this.plain = plain;
      Duration every = lease.dividedBy(3);
      this.timer = system.scheduler().scheduleWithFixedDelay(every, every, () -> renew(), system.executionContext());
    }

    /** Renews the lease now; false when the upload is no longer this holder's. */
    public CompletionStage<Boolean> renew() {
      Date held = until;
      Instant now = Instant.now();
      Date next = Date.from(now.plus(lease));
      if (!next.after(held)) {
        next = new Date(held.getTime() + 1);
      }
      Date renewed = next;
      // A plain upload expires with its lease (nobody resumes it); a tus upload being written counts as appended to.
      Bson update = plain
          ? Updates.combine(Updates.set("leaseUntil", renewed), Updates.set("expiresAt", renewed), Updates.set(SWEEP_AT, renewed))
          : Updates.combine(Updates.set("leaseUntil", renewed), expiresAt(now.plus(expiry)));
      return coreDms.first(uploads(tenantId).updateOne(
              Filters.and(Filters.eq("_id", uploadId), Filters.eq("leaseUntil", held), Filters.exists("expired", false)), update))
          .thenApply(r -> {
            boolean ours = r.map(UpdateResult::getMatchedCount).orElse(0L) > 0;
            if (ours) {
              until = renewed;
            }
            return ours;
          })
          .exceptionally(e -> {
            log.debug("tenant {}: could not renew the lease of upload {} (retried): {}", tenantId, uploadId, e.toString());
            return until == held && held.after(new Date());
          });
    }

    public void stop() {
      timer.cancel();
    }
  }

  public CompletionStage<Optional<Status>> status(String tenantId, String uploadId) {
    return coreDms.first(uploads(tenantId).find(tus(uploadId)).first()).thenApply(d -> d.map(this::statusOf));
  }

  private Status statusOf(Document d) {
    if (d.containsKey("fileId")) {
      // Not offsetOf: completing counts the last, short chunk as a whole one.
      return Status.completed(d.getString("_id"), d.getLong("length"));
    }
    Instant expires = expiresOf(d);
    boolean expired = d.containsKey("expired") || !expires.isAfter(Instant.now());
    return new Status(d.getString("_id"), d.getLong("length"), offsetOf(d), Optional.empty(), Optional.of(expires), expired);
  }

  /**
   * When an unfinished upload expires: {@code expiresAt}, or for an upload created before uploads
   * expired (no {@code expiresAt}), one expiry after its last write. Same rule as {@link #expiredBy}.
   */
  private Instant expiresOf(Document d) {
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
  private Bson expiredBy(Instant now) {
    Date cutoff = Date.from(now.minus(expiry));
    return Filters.and(Filters.exists("fileId", false), Filters.or(
        Filters.exists("expired", true),
        Filters.lte("expiresAt", Date.from(now)),
        Filters.and(Filters.exists("expiresAt", false), Filters.lte("createdAt", cutoff),
            Filters.or(Filters.exists("updatedAt", false), Filters.lte("updatedAt", cutoff)))));
  }

  /** The uploads still open at {@code now}: unfinished and not expired (the complement of {@link #expiredBy}). */
  private Bson openAt(Instant now) {
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
  private Instant dueAt(Document d) {
    if (d.containsKey("fileId")) {
      return d.getDate("completedAt").toInstant().plus(expiry);
    }
    if (d.containsKey("expired")) {
      return d.getDate("expiredAt").toInstant().plus(expiry);
    }
    return expiresOf(d);
  }

  /** The completed and expired uploads' records kept long enough by {@code now}: {@link #dueAt} as a filter. */
  private Bson forgottenBy(Instant now) {
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
  private static Bson expiresAt(Instant expires) {
    return Updates.combine(Updates.set("expiresAt", Date.from(expires)), Updates.set(SWEEP_AT, Date.from(expires)));
  }

  /**
   * A record's end, completed or expired: {@code field} ({@code completedAt} or {@code expiredAt})
   * now and forgotten one expiry later; no tail, no lease.
   */
  private Bson ended(String field) {
    Instant now = Instant.now();
    return Updates.combine(Updates.set(field, Date.from(now)), Updates.set(SWEEP_AT, Date.from(now.plus(expiry))),
        Updates.set("tail", new Binary(new byte[0])), Updates.set("leaseUntil", new Date(0)));
  }

  private static Refusal expiredError(String uploadId) {
    return new Refusal(Refusal.Kind.GONE, "upload_expired", "upload '" + uploadId + "' expired (it was not appended to in time); start a new one");
  }

  private static long offsetOf(Document d) {
    return (long) d.getInteger("nextChunk") * StagingStore.CHUNK_SIZE + d.get("tail", Binary.class).length();
  }

  /**
   * Appends {@code body} at {@code offset}: 409 when the offset is not the server's (or another
   * PATCH holds the upload), 413 when the body would go past the declared length.
   */
  public CompletionStage<Status> append(String tenantId, String uploadId, long offset, Source<ByteString, ?> body) {
    Instant now = Instant.now();
    return coreDms
        .first(uploads(tenantId).findOneAndUpdate(
            Filters.and(tus(uploadId), Filters.lt("leaseUntil", Date.from(now)), openAt(now)),
            Updates.set("leaseUntil", Date.from(now.plus(lease))),
            new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER)))
        .thenCompose(leased -> {
          if (leased.isEmpty()) {
            return status(tenantId, uploadId).thenApply(existing -> {
              Status s = existing.orElseThrow(() -> new Refusal(Refusal.Kind.NOT_FOUND, "upload_not_found", "there is no upload '" + uploadId + "'"));
              if (s.expired()) {
                throw expiredError(uploadId);
              }
              if (s.fileId().isPresent()) {
                throw new Refusal(Refusal.Kind.CONFLICT, "upload_complete", "upload '" + uploadId + "' is complete", Map.of("offset", s.offset()));
              }
              throw new Refusal(Refusal.Kind.CONFLICT, "upload_busy", "another PATCH is writing upload '" + uploadId + "'; retry after it", Map.of("offset", s.offset()));
            });
          }
          Document upload = leased.get();
          long serverOffset = offsetOf(upload);
          if (offset != serverOffset) {
            return releaseLease(tenantId, uploadId).thenApply(r -> {
              throw new Refusal(Refusal.Kind.CONFLICT, "offset_mismatch",
                  "Upload-Offset is " + offset + " but the server holds " + serverOffset + " bytes; resume from there",
                  Map.of("offset", serverOffset));
            });
          }
          return write(tenantId, upload, new LeaseKeeper(tenantId, uploadId, upload.getDate("leaseUntil"), false), body);
        });
  }

  private CompletionStage<Status> write(String tenantId, Document upload, LeaseKeeper keeper, Source<ByteString, ?> body) {
    String uploadId = upload.getString("_id");
    long length = upload.getLong("length");
    int firstChunk = upload.getInteger("nextChunk");
    ByteString oldTail = ByteString.fromArray(upload.get("tail", Binary.class).getData());
    UploadLimit limit = new UploadLimit(length - offsetOf(upload));
    StagingStore.Chunker chunker = new StagingStore.Chunker(oldTail, StagingStore.CHUNK_SIZE);
    AtomicInteger written = new AtomicInteger();
    StagingStore.PendingWrites pending = new StagingStore.PendingWrites();

    CompletionStage<Void> streamed = body
        .map(limit::admit)
        .mapConcat(chunker::push)
        // One chunk at a time, so the chunks written are always a prefix of the chunks cut.
        .via(Flow.<ByteString>create().zipWithIndex().mapAsync(1, indexed -> pending.track(
            staging.writeChunk(tenantId, uploadId, firstChunk + Math.toIntExact(indexed.second()), indexed.first())
                .thenRun(written::incrementAndGet))))
        .runWith(Sink.ignore(), system)
        .thenRun(limit::check);

    return streamed.handle((ok, failure) -> failure).thenCompose(failure -> pending.settled().thenCompose(settled -> {
      keeper.stop();
      Throwable cause = failure == null ? null : FileUploads.unwrap(failure);
      if (cause instanceof akka.http.scaladsl.model.EntityStreamSizeException) {
        // Longer than declared: nothing of this PATCH is kept (the held tail is still in the state).
        return staging.delete(tenantId, uploadId, firstChunk)
            .thenCompose(d -> releaseLease(tenantId, uploadId))
            .thenApply(d -> {
              throw new Refusal(Refusal.Kind.TOO_LARGE, "upload_too_long", "the upload would be longer than its declared Upload-Length of " + length + " bytes");
            });
      }
      int nextChunk = firstChunk + written.get();
      ByteString tail;
      if (written.get() == chunker.cut()) {
        tail = chunker.remainder();
      } else if (written.get() == 0) {
        tail = oldTail;
      } else {
        // Chunks cut but never written are lost with the connection: the client resends them.
        tail = ByteString.emptyByteString();
      }
      if (cause != null) {
        log.debug("tenant {}: PATCH of upload {} ended early ({}); kept {} bytes", tenantId, uploadId, cause.toString(),
            (long) nextChunk * StagingStore.CHUNK_SIZE + tail.size());
      }
      long offset = (long) nextChunk * StagingStore.CHUNK_SIZE + tail.size();
      Instant expires = Instant.now().plus(expiry);
      return saveProgress(tenantId, uploadId, nextChunk, tail, expires, offset == length).thenCompose(saved -> {
        if (!saved) {
          // Swept while this PATCH stalled past its lease and the expiry: what it wrote since goes too.
          return staging.delete(tenantId, uploadId, 0).thenApply(d -> {
            throw expiredError(uploadId);
          });
        }
        if (offset == length) {
          return complete(tenantId, upload, nextChunk, tail);
        }
        if (cause != null) {
          throw new CompletionException(cause);
        }
        return CompletableFuture.completedFuture(Status.open(uploadId, length, offset, expires));
      });
    }));
  }

  /** The last byte arrived: write the tail, check the whole file, stage it. */
  private CompletionStage<Status> complete(String tenantId, Document upload, int nextChunk, ByteString tail) {
    String uploadId = upload.getString("_id");
    long length = upload.getLong("length");
    DataFormat format = DataFormat.fromId(upload.getString("format")).orElseThrow();
    ContentInspector inspector = new ContentInspector(format);
    CompletionStage<?> lastChunk = tail.isEmpty()
        ? CompletableFuture.completedFuture(null)
        : staging.writeChunk(tenantId, uploadId, nextChunk, tail);
    return lastChunk
        .thenCompose(w -> staging.read(tenantId, uploadId).map(inspector::inspect).runWith(Sink.ignore(), system))
        .thenCompose(read -> {
          ContentInspector.Inspection inspection = inspector.finish();
          String declared = upload.getString(DECLARED_SHA256);
          if (declared != null && !declared.equals(inspection.sha256())) {
            throw ContentInspector.checksumMismatch(declared, inspection);
          }
          Document metadata = new Document("name", upload.getString("name"))
              .append("category", upload.getString("category"))
              .append("format", format.id())
              .append("sha256", inspection.sha256())
              .append("state", StagedFileViews.STAGED)
              .append("upload", uploadId);
          if (!upload.getBoolean("allowDuplicate", false)) {
            metadata.append("dedupSha256", inspection.sha256());
          }
          return putOnce(tenantId, uploadId, inspection, metadata);
        })
        .thenCompose(put -> coreDms.first(uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(Updates.set("fileId", uploadId), Updates.set("nextChunk", nextChunk + (tail.isEmpty() ? 0 : 1)),
                Updates.unset("expiresAt"), ended("completedAt")))))
        .thenCompose(done -> {
          if (done.map(UpdateResult::getMatchedCount).orElse(0L) == 0) {
            // Swept while being checked (the check outlasted the lease and the expiry): never staged.
            return staging.delete(tenantId, uploadId, 0).thenApply(d -> {
              throw expiredError(uploadId);
            });
          }
          return CompletableFuture.completedFuture(Status.completed(uploadId, length));
        })
        .exceptionallyCompose(failure -> {
          Throwable cause = FileUploads.unwrap(failure);
          if (cause instanceof Refusal e && e.kind() == Refusal.Kind.GONE) {
            throw new CompletionException(cause);
          }
          if (cause instanceof ContentInspector.ContentRejected || cause instanceof DuplicateFile) {
            // Not what it claimed, or a file the tenant has already: nothing is kept, and the upload is gone.
            return terminate(tenantId, uploadId).thenApply(t -> {
              throw new CompletionException(FileUploads.translate(cause));
            });
          }
          return releaseLease(tenantId, uploadId).thenApply(r -> {
            throw new CompletionException(cause);
          });
        });
  }

  /**
   * Stages the checked file, once: a completion run again (its first answer lost, or its record not
   * updated) finds the file it staged before and goes on. Another live file with the same content
   * refuses it ({@link DuplicateFile}).
   */
  private CompletionStage<Void> putOnce(String tenantId, String uploadId, ContentInspector.Inspection inspection, Document metadata) {
    return staging.putFile(tenantId, uploadId, inspection.bytes(), metadata).exceptionallyCompose(failure -> {
      if (StagingStore.isDuplicateContent(failure)) {
        return staging.findByContent(tenantId, inspection.sha256()).thenApply(existing -> {
          throw new DuplicateFile(existing.map(f -> f.getString("_id")).orElse("?"));
        });
      }
      return staging.findFile(tenantId, uploadId).thenApply(existing -> {
        if (existing.isPresent() && uploadId.equals(existing.get().get("metadata", Document.class).getString("upload"))) {
          return null;
        }
        throw new CompletionException(FileUploads.unwrap(failure));
      });
    });
  }

  /**
   * Removes an upload (tus termination); a completed upload's staged file stays. An expired one is
   * answered 410: the sweep removes it. The record is removed first, in one conditional delete, and
   * only the request that removed it removes the bytes and gives the slot back: two concurrent
   * terminations free one slot.
   */
  public CompletionStage<Boolean> terminate(String tenantId, String uploadId) {
    return status(tenantId, uploadId).thenCompose(existing -> {
      if (existing.isEmpty()) {
        return CompletableFuture.completedFuture(false);
      }
      if (existing.get().expired()) {
        throw expiredError(uploadId);
      }
      boolean completed = existing.get().fileId().isPresent();
      Bson removable = completed
          ? Filters.and(tus(uploadId), Filters.exists("fileId", true))
          : Filters.and(tus(uploadId), Filters.exists("fileId", false), Filters.exists("expired", false));
      return coreDms.first(uploads(tenantId).deleteOne(removable)).thenCompose(deleted -> {
        if (deleted.map(DeleteResult::getDeletedCount).orElse(0L) == 0) {
          return CompletableFuture.completedFuture(false);
        }
        return completed
            ? CompletableFuture.completedFuture(true)
            : staging.delete(tenantId, uploadId, 0).thenCompose(d -> tenants.releaseFileSlot(tenantId)).thenApply(d -> true);
      });
    });
  }

  /**
   * Sweeps every {@code interval} (the first after a random part of it, so nodes started together do
   * not sweep in step) until the system stops; a sweep still running when the next is due is not
   * doubled.
   */
  public Cancellable sweepEvery(Duration interval) {
    Duration first = Duration.ofMillis(ThreadLocalRandom.current().nextLong(Math.max(1, interval.toMillis())));
    return system.scheduler().scheduleWithFixedDelay(first, interval, () -> {
      if (sweeping.compareAndSet(false, true)) {
        sweep().whenComplete((removed, failure) -> sweeping.set(false));
      }
    }, system.executionContext());
  }

  /**
   * Removes every tenant's expired uploads (their chunks, their file slot) and, one expiry after an
   * upload completed or expired, its record. Answers how many uploads it expired or forgot.
   *
   * <p>Partial uploads live in the shared store (the tenant's database), not on a node, and every
   * node runs this sweep over every tenant. It is safe to run anywhere, concurrently: an upload is
   * claimed by taking its PATCH lease in one conditional update (so no PATCH writes it meanwhile and
   * no other sweep takes it), and the slot is given back only by the sweep whose update turns the
   * upload into a tombstone. A sweep that dies half-way leaves the lease to lapse; the next sweep,
   * on any node, takes the upload again (deleting chunks is idempotent). Nothing here blocks: every
   * step is an asynchronous store call, and there are no files on the node's disk to remove.
   */
  public CompletionStage<Integer> sweep() {
    Instant started = Instant.now();
    // Only the tenants with upload records due (the platform's index of them): an idle tenant, or
    // one whose uploads are not due yet, costs the sweep nothing.
    return coreDms.all(sweptTenants().find(Filters.lte(SWEEP_AT, Date.from(started))).projection(new Document("_id", 1)).limit(100_000))
        .thenApply(docs -> docs.stream().map(d -> d.getString("_id")).toList())
        .thenCompose(ids -> Source.from(ids)
            .mapAsync(1, tenantId -> sweep(tenantId).thenCompose(removed -> nextSweep(tenantId, started).thenApply(ok -> removed))
                .exceptionally(failure -> {
                  log.warn("tenant {}: could not sweep expired uploads (the next sweep retries): {}", tenantId,
                      FileUploads.unwrap(failure).toString());
                  return 0;
                }))
            .runWith(Sink.fold(0, Integer::sum), system))
        .exceptionally(failure -> {
          log.warn("could not list the tenants to sweep expired uploads (the next sweep retries): {}", FileUploads.unwrap(failure).toString());
          return 0;
        });
  }

  /**
   * One tenant: the records {@link #dueBy} finds (the index, not a scan; without the tail, up to a
   * chunk each), one at a time. A record not due after all (no {@code sweepAt} yet, or one a node
   * without it left behind) gets its {@code sweepAt}; a due one is expired or forgotten.
   */
  private CompletionStage<Integer> sweep(String tenantId) {
    Instant now = Instant.now();
    Bson claimable = Filters.and(expiredBy(now), Filters.lt("leaseUntil", Date.from(now)));
    return Source.fromPublisher(uploads(tenantId).find(dueBy(now)).projection(Projections.exclude("tail")))
        .mapAsync(1, record -> {
          String uploadId = record.getString("_id");
          Instant due = dueAt(record);
          if (due.isAfter(now)) {
            return reschedule(tenantId, record, due).thenApply(r -> false);
          }
          return record.containsKey("fileId") || record.containsKey("expired")
              ? forget(tenantId, uploadId, now)
              : expire(tenantId, uploadId, claimable, now);
        })
        .runWith(Sink.fold(0, (sum, one) -> sum + (one ? 1 : 0)), system);
  }

  /**
   * After a tenant's sweep: its entry in the tenants' index moves to its next record due, or goes
   * when it has none left; unless an upload was created within a minute of the sweep's start (its
   * own {@code sweepAt} is in the entry: the tenant is visited again then, and recomputed).
   */
  private CompletionStage<Void> nextSweep(String tenantId, Instant sweepStarted) {
    // A minute's margin for the clocks of the node that created an upload and of this one.
    Bson untouched = Filters.and(Filters.eq("_id", tenantId), Filters.lt("touchedAt", Date.from(sweepStarted.minus(Duration.ofMinutes(1)))));
    return coreDms.first(uploads(tenantId).find().sort(com.mongodb.client.model.Sorts.ascending(SWEEP_AT))
            .projection(new Document(SWEEP_AT, 1)).first())
        .thenCompose(next -> {
          if (next.isEmpty()) {
            return coreDms.first(sweptTenants().deleteOne(untouched)).thenApply(r -> null);
          }
          Date due = next.get().getDate(SWEEP_AT);
          return coreDms.first(sweptTenants().updateOne(untouched, Updates.set(SWEEP_AT, due == null ? new Date(0) : due)))
              .thenApply(r -> null);
        });
  }

  /** Sets a record's {@code sweepAt} to when it is due, unless someone changed it since it was read. */
  private CompletionStage<Void> reschedule(String tenantId, Document record, Instant due) {
    return coreDms.first(uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", record.getString("_id")), Filters.eq(SWEEP_AT, record.getDate(SWEEP_AT))),
            Updates.set(SWEEP_AT, Date.from(due))))
        .thenApply(r -> null);
  }

  /** Removes a completed upload's record or an expired one's tombstone once kept for its retention. */
  private CompletionStage<Boolean> forget(String tenantId, String uploadId, Instant now) {
    return coreDms.first(uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", uploadId), forgottenBy(now))))
        .thenApply(r -> r.map(DeleteResult::getDeletedCount).orElse(0L) > 0);
  }

  /**
   * Claims one expired upload and removes it; false when another sweep or a PATCH has it. An upload
   * whose file was staged after all (its completion ran but its record was not updated; a plain
   * upload's node died after staging it) is kept: its record is marked complete or removed.
   */
  private CompletionStage<Boolean> expire(String tenantId, String uploadId, Bson claimable, Instant now) {
    Date claim = Date.from(now.plus(lease));
    return coreDms
        .first(uploads(tenantId).findOneAndUpdate(
            Filters.and(Filters.eq("_id", uploadId), claimable, Filters.exists("expired", false)),
            Updates.set("leaseUntil", claim)))
        .thenCompose(claimed -> {
          if (claimed.isEmpty()) {
            return CompletableFuture.completedFuture(false);
          }
          Document upload = claimed.get();
          boolean plain = upload.getBoolean(PLAIN, false);
          return staging.findFile(tenantId, uploadId).thenCompose(staged -> {
            if (staged.isPresent()) {
              return keepStaged(tenantId, uploadId, plain, claim).thenApply(k -> false);
            }
            return plain ? expirePlain(tenantId, uploadId, claim) : expireTus(tenantId, uploadId, upload);
          });
        });
  }

  private CompletionStage<Void> keepStaged(String tenantId, String uploadId, boolean plain, Date claim) {
    Bson ours = Filters.and(Filters.eq("_id", uploadId), Filters.eq("leaseUntil", claim));
    CompletionStage<?> done = plain
        ? coreDms.first(uploads(tenantId).deleteOne(ours))
        : coreDms.first(uploads(tenantId).updateOne(ours,
            Updates.combine(Updates.set("fileId", uploadId), Updates.unset("expiresAt"), ended("completedAt"))));
    return done.thenApply(r -> null);
  }

  /** A plain upload whose node died mid-body: its chunks go, its slot comes back, no tombstone (no client asks for it). */
  private CompletionStage<Boolean> expirePlain(String tenantId, String uploadId, Date claim) {
    return staging.delete(tenantId, uploadId, 0)
        .thenCompose(d -> coreDms.first(uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", uploadId), Filters.eq("leaseUntil", claim)))))
        .thenCompose(deleted -> {
          if (deleted.map(DeleteResult::getDeletedCount).orElse(0L) == 0) {
            return CompletableFuture.completedFuture(false);
          }
          log.info("tenant {}: plain upload {} was abandoned mid-body (its node stopped); removed it and gave its file slot back",
              tenantId, uploadId);
          return tenants.releaseFileSlot(tenantId).thenApply(r -> true);
        });
  }

  private CompletionStage<Boolean> expireTus(String tenantId, String uploadId, Document upload) {
    return staging.delete(tenantId, uploadId, 0)
        .thenCompose(d -> coreDms.first(uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(Updates.set("expired", true), Updates.set("nextChunk", 0), ended("expiredAt")))))
        .thenCompose(marked -> {
          if (marked.map(UpdateResult::getModifiedCount).orElse(0L) == 0) {
            return CompletableFuture.completedFuture(false);
          }
          log.info("tenant {}: upload {} expired (not appended to since {}; {} of {} bytes); removed it and gave its file slot back",
              tenantId, uploadId, expiresOf(upload).minus(expiry), offsetOf(upload), upload.getLong("length"));
          return tenants.releaseFileSlot(tenantId).thenApply(r -> true);
        });
  }

  /**
   * Records a PATCH's progress and pushes the expiry back; false when the upload was swept in the
   * meantime. The last byte's PATCH keeps its lease while the file is checked ({@code finishing}),
   * so neither another PATCH nor the sweep takes the upload then.
   */
  private CompletionStage<Boolean> saveProgress(
      String tenantId, String uploadId, int nextChunk, ByteString tail, Instant expires, boolean finishing) {
    Date now = new Date();
    return coreDms.first(uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(
                Updates.set("nextChunk", nextChunk),
                Updates.set("tail", new Binary(tail.toArray())),
                Updates.set("leaseUntil", finishing ? Date.from(now.toInstant().plus(lease)) : new Date(0)),
                expiresAt(expires),
                Updates.set("updatedAt", now))))
        .thenApply(r -> r.map(UpdateResult::getMatchedCount).orElse(0L) > 0);
  }

  private CompletionStage<Void> releaseLease(String tenantId, String uploadId) {
    return coreDms.first(uploads(tenantId).updateOne(Filters.eq("_id", uploadId), Updates.set("leaseUntil", new Date(0))))
        .thenApply(r -> null);
  }
}
