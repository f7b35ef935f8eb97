package io.mysimbdp.node.batch;

import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.http.ApiException;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.bson.types.Binary;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumable uploads (the server side of tus 1.0): each PATCH appends to the upload's GridFS chunks
 * as the bytes arrive; the bytes after the last full chunk are kept with the upload's state, so
 * the server's offset counts every byte it holds, even from a PATCH whose connection dropped. A
 * PATCH holds a short lease, so two PATCHes never write the same upload at once. When the last
 * byte arrives the file is checked (encoding, format) and becomes a staged file.
 */
public final class ResumableUploads {
  private static final Logger log = LoggerFactory.getLogger(ResumableUploads.class);
  public static final String COLLECTION = "uploads";
  private static final Duration LEASE = Duration.ofSeconds(30);

  /** An upload's state as the tus routes report it. */
  public record Status(String id, long length, long offset, Optional<String> fileId) {}

  private final ActorSystem<?> system;
  private final CoreDms coreDms;
  private final StagingStore staging;
  private final TenantRepository tenants;

  public ResumableUploads(ActorSystem<?> system, CoreDms coreDms, StagingStore staging, TenantRepository tenants) {
    this.system = system;
    this.coreDms = coreDms;
    this.staging = staging;
    this.tenants = tenants;
  }

  private MongoCollection<Document> uploads(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(COLLECTION);
  }

  /** Creates an upload of {@code length} bytes, taking a file slot. */
  public CompletionStage<Status> create(String tenantId, int maxFiles, long length, FileUploads.Upload upload) {
    if (length == 0) {
      throw new ApiException(422, "empty_file", "the file is empty");
    }
    return tenants.reserveFileSlot(tenantId, maxFiles).thenCompose(reserved -> {
      if (!reserved) {
        throw new ApiException(409, "too_many_files",
            "tenant '" + tenantId + "' already has its maximum of " + maxFiles + " files; delete one first");
      }
      String id = new ObjectId().toHexString();
      Document doc = new Document("_id", id)
          .append("length", length)
          .append("nextChunk", 0)
          .append("tail", new Binary(new byte[0]))
          .append("name", upload.name())
          .append("category", upload.category())
          .append("format", upload.format().id())
          .append("createdAt", new Date())
          .append("leaseUntil", new Date(0));
      return staging.ensureIndexes(tenantId)
          .thenCompose(i -> coreDms.first(uploads(tenantId).insertOne(doc)))
          .thenApply(r -> new Status(id, length, 0, Optional.empty()));
    });
  }

  public CompletionStage<Optional<Status>> status(String tenantId, String uploadId) {
    return coreDms.first(uploads(tenantId).find(Filters.eq("_id", uploadId)).first()).thenApply(d -> d.map(ResumableUploads::statusOf));
  }

  private static Status statusOf(Document d) {
    return new Status(d.getString("_id"), d.getLong("length"), offsetOf(d), Optional.ofNullable(d.getString("fileId")));
  }

  private static long offsetOf(Document d) {
    return (long) d.getInteger("nextChunk") * StagingStore.CHUNK_SIZE + d.get("tail", Binary.class).length();
  }

  /**
   * Appends {@code body} at {@code offset}: 409 when the offset is not the server's (or another
   * PATCH holds the upload), 413 when the body would go past the declared length.
   */
  public CompletionStage<Status> append(String tenantId, String uploadId, long offset, Source<ByteString, ?> body) {
    Date now = new Date();
    return coreDms
        .first(uploads(tenantId).findOneAndUpdate(
            Filters.and(Filters.eq("_id", uploadId), Filters.lt("leaseUntil", now), Filters.exists("fileId", false)),
            Updates.set("leaseUntil", Date.from(now.toInstant().plus(LEASE))),
            new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER)))
        .thenCompose(leased -> {
          if (leased.isEmpty()) {
            return status(tenantId, uploadId).thenApply(existing -> {
              Status s = existing.orElseThrow(() -> new ApiException(404, "upload_not_found", "there is no upload '" + uploadId + "'"));
              if (s.fileId().isPresent()) {
                throw new ApiException(409, "upload_complete", "upload '" + uploadId + "' is complete", Map.of("offset", s.offset()));
              }
              throw new ApiException(409, "upload_busy", "another PATCH is writing upload '" + uploadId + "'; retry after it", Map.of("offset", s.offset()));
            });
          }
          Document upload = leased.get();
          long serverOffset = offsetOf(upload);
          if (offset != serverOffset) {
            return releaseLease(tenantId, uploadId).thenApply(r -> {
              throw new ApiException(409, "offset_mismatch",
                  "Upload-Offset is " + offset + " but the server holds " + serverOffset + " bytes; resume from there",
                  Map.of("offset", serverOffset));
            });
          }
          return write(tenantId, upload, body);
        });
  }

  private CompletionStage<Status> write(String tenantId, Document upload, Source<ByteString, ?> body) {
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
                .thenCompose(done -> {
                  written.incrementAndGet();
                  return renewLease(tenantId, uploadId);
                }))))
        .runWith(Sink.ignore(), system)
        .thenRun(limit::check);

    return streamed.handle((ok, failure) -> failure).thenCompose(failure -> pending.settled().thenCompose(settled -> {
      Throwable cause = failure == null ? null : FileUploads.unwrap(failure);
      if (cause instanceof akka.http.scaladsl.model.EntityStreamSizeException) {
        // Longer than declared: nothing of this PATCH is kept (the held tail is still in the state).
        return staging.delete(tenantId, uploadId, firstChunk)
            .thenCompose(d -> releaseLease(tenantId, uploadId))
            .thenApply(d -> {
              throw new ApiException(413, "upload_too_long", "the upload would be longer than its declared Upload-Length of " + length + " bytes");
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
      return saveProgress(tenantId, uploadId, nextChunk, tail).thenCompose(saved -> {
        long offset = (long) nextChunk * StagingStore.CHUNK_SIZE + tail.size();
        if (offset == length) {
          return complete(tenantId, upload, nextChunk, tail);
        }
        if (cause != null) {
          throw new CompletionException(cause);
        }
        return CompletableFuture.completedFuture(new Status(uploadId, length, offset, Optional.empty()));
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
          Document metadata = new Document("name", upload.getString("name"))
              .append("category", upload.getString("category"))
              .append("format", format.id())
              .append("sha256", inspection.sha256())
              .append("state", StagedFileViews.STAGED)
              .append("upload", uploadId);
          return staging.putFile(tenantId, uploadId, inspection.bytes(), metadata);
        })
        .thenCompose(put -> coreDms.first(uploads(tenantId).updateOne(Filters.eq("_id", uploadId),
            Updates.combine(Updates.set("fileId", uploadId), Updates.set("tail", new Binary(new byte[0])),
                Updates.set("nextChunk", nextChunk + (tail.isEmpty() ? 0 : 1)), Updates.set("completedAt", new Date())))))
        .thenApply(done -> new Status(uploadId, length, length, Optional.of(uploadId)))
        .exceptionallyCompose(failure -> {
          Throwable cause = FileUploads.unwrap(failure);
          if (cause instanceof ContentInspector.ContentRejected) {
            // Not what it claimed: nothing is kept, and the upload is gone.
            return terminate(tenantId, uploadId).thenApply(t -> {
              throw new CompletionException(FileUploads.translate(cause));
            });
          }
          return releaseLease(tenantId, uploadId).thenApply(r -> {
            throw new CompletionException(cause);
          });
        });
  }

  /** Removes an upload (tus termination); a completed upload's staged file stays. */
  public CompletionStage<Boolean> terminate(String tenantId, String uploadId) {
    return status(tenantId, uploadId).thenCompose(existing -> {
      if (existing.isEmpty()) {
        return CompletableFuture.completedFuture(false);
      }
      CompletionStage<Void> files = existing.get().fileId().isPresent()
          ? CompletableFuture.completedFuture(null)
          : staging.delete(tenantId, uploadId, 0).thenCompose(d -> tenants.releaseFileSlot(tenantId));
      return files.thenCompose(d -> coreDms.first(uploads(tenantId).deleteOne(Filters.eq("_id", uploadId)))).thenApply(r -> true);
    });
  }

  private CompletionStage<Void> saveProgress(String tenantId, String uploadId, int nextChunk, ByteString tail) {
    return coreDms.first(uploads(tenantId).updateOne(Filters.eq("_id", uploadId), Updates.combine(
            Updates.set("nextChunk", nextChunk),
            Updates.set("tail", new Binary(tail.toArray())),
            Updates.set("leaseUntil", new Date(0)),
            Updates.set("updatedAt", new Date()))))
        .thenApply(r -> null);
  }

  private CompletionStage<Void> renewLease(String tenantId, String uploadId) {
    return coreDms.first(uploads(tenantId).updateOne(Filters.eq("_id", uploadId),
            Updates.set("leaseUntil", Date.from(Instant.now().plus(LEASE)))))
        .thenApply(r -> null);
  }

  private CompletionStage<Void> releaseLease(String tenantId, String uploadId) {
    return coreDms.first(uploads(tenantId).updateOne(Filters.eq("_id", uploadId), Updates.set("leaseUntil", new Date(0))))
        .thenApply(r -> null);
  }
}
