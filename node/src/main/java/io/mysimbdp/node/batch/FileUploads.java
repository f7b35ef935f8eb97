package io.mysimbdp.node.batch;

import akka.actor.typed.ActorSystem;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.mysimbdp.node.errors.Refusal;
import io.mysimbdp.node.tenant.TenantRepository;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.StagedFile;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stages one uploaded file: takes a file slot, streams the body through the content checks into
 * GridFS chunks, and records the file. Any failure (too large, not what it claims, a dropped
 * connection, the store) removes every chunk written and gives the slot back: nothing of it is
 * kept. While the body streams, the upload is recorded as in progress under a lease
 * ({@link ResumableUploads#beginPlain}): if the node dies mid-body, the upload sweep reclaims its
 * chunks and slot. A file whose content (SHA-256) the tenant already has as a live file is refused
 * ({@link DuplicateFile}) unless the client asked for a copy.
 */
public final class FileUploads {
  private static final Logger log = LoggerFactory.getLogger(FileUploads.class);

  /** What the client says about the file; the name is metadata only, never a path. */
  public record Upload(String name, String category, DataFormat format) {}

  private final ActorSystem<?> system;
  private final StagingStore staging;
  private final TenantRepository tenants;
  private final ResumableUploads inProgress;

  public FileUploads(ActorSystem<?> system, StagingStore staging, TenantRepository tenants, ResumableUploads inProgress) {
    this.system = system;
    this.staging = staging;
    this.tenants = tenants;
    this.inProgress = inProgress;
  }

  /**
   * Stages {@code body}; fails with an {@link Refusal} for anything the tenant may not keep, or
   * {@link DuplicateFile} for content it has already (unless {@code allowDuplicate}).
   */
  public CompletionStage<StagedFile> stage(
      String tenantId, int maxFiles, long maxBytes, Upload upload, Source<ByteString, ?> body, boolean allowDuplicate) {
    return tenants
        .reserveFileSlot(tenantId, maxFiles)
        .thenCompose(
            reserved -> {
              if (!reserved) {
                throw new Refusal(Refusal.Kind.CONFLICT, "too_many_files",
                    "tenant '" + tenantId + "' already has its maximum of " + maxFiles + " files; delete one first");
              }
              String fileId = new ObjectId().toHexString();
              return staging.ensureIndexes(tenantId)
                  .thenCompose(i -> inProgress.beginPlain(tenantId, fileId, upload))
                  .exceptionallyCompose(failure -> tenants.releaseFileSlot(tenantId).handle((r, e) -> {
                    throw new CompletionException(unwrap(failure));
                  }))
                  .thenCompose(lease -> write(tenantId, fileId, maxBytes, upload, body, allowDuplicate, lease));
            });
  }

  private CompletionStage<StagedFile> write(String tenantId, String fileId, long maxBytes, Upload upload, Source<ByteString, ?> body,
      boolean allowDuplicate, ResumableUploads.LeaseKeeper lease) {
    ContentInspector inspector = new ContentInspector(upload.format());
    StagingStore.PendingWrites pending = new StagingStore.PendingWrites();
    UploadLimit limit = new UploadLimit(maxBytes);
    CompletionStage<StagedFile> staged =
        body.map(limit::admit)
            .map(inspector::inspect)
            .via(StagingStore.rechunk(StagingStore.CHUNK_SIZE))
            .via(staging.chunkWriter(tenantId, fileId, 0, pending))
            .toMat(Sink.fold(0L, Long::sum), Keep.right())
            .run(system)
            .thenCompose(
                written -> {
                  limit.check();
                  ContentInspector.Inspection inspection = inspector.finish();
                  Document metadata =
                      new Document("name", upload.name())
                          .append("category", upload.category())
                          .append("format", upload.format().id())
                          .append("sha256", inspection.sha256())
                          .append("state", StagedFileViews.STAGED);
                  if (!allowDuplicate) {
                    metadata.append("dedupSha256", inspection.sha256());
                  }
                  return lease.renew().thenCompose(held -> {
                    if (!held) {
                      throw new LeaseLost();
                    }
                    return staging.putFile(tenantId, fileId, inspection.bytes(), metadata);
                  })
                      .exceptionallyCompose(failure -> !StagingStore.isDuplicateContent(failure)
                          ? CompletableFuture.failedFuture(failure)
                          : staging.findByContent(tenantId, inspection.sha256()).thenApply(existing -> {
                            throw new DuplicateFile(existing.map(f -> f.getString("_id")).orElse("?"));
                          }))
                      .thenCompose(done -> {
                        lease.stop();
                        return inProgress.endPlain(tenantId, fileId);
                      })
                      .thenCompose(done -> staging.findFile(tenantId, fileId))
                      .thenApply(file -> StagedFileViews.toApi(file.orElseThrow()));
                });
    return staged.<CompletionStage<StagedFile>>handle(
            (file, failure) -> {
              lease.stop();
              if (failure == null) {
                return CompletableFuture.completedFuture(file);
              }
              Throwable cause = unwrap(failure);
              if (cause instanceof LeaseLost) {
                // The sweep took the upload (this node stalled past its lease): it removes the rest.
                return CompletableFuture.failedFuture(new Refusal(Refusal.Kind.UNAVAILABLE, "upload_interrupted",
                    "the upload was interrupted on the server; send the file again"));
              }
              // Nothing of a refused or broken upload is kept.
              return pending
                  .settled()
                  .thenCompose(settled -> staging.delete(tenantId, fileId, 0))
                  // The record goes before the slot: a record left behind is the sweep's to free, once.
                  .thenCompose(d -> inProgress.endPlain(tenantId, fileId))
                  .thenCompose(d -> tenants.releaseFileSlot(tenantId))
                  .<StagedFile>handle((ok, cleanupFailure) -> {
                    if (cleanupFailure != null) {
                      // A record left behind: the sweep removes the rest once its lease lapses.
                      log.warn("tenant {}: could not remove the rest of failed upload {}: {}", tenantId, fileId, cleanupFailure.toString());
                    }
                    throw new CompletionException(translate(cause));
                  });
            })
        .thenCompose(stage -> stage);
  }

  /** The upload's lease was taken by the sweep before its file could be recorded. */
  private static final class LeaseLost extends RuntimeException {
    LeaseLost() {
      super("lease lost", null, false, false);
    }
  }

  static Throwable translate(Throwable cause) {
    if (cause instanceof EntityStreamSizeException size) {
      return new Refusal(Refusal.Kind.TOO_LARGE, "file_too_large",
          "the file is larger than the tenant's limit of " + size.limit() + " bytes");
    }
    if (cause instanceof ContentInspector.ContentRejected rejected) {
      Refusal.Kind kind = switch (rejected.code()) {
        case "empty_file", "checksum_mismatch" -> Refusal.Kind.UNPROCESSABLE;
        default -> Refusal.Kind.UNSUPPORTED_MEDIA_TYPE;
      };
      return new Refusal(kind, rejected.code(), rejected.getMessage());
    }
    return cause;
  }

  static Throwable unwrap(Throwable failure) {
    Throwable e = failure;
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
