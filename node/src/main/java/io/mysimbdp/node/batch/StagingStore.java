package io.mysimbdp.node.batch;

import akka.NotUsed;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import akka.japi.Pair;
import akka.stream.OverflowStrategy;
import akka.util.ByteStringBuilder;
import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.mysimbdp.node.coredms.CoreDms;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * Staging for a tenant's uploaded files, readable from every node: a GridFS bucket named
 * {@value #BUCKET} in the tenant's database ({@code staging.files} + {@code staging.chunks}, the
 * layout every MongoDB driver and {@code mongofiles} read). Bytes are written as fixed-size chunks
 * while they stream in, never held whole; chunk writes are idempotent (unique {@code files_id, n}).
 * The files document carries the platform's metadata (name, category, format, state, counts).
 */
public final class StagingStore {
  public static final String BUCKET = "staging";
  public static final int CHUNK_SIZE = 512 * 1024;
  /** Chunks read ahead of the parser: bounds the memory one file's ingestion holds. */
  private static final int READ_AHEAD = 4;
  private static final int WRITE_PARALLELISM = 2;

  private final CoreDms coreDms;

  public StagingStore(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  public MongoCollection<Document> files(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(BUCKET + ".files");
  }

  public MongoCollection<Document> chunks(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(BUCKET + ".chunks");
  }

  public CompletionStage<Void> ensureIndexes(String tenantId) {
    MongoDatabase db = coreDms.tenantDatabase(tenantId);
    return coreDms
        .first(db.getCollection(BUCKET + ".chunks").createIndex(
            Indexes.ascending("files_id", "n"), new IndexOptions().unique(true).name("files_id_1_n_1")))
        .thenCompose(i -> coreDms.first(db.getCollection(BUCKET + ".files").createIndex(
            Indexes.ascending("filename", "uploadDate"), new IndexOptions().name("filename_1_uploadDate_1"))))
        .thenCompose(i -> coreDms.first(db.getCollection(BUCKET + ".files").createIndex(
            Indexes.ascending(DEDUP_FIELD), new IndexOptions().unique(true).sparse(true).name(DEDUP_INDEX))))
        .thenApply(i -> null);
  }

  /**
   * The file's SHA-256 under {@code metadata}, set on every file not kept as a deliberate copy: a
   * sparse unique index on it lets one live file per content and tenant exist, so two uploads of the
   * same bytes racing each other cannot both be staged. Copies ({@code duplicate=allow}) leave it out.
   */
  public static final String DEDUP_FIELD = "metadata.dedupSha256";
  static final String DEDUP_INDEX = "metadata.dedupSha256_1";

  /** The live file (not a copy) whose content has this SHA-256 (lower-case hex), if any. */
  public CompletionStage<Optional<Document>> findByContent(String tenantId, String sha256) {
    return coreDms.first(files(tenantId).find(Filters.eq(DEDUP_FIELD, sha256)).first());
  }

  /** Whether {@code failure} is the store refusing a second live file with the same content. */
  public static boolean isDuplicateContent(Throwable failure) {
    Throwable e = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    return e instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY
        && w.getError().getMessage() != null && w.getError().getMessage().contains("dedupSha256");
  }

  /**
   * Cuts a byte stream into chunks of exactly {@code chunkSize}; the last one, flushed when the
   * stream completes, may be shorter.
   */
  public static Flow<ByteString, ByteString, NotUsed> rechunk(int chunkSize) {
    ByteString endOfStream = ByteString.emptyByteString();
    return Flow.<ByteString>create()
        .filter(bytes -> !bytes.isEmpty())
        .concat(Source.single(endOfStream))
        .statefulMapConcat(
            () -> {
              Chunker chunker = new Chunker(ByteString.emptyByteString(), chunkSize);
              return bytes -> {
                if (bytes.isEmpty()) {
                  ByteString last = chunker.remainder();
                  return last.isEmpty() ? List.of() : List.of(last.compact());
                }
                return chunker.push(bytes);
              };
            });
  }

  /** Cuts bytes into full chunks as they come, holding the bytes of the chunk not yet full. */
  public static final class Chunker {
    private final int chunkSize;
    private final ByteStringBuilder pending = new ByteStringBuilder();
    private int cut;

    public Chunker(ByteString start, int chunkSize) {
      this.chunkSize = chunkSize;
      pending.append(start);
    }

    /** The chunks these bytes completed (often none). */
    public List<ByteString> push(ByteString bytes) {
      pending.append(bytes);
      if (pending.length() < chunkSize) {
        return List.of();
      }
      ByteString all = pending.result();
      pending.clear();
      List<ByteString> full = new ArrayList<>();
      int offset = 0;
      while (all.size() - offset >= chunkSize) {
        full.add(all.slice(offset, offset + chunkSize).compact());
        offset += chunkSize;
      }
      pending.append(all.drop(offset));
      cut += full.size();
      return full;
    }

    /** How many full chunks were cut. */
    public int cut() {
      return cut;
    }

    /** The bytes after the last full chunk. */
    public ByteString remainder() {
      return pending.result();
    }
  }

  /** Writes chunk {@code n} of {@code fileId}; writing the same chunk again replaces it. */
  public CompletionStage<Void> writeChunk(String tenantId, String fileId, int n, ByteString data) {
    Document chunk = chunkKey(fileId, n).append("data", new Binary(data.toArrayUnsafe()));
    // A plain insert is the fast path; only a chunk written before (a retried write) is replaced.
    return coreDms
        .first(chunks(tenantId).insertOne(chunk))
        .<CompletionStage<Void>>handle((inserted, failure) -> {
          if (failure == null) {
            return CompletableFuture.completedFuture(null);
          }
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
          if (cause instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY) {
            // A fresh document: the driver gave the inserted one an _id, which a replacement may not change.
            Document replacement = chunkKey(fileId, n).append("data", new Binary(data.toArrayUnsafe()));
            return coreDms.first(chunks(tenantId).replaceOne(chunkKey(fileId, n), replacement)).thenApply(r -> null);
          }
          return CompletableFuture.failedFuture(cause);
        })
        .thenCompose(done -> done);
  }

  /**
   * The exact key of one chunk, matching the unique index {@code files_id, n} in full, so that
   * every store (the embedded one too) finds the chunk through the index, not by a scan.
   */
  private static Document chunkKey(String fileId, int n) {
    return new Document("files_id", fileId).append("n", n);
  }

  /**
   * Writes a stream of chunks (from {@link #rechunk}) as chunks {@code firstN, firstN+1, ...} and
   * answers how many bytes each wrote. Writes run ahead by at most {@value #WRITE_PARALLELISM};
   * each one is registered in {@code pending} until it completes, so that a caller cleaning up a
   * failed upload can wait for writes still in flight when the stream failed.
   */
  public Flow<ByteString, Long, NotUsed> chunkWriter(String tenantId, String fileId, int firstN, PendingWrites pending) {
    return Flow.<ByteString>create()
        .zipWithIndex()
        .mapAsync(
            WRITE_PARALLELISM,
            indexed ->
                pending.track(writeChunk(tenantId, fileId, firstN + Math.toIntExact(indexed.second()), indexed.first()))
                    .thenApply(done -> (long) indexed.first().size()));
  }

  /** Writes started and not yet finished. */
  public static final class PendingWrites {
    private final java.util.Set<java.util.concurrent.CompletableFuture<Void>> running =
        java.util.concurrent.ConcurrentHashMap.newKeySet();

    <T> CompletionStage<T> track(CompletionStage<T> write) {
      java.util.concurrent.CompletableFuture<Void> done = write.<Void>handle((r, e) -> null).toCompletableFuture();
      running.add(done);
      done.thenRun(() -> running.remove(done));
      return write;
    }

    /** Completes when every write started so far has finished, however it ended. */
    public CompletionStage<Void> settled() {
      return java.util.concurrent.CompletableFuture.allOf(running.toArray(java.util.concurrent.CompletableFuture[]::new));
    }
  }

  /**
   * The file's bytes, in order: chunk by chunk through the index, a few chunks ahead of the
   * consumer, so a file of any size is read in bounded memory.
   */
  public Source<ByteString, NotUsed> read(String tenantId, String fileId) {
    MongoCollection<Document> chunks = chunks(tenantId);
    return Source.unfoldAsync(
            0,
            n -> coreDms
                .first(chunks.find(chunkKey(fileId, n)).first())
                .thenApply(chunk -> chunk.map(c -> Pair.create(n + 1, ByteString.fromArrayUnsafe(c.get("data", Binary.class).getData())))))
        .buffer(READ_AHEAD, OverflowStrategy.backpressure())
        .async();
  }

  /** Records the finished file: its GridFS files document with the platform's metadata. */
  public CompletionStage<Void> putFile(String tenantId, String fileId, long length, Document metadata) {
    Document file =
        new Document("_id", fileId)
            .append("length", length)
            .append("chunkSize", CHUNK_SIZE)
            .append("uploadDate", new Date())
            .append("filename", metadata.getString("name"))
            .append("metadata", metadata);
    return coreDms.first(files(tenantId).insertOne(file)).thenApply(r -> null);
  }

  public CompletionStage<Optional<Document>> findFile(String tenantId, String fileId) {
    return coreDms.first(files(tenantId).find(Filters.eq("_id", fileId)).first());
  }

  public CompletionStage<List<Document>> listFiles(String tenantId, int limit) {
    return coreDms.all(files(tenantId).find().sort(Sorts.ascending("uploadDate")).limit(limit));
  }

  public CompletionStage<Void> setMetadata(String tenantId, String fileId, Document fields) {
    List<org.bson.conversions.Bson> sets = new ArrayList<>();
    fields.forEach((k, v) -> sets.add(Updates.set("metadata." + k, v)));
    return coreDms
        .first(files(tenantId).updateOne(Filters.eq("_id", fileId), Updates.combine(sets)))
        .thenApply(r -> null);
  }

  /** Files a job may not take or a DELETE may not remove: already in a job. */
  private static final List<String> IN_A_JOB = List.of(StagedFileViews.QUEUED, StagedFileViews.INGESTING);

  /** What {@link #deleteUnlessInAJob} did. */
  public enum Deletion {
    DELETED,
    NOT_FOUND,
    IN_USE
  }

  /**
   * Deletes a file unless a job holds it, in one conditional delete of its files document: of two
   * concurrent DELETEs only one answers {@link Deletion#DELETED} (and gives the file slot back), and
   * a file queued or being ingested is never removed under its job.
   */
  public CompletionStage<Deletion> deleteUnlessInAJob(String tenantId, String fileId) {
    return coreDms
        .first(files(tenantId).deleteOne(Filters.and(Filters.eq("_id", fileId), Filters.nin("metadata.state", IN_A_JOB))))
        .thenCompose(deleted -> {
          if (deleted.map(r -> r.getDeletedCount()).orElse(0L) > 0) {
            return delete(tenantId, fileId, 0).thenApply(d -> Deletion.DELETED);
          }
          return findFile(tenantId, fileId).thenApply(file -> file.isPresent() ? Deletion.IN_USE : Deletion.NOT_FOUND);
        });
  }

  /**
   * Claims a file for job {@code jobId} ({@code queued}), unless another job holds it: one
   * conditional update, so a file is never in two jobs at once nor deleted while queued.
   */
  public CompletionStage<Boolean> claimForJob(String tenantId, String fileId, String jobId) {
    return coreDms
        .first(files(tenantId).updateOne(
            Filters.and(Filters.eq("_id", fileId), Filters.nin("metadata.state", IN_A_JOB)),
            Updates.combine(Updates.set("metadata.state", StagedFileViews.QUEUED), Updates.set("metadata.job", jobId),
                Updates.set("metadata.claimedAt", new Date()))))
        .thenApply(r -> r.map(u -> u.getModifiedCount()).orElse(0L) > 0);
  }

  /** Gives a file claimed by {@code jobId} back ({@code staged}) when the job could not be created. */
  public CompletionStage<Void> unclaim(String tenantId, String fileId, String jobId) {
    return coreDms
        .first(files(tenantId).updateOne(
            Filters.and(Filters.eq("_id", fileId), Filters.eq("metadata.job", jobId), Filters.eq("metadata.state", StagedFileViews.QUEUED)),
            Updates.set("metadata.state", StagedFileViews.STAGED)))
        .thenApply(r -> null);
  }

  /** Frees a file still marked as held by {@code jobId}, a job no longer unfinished; true when it did. */
  public CompletionStage<Boolean> releaseOrphan(String tenantId, String fileId, String jobId) {
    return coreDms
        .first(files(tenantId).updateOne(
            Filters.and(Filters.eq("_id", fileId), Filters.eq("metadata.job", jobId), Filters.in("metadata.state", IN_A_JOB)),
            Updates.set("metadata.state", StagedFileViews.STAGED)))
        .thenApply(r -> r.map(u -> u.getModifiedCount()).orElse(0L) > 0);
  }

  /** Deletes the file's chunks from {@code fromN} on (all of them for 0) and, for 0, its files document. */
  public CompletionStage<Void> delete(String tenantId, String fileId, int fromN) {
    CompletionStage<?> chunksGone =
        coreDms.first(chunks(tenantId).deleteMany(Filters.and(Filters.eq("files_id", fileId), Filters.gte("n", fromN))));
    if (fromN > 0) {
      return chunksGone.thenApply(r -> null);
    }
    return chunksGone
        .thenCompose(r -> coreDms.first(files(tenantId).deleteOne(Filters.eq("_id", fileId))))
        .thenApply(r -> null);
  }

}
