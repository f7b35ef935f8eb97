package io.mysimbdp.node.batch;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.UpdateResult;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.errors.Refusal;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
  private final UploadRecords records;
  private final UploadSweeper sweeper;

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
    this.records = new UploadRecords(system, coreDms, tenants, expiry);
    this.sweeper = new UploadSweeper(system, coreDms, staging, tenants, records, expiry, lease);
  }

  /** At start-up: the sweep's indexes ({@link UploadRecords#ensureIndexes}). */
  public CompletionStage<Void> ensureIndexes() {
    return records.ensureIndexes();
  }

  /** Sweeps every {@code interval} ({@link UploadSweeper}) until the system stops. */
  public Cancellable sweepEvery(Duration interval) {
    return sweeper.sweepEvery(interval);
  }

  /** One sweep now, over the tenants with records due ({@link UploadSweeper}); answers how many uploads it expired or forgot. */
  public CompletionStage<Integer> sweep() {
    return sweeper.sweep();
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
          .thenCompose(i -> records.ensureSweepIndex(tenantId))
          .thenCompose(i -> coreDms.first(records.uploads(tenantId).insertOne(doc)))
          // After the record: a sweep that read none and removes the tenant's entry meanwhile is
          // followed by this, which puts it back (see nextSweep).
          .thenCompose(i -> records.sweptFrom(tenantId, expires))
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
    return records.ensureSweepIndex(tenantId)
        .thenCompose(i -> coreDms.first(records.uploads(tenantId).insertOne(doc)))
        // The sweep visits only tenants listed as due: this record is, once its lease may lapse.
        .thenCompose(r -> records.sweptFrom(tenantId, until.toInstant()))
        .thenApply(r -> new LeaseKeeper(tenantId, fileId, until, true));
  }

  /** The plain upload is staged (or given up, its chunks removed): its record goes. */
  public CompletionStage<Void> endPlain(String tenantId, String fileId) {
    return coreDms.first(records.uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", fileId), Filters.eq(PLAIN, true))))
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
          : Updates.combine(Updates.set("leaseUntil", renewed), UploadRecords.expiresAt(now.plus(expiry)));
      return coreDms.first(records.uploads(tenantId).updateOne(
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
    return coreDms.first(records.uploads(tenantId).find(UploadRecords.tus(uploadId)).first()).thenApply(d -> d.map(this::statusOf));
  }

  private Status statusOf(Document d) {
    if (d.containsKey("fileId")) {
      // Not offsetOf: completing counts the last, short chunk as a whole one.
      return Status.completed(d.getString("_id"), d.getLong("length"));
    }
    Instant expires = records.expiresOf(d);
    boolean expired = d.containsKey("expired") || !expires.isAfter(Instant.now());
    return new Status(d.getString("_id"), d.getLong("length"), UploadRecords.offsetOf(d), Optional.empty(), Optional.of(expires), expired);
  }

  private static Refusal expiredError(String uploadId) {
    return new Refusal(Refusal.Kind.GONE, "upload_expired", "upload '" + uploadId + "' expired (it was not appended to in time); start a new one");
  }

  /**
   * Appends {@code body} at {@code offset}: 409 when the offset is not the server's (or another
   * PATCH holds the upload), 413 when the body would go past the declared length.
   */
  public CompletionStage<Status> append(String tenantId, String uploadId, long offset, Source<ByteString, ?> body) {
    Instant now = Instant.now();
    return coreDms
        .first(records.uploads(tenantId).findOneAndUpdate(
            Filters.and(UploadRecords.tus(uploadId), Filters.lt("leaseUntil", Date.from(now)), records.openAt(now)),
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
          long serverOffset = UploadRecords.offsetOf(upload);
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
    UploadLimit limit = new UploadLimit(length - UploadRecords.offsetOf(upload));
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
        .thenCompose(put -> coreDms.first(records.uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(Updates.set("fileId", uploadId), Updates.set("nextChunk", nextChunk + (tail.isEmpty() ? 0 : 1)),
                Updates.unset("expiresAt"), records.ended("completedAt")))))
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
          ? Filters.and(UploadRecords.tus(uploadId), Filters.exists("fileId", true))
          : Filters.and(UploadRecords.tus(uploadId), Filters.exists("fileId", false), Filters.exists("expired", false));
      return coreDms.first(records.uploads(tenantId).deleteOne(removable)).thenCompose(deleted -> {
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
   * Records a PATCH's progress and pushes the expiry back; false when the upload was swept in the
   * meantime. The last byte's PATCH keeps its lease while the file is checked ({@code finishing}),
   * so neither another PATCH nor the sweep takes the upload then.
   */
  private CompletionStage<Boolean> saveProgress(
      String tenantId, String uploadId, int nextChunk, ByteString tail, Instant expires, boolean finishing) {
    Date now = new Date();
    return coreDms.first(records.uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(
                Updates.set("nextChunk", nextChunk),
                Updates.set("tail", new Binary(tail.toArray())),
                Updates.set("leaseUntil", finishing ? Date.from(now.toInstant().plus(lease)) : new Date(0)),
                UploadRecords.expiresAt(expires),
                Updates.set("updatedAt", now))))
        .thenApply(r -> r.map(UpdateResult::getMatchedCount).orElse(0L) > 0);
  }

  private CompletionStage<Void> releaseLease(String tenantId, String uploadId) {
    return coreDms.first(records.uploads(tenantId).updateOne(Filters.eq("_id", uploadId), Updates.set("leaseUntil", new Date(0))))
        .thenApply(r -> null);
  }
}
