package io.mysimbdp.node.batch;

import akka.actor.Cancellable;
import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.UpdateResult;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.tenant.TenantRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sweep of resumable uploads: expired uploads lose their chunks and give their file slot back
 * (a tombstone stays one more expiry), completed and expired records are forgotten one expiry
 * later. It visits only the tenants the platform's index has due, and their due records through
 * the {@value ResumableUploads#SWEEP_AT} index.
 */
final class UploadSweeper {
  private static final Logger log = LoggerFactory.getLogger(UploadSweeper.class);
  private static final String PLAIN = ResumableUploads.PLAIN;
  private static final String SWEEP_AT = ResumableUploads.SWEEP_AT;

  private final ActorSystem<?> system;
  private final CoreDms coreDms;
  private final StagingStore staging;
  private final TenantRepository tenants;
  private final UploadRecords records;
  private final Duration expiry;
  private final Duration lease;
  private final AtomicBoolean sweeping = new AtomicBoolean();

  UploadSweeper(
      ActorSystem<?> system, CoreDms coreDms, StagingStore staging, TenantRepository tenants, UploadRecords records, Duration expiry, Duration lease) {
    this.system = system;
    this.coreDms = coreDms;
    this.staging = staging;
    this.tenants = tenants;
    this.records = records;
    this.expiry = expiry;
    this.lease = lease;
  }

  /**
   * Sweeps every {@code interval} (the first after a random part of it, so nodes started together do
   * not sweep in step) until the system stops; a sweep still running when the next is due is not
   * doubled.
   */
  Cancellable sweepEvery(Duration interval) {
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
  CompletionStage<Integer> sweep() {
    Instant started = Instant.now();
    // Only the tenants with upload records due (the platform's index of them): an idle tenant, or
    // one whose uploads are not due yet, costs the sweep nothing.
    return coreDms.all(records.sweptTenants().find(Filters.lte(SWEEP_AT, Date.from(started))).projection(new Document("_id", 1)).limit(100_000))
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
    Bson claimable = Filters.and(records.expiredBy(now), Filters.lt("leaseUntil", Date.from(now)));
    return Source.fromPublisher(records.uploads(tenantId).find(UploadRecords.dueBy(now)).projection(Projections.exclude("tail")))
        .mapAsync(1, record -> {
          String uploadId = record.getString("_id");
          Instant due = records.dueAt(record);
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
    return coreDms.first(records.uploads(tenantId).find().sort(com.mongodb.client.model.Sorts.ascending(SWEEP_AT))
            .projection(new Document(SWEEP_AT, 1)).first())
        .thenCompose(next -> {
          if (next.isEmpty()) {
            return coreDms.first(records.sweptTenants().deleteOne(untouched)).thenApply(r -> null);
          }
          Date due = next.get().getDate(SWEEP_AT);
          return coreDms.first(records.sweptTenants().updateOne(untouched, Updates.set(SWEEP_AT, due == null ? new Date(0) : due)))
              .thenApply(r -> null);
        });
  }

  /** Sets a record's {@code sweepAt} to when it is due, unless someone changed it since it was read. */
  private CompletionStage<Void> reschedule(String tenantId, Document record, Instant due) {
    return coreDms.first(records.uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", record.getString("_id")), Filters.eq(SWEEP_AT, record.getDate(SWEEP_AT))),
            Updates.set(SWEEP_AT, Date.from(due))))
        .thenApply(r -> null);
  }

  /** Removes a completed upload's record or an expired one's tombstone once kept for its retention. */
  private CompletionStage<Boolean> forget(String tenantId, String uploadId, Instant now) {
    return coreDms.first(records.uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", uploadId), records.forgottenBy(now))))
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
        .first(records.uploads(tenantId).findOneAndUpdate(
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
        ? coreDms.first(records.uploads(tenantId).deleteOne(ours))
        : coreDms.first(records.uploads(tenantId).updateOne(ours,
            Updates.combine(Updates.set("fileId", uploadId), Updates.unset("expiresAt"), records.ended("completedAt"))));
    return done.thenApply(r -> null);
  }

  /** A plain upload whose node died mid-body: its chunks go, its slot comes back, no tombstone (no client asks for it). */
  private CompletionStage<Boolean> expirePlain(String tenantId, String uploadId, Date claim) {
    return staging.delete(tenantId, uploadId, 0)
        .thenCompose(d -> coreDms.first(records.uploads(tenantId).deleteOne(Filters.and(Filters.eq("_id", uploadId), Filters.eq("leaseUntil", claim)))))
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
        .thenCompose(d -> coreDms.first(records.uploads(tenantId).updateOne(
            Filters.and(Filters.eq("_id", uploadId), Filters.exists("expired", false)),
            Updates.combine(Updates.set("expired", true), Updates.set("nextChunk", 0), records.ended("expiredAt")))))
        .thenCompose(marked -> {
          if (marked.map(UpdateResult::getModifiedCount).orElse(0L) == 0) {
            return CompletableFuture.completedFuture(false);
          }
          log.info("tenant {}: upload {} expired (not appended to since {}; {} of {} bytes); removed it and gave its file slot back",
              tenantId, uploadId, records.expiresOf(upload).minus(expiry), UploadRecords.offsetOf(upload), upload.getLong("length"));
          return tenants.releaseFileSlot(tenantId).thenApply(r -> true);
        });
  }
}
