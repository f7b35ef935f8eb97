package io.mysimbdp.node.ingest;

import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.bson.Document;

/**
 * The tenant's dead-letter store ({@code dead_letters} in the tenant's database): every record that
 * could not be ingested, with where it came from, the stage that failed and why. The rest of its
 * file or stream goes on.
 */
public final class DeadLetters {
  public static final String COLLECTION = "dead_letters";
  /** A dead letter keeps at most this much of the offending input, to stay small. */
  public static final int MAX_RAW_CHARS = 4096;

  /** Where in the pipeline a record failed. */
  public enum Stage {
    PARSE,
    FUNCTION,
    QUALITY,
    WRITE;

    public String id() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One failed record. {@code sourceKind} is {@code file} or {@code message}; {@code sourceId} the
   * file id or message id; {@code position} the record index in the file (or -1); {@code line} the
   * 1-based line where known (or -1).
   */
  public record DeadLetter(
      String id, String sourceKind, String sourceId, String sourceName, long position, long line, Stage stage, String reason, String raw) {}

  private static final InsertManyOptions UNORDERED = new InsertManyOptions().ordered(false);

  private final CoreDms coreDms;

  public DeadLetters(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  /** Stores the dead letters; the same letter stored twice (after a retry) is kept once. */
  public CompletionStage<Void> store(String tenantId, List<DeadLetter> letters) {
    if (letters.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    Date now = Date.from(Instant.now());
    List<Document> docs = letters.stream().map(l -> toDocument(l, now)).toList();
    MongoCollection<Document> collection = coreDms.tenantDatabase(tenantId).getCollection(COLLECTION);
    return coreDms
        .first(collection.insertMany(docs, UNORDERED))
        .<Void>thenApply(r -> null)
        .exceptionally(
            e -> {
              Throwable cause = e.getCause() != null ? e.getCause() : e;
              if (onlyAlreadyStored(cause)) {
                return null;
              }
              throw new java.util.concurrent.CompletionException(cause);
            });
  }

  /**
   * Whether a failed insert failed only because letters were there already (a retry): then every
   * letter is stored. A write-concern error (the store took the letters but could not confirm them
   * as durable) is a failure to retry, as for records ({@link RecordWriter}): a dead letter is the
   * only copy of a rejected record.
   */
  static boolean onlyAlreadyStored(Throwable cause) {
    return cause instanceof com.mongodb.MongoBulkWriteException bulk
        && bulk.getWriteConcernError() == null
        && !bulk.getWriteErrors().isEmpty()
        && bulk.getWriteErrors().stream().allMatch(w -> com.mongodb.ErrorCategory.fromErrorCode(w.getCode()) == com.mongodb.ErrorCategory.DUPLICATE_KEY);
  }

  private static Document toDocument(DeadLetter letter, Date at) {
    String raw = letter.raw() == null ? null : truncate(letter.raw());
    return new Document("_id", letter.id())
        .append("source", new Document("kind", letter.sourceKind()).append("id", letter.sourceId()).append("name", letter.sourceName()))
        .append("position", letter.position())
        .append("line", letter.line())
        .append("stage", letter.stage().id())
        .append("reason", letter.reason())
        .append("raw", raw)
        .append("at", at);
  }

  private static String truncate(String raw) {
    return raw.length() <= MAX_RAW_CHARS ? raw : raw.substring(0, MAX_RAW_CHARS) + "…";
  }
}
