package io.mysimbdp.node.pipeline;

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
  /**
   * A dead letter of stage {@code function} keeps the whole failed record (as JSON in {@code record})
   * up to this many bytes, so that it can be replayed once the function is fixed; a larger one keeps
   * only its {@code raw} excerpt and is not replayable.
   */
  public static final int MAX_RECORD_BYTES = 64 * 1024;

  /** Where in the pipeline a record failed. */
  public enum Stage {
    PARSE,
    /** A CSV cell that does not fit the type its category asks for its column (see {@code batch.parse.CsvTypes}). */
    TYPE,
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
   * 1-based line where known (or -1). {@code category} and {@code record} (the whole record as the
   * function received it, as JSON) are kept where the record can be replayed (stage function), else null.
   */
  public record DeadLetter(
      String id, String sourceKind, String sourceId, String sourceName, long position, long line, Stage stage, String reason, String raw,
      String category, String record) {
    public DeadLetter(
        String id, String sourceKind, String sourceId, String sourceName, long position, long line, Stage stage, String reason, String raw) {
      this(id, sourceKind, sourceId, sourceName, position, line, stage, reason, raw, null, null);
    }
  }

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
    Document doc = new Document("_id", letter.id())
        .append("source", new Document("kind", letter.sourceKind()).append("id", letter.sourceId()).append("name", letter.sourceName()))
        .append("position", letter.position())
        .append("line", letter.line())
        .append("stage", letter.stage().id())
        .append("reason", letter.reason())
        .append("raw", raw)
        .append("at", at);
    if (letter.category() != null) {
      doc.append("category", letter.category());
    }
    if (letter.record() != null && utf8Length(letter.record()) <= MAX_RECORD_BYTES) {
      doc.append("record", letter.record());
    }
    return doc;
  }

  /** A record as {@link DeadLetter#record()} keeps it (null if it cannot be written as JSON). */
  public static String recordJson(java.util.Map<String, Object> record) {
    try {
      return io.mysimbdp.protocol.ProtocolJson.JSON.writeValueAsString(record);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return null;
    }
  }

  private static long utf8Length(String text) {
    return text.length() * 3L <= MAX_RECORD_BYTES ? text.length() : text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  private static String truncate(String raw) {
    return raw.length() <= MAX_RAW_CHARS ? raw : raw.substring(0, MAX_RAW_CHARS) + "…";
  }
}
