package io.mysimbdp.node.pipeline;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.client.model.InsertManyOptions;
import io.mysimbdp.node.coredms.CoreDms;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.bson.Document;

/**
 * Bulk, unordered, idempotent writes of a tenant's records. Every record carries a deterministic
 * {@code _id} (file id + record index + output index, or tenant + message id), so writing a batch
 * again after a crash or a redelivery stores nothing twice: duplicates are counted, not failed.
 */
public final class RecordWriter {

  /** What happened to one batch. */
  public record Outcome(int inserted, int alreadyStored, List<Rejected> rejected) {
    public int stored() {
      return inserted + alreadyStored;
    }
  }

  /** A record the store refused for a reason other than being there already. */
  public record Rejected(int index, String reason) {}

  private static final InsertManyOptions UNORDERED = new InsertManyOptions().ordered(false);

  private final CoreDms coreDms;

  public RecordWriter(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  /** Writes {@code documents} (each with its {@code _id}) to the tenant's {@code collection}. */
  public CompletionStage<Outcome> write(String tenantId, String collection, List<Document> documents) {
    if (documents.isEmpty()) {
      return java.util.concurrent.CompletableFuture.completedFuture(new Outcome(0, 0, List.of()));
    }
    return coreDms
        .first(coreDms.tenantDatabase(tenantId).getCollection(collection).insertMany(documents, UNORDERED))
        .thenApply(result -> new Outcome(documents.size(), 0, List.of()))
        .exceptionally(failure -> outcomeOf(failure, documents.size()));
  }

  private static Outcome outcomeOf(Throwable failure, int size) {
    Throwable e = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (!(e instanceof MongoBulkWriteException bulk)) {
      // The store itself failed (unreachable, timed out): the caller retries the whole batch.
      throw new CompletionException(e);
    }
    int duplicates = 0;
    List<Rejected> rejected = new ArrayList<>();
    for (BulkWriteError error : bulk.getWriteErrors()) {
      if (ErrorCategory.fromErrorCode(error.getCode()) == ErrorCategory.DUPLICATE_KEY) {
        duplicates++;
      } else {
        rejected.add(new Rejected(error.getIndex(), error.getMessage()));
      }
    }
    if (bulk.getWriteConcernError() != null) {
      throw new CompletionException(e);
    }
    return new Outcome(size - duplicates - rejected.size(), duplicates, rejected);
  }
}
