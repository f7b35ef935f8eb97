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
 * connection) removes every chunk written and gives the slot back: nothing of it is kept.
 */
public final class FileUploads {
  private static final Logger log = LoggerFactory.getLogger(FileUploads.class);

  /** What the client says about the file; the name is metadata only, never a path. */
  public record Upload(String name, String category, DataFormat format) {}

  private final ActorSystem<?> system;
  private final StagingStore staging;
  private final TenantRepository tenants;

  public FileUploads(ActorSystem<?> system, StagingStore staging, TenantRepository tenants) {
    this.system = system;
    this.staging = staging;
    this.tenants = tenants;
  }

  /** Stages {@code body}; fails with an {@link Refusal} for anything the tenant may not keep. */
  public CompletionStage<StagedFile> stage(
      String tenantId, int maxFiles, long maxBytes, Upload upload, Source<ByteString, ?> body) {
    return tenants
        .reserveFileSlot(tenantId, maxFiles)
        .thenCompose(
            reserved -> {
              if (!reserved) {
                throw new Refusal(Refusal.Kind.CONFLICT, "too_many_files",
                    "tenant '" + tenantId + "' already has its maximum of " + maxFiles + " files; delete one first");
              }
              return staging.ensureIndexes(tenantId).thenCompose(i -> write(tenantId, maxBytes, upload, body));
            });
  }

  private CompletionStage<StagedFile> write(String tenantId, long maxBytes, Upload upload, Source<ByteString, ?> body) {
    String fileId = new ObjectId().toHexString();
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
                  return staging
                      .putFile(tenantId, fileId, inspection.bytes(), metadata)
                      .thenCompose(done -> staging.findFile(tenantId, fileId))
                      .thenApply(file -> StagedFileViews.toApi(file.orElseThrow()));
                });
    return staged.<CompletionStage<StagedFile>>handle(
            (file, failure) -> {
              if (failure == null) {
                return CompletableFuture.completedFuture(file);
              }
              Throwable cause = unwrap(failure);
              // Nothing of a refused or broken upload is kept.
              return pending
                  .settled()
                  .thenCompose(settled -> staging.delete(tenantId, fileId, 0))
                  .thenCompose(d -> tenants.releaseFileSlot(tenantId))
                  .<StagedFile>handle((ok, cleanupFailure) -> {
                    if (cleanupFailure != null) {
                      log.warn("tenant {}: could not remove the rest of failed upload {}: {}", tenantId, fileId, cleanupFailure.toString());
                    }
                    throw new CompletionException(translate(cause));
                  });
            })
        .thenCompose(stage -> stage);
  }

  static Throwable translate(Throwable cause) {
    if (cause instanceof EntityStreamSizeException size) {
      return new Refusal(Refusal.Kind.TOO_LARGE, "file_too_large",
          "the file is larger than the tenant's limit of " + size.limit() + " bytes");
    }
    if (cause instanceof ContentInspector.ContentRejected rejected) {
      Refusal.Kind kind = rejected.code().equals("empty_file") ? Refusal.Kind.UNPROCESSABLE : Refusal.Kind.UNSUPPORTED_MEDIA_TYPE;
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
