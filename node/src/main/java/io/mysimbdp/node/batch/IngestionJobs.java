package io.mysimbdp.node.batch;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.protocol.IngestionJob;
import io.mysimbdp.protocol.RecordCounts;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;
import org.bson.Document;

/**
 * Batch ingestion jobs and their per-file progress, in the tenant's database:
 * {@code ingestion_jobs} (one document a job: its files and state) and
 * {@code ingestion_progress} (one document per job and file: counts and the checkpoint — how many
 * of the file's records are safely written or dead-lettered). Progress is what a job resumes from
 * after a crash, on whichever node then hosts the tenant.
 */
public final class IngestionJobs {
  public static final String JOBS = "ingestion_jobs";
  public static final String PROGRESS = "ingestion_progress";

  public static final String QUEUED = "queued";
  public static final String RUNNING = "running";
  public static final String SUCCEEDED = "succeeded";
  public static final String FAILED = "failed";

  /** A file of a job, as the job document lists it. */
  public record JobFile(String id, String name, String category, String format, long size) {}

  /** How far one file of a job got. */
  public record Progress(String state, long checkpoint, RecordCounts records, long bytes, String error) {
    public static final Progress PENDING = new Progress("pending", 0, RecordCounts.NONE, 0, null);
  }

  private final CoreDms coreDms;

  public IngestionJobs(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  private MongoCollection<Document> jobs(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(JOBS);
  }

  private MongoCollection<Document> progress(String tenantId) {
    return coreDms.tenantDatabase(tenantId).getCollection(PROGRESS);
  }

  public CompletionStage<Void> create(String tenantId, String jobId, List<JobFile> files) {
    Document job =
        new Document("_id", jobId)
            .append("state", QUEUED)
            .append("createdAt", new Date())
            .append("files", files.stream().map(f -> new Document("id", f.id()).append("name", f.name())
                .append("category", f.category()).append("format", f.format()).append("size", f.size())).toList());
    return coreDms.first(jobs(tenantId).insertOne(job)).thenApply(r -> null);
  }

  /** Jobs not finished yet, oldest first: what a tenant's batch worker runs or resumes. */
  public CompletionStage<List<Document>> unfinished(String tenantId) {
    return coreDms.all(jobs(tenantId).find(Filters.in("state", QUEUED, RUNNING)).sort(Sorts.ascending("createdAt")).limit(1000));
  }

  /** File bytes of the tenant's unfinished jobs not read yet: its batch backlog. */
  public CompletionStage<Long> backlogBytes(String tenantId) {
    return unfinished(tenantId).thenCompose(found -> {
      if (found.isEmpty()) {
        return java.util.concurrent.CompletableFuture.completedFuture(0L);
      }
      long total = 0;
      for (Document job : found) {
        for (Document file : job.getList("files", Document.class, List.of())) {
          total += file.get("size") instanceof Number n ? n.longValue() : 0;
        }
      }
      long size = total;
      List<String> ids = found.stream().map(d -> d.getString("_id")).toList();
      return coreDms.all(progress(tenantId).find(Filters.in("job", ids))).thenApply(progressDocs -> {
        long read = 0;
        for (Document p : progressDocs) {
          read += p.get("bytes") instanceof Number n ? n.longValue() : 0;
        }
        return Math.max(0, size - read);
      });
    });
  }

  /** The tenant's most recent jobs, newest first, with their progress. */
  public CompletionStage<List<IngestionJob>> recent(String tenantId, int limit) {
    return coreDms.all(jobs(tenantId).find().sort(Sorts.descending("createdAt")).limit(limit)).thenCompose(found -> {
      List<String> ids = found.stream().map(d -> d.getString("_id")).toList();
      return coreDms.all(progress(tenantId).find(Filters.in("job", ids))).thenApply(progressDocs -> found.stream()
          .map(job -> toView(job, progressDocs.stream()
              .filter(p -> job.getString("_id").equals(p.getString("job")))
              .collect(Collectors.toMap(p -> p.getString("file"), IngestionJobs::toProgress, (a, b) -> a))))
          .toList());
    });
  }

  public CompletionStage<Optional<Document>> find(String tenantId, String jobId) {
    return coreDms.first(jobs(tenantId).find(Filters.eq("_id", jobId)).first());
  }

  public CompletionStage<Void> setState(String tenantId, String jobId, String state, String error) {
    List<org.bson.conversions.Bson> updates = new ArrayList<>();
    updates.add(Updates.set("state", state));
    if (state.equals(RUNNING)) {
      updates.add(Updates.set("startedAt", new Date()));
    }
    if (state.equals(SUCCEEDED) || state.equals(FAILED)) {
      updates.add(Updates.set("finishedAt", new Date()));
    }
    if (error != null) {
      updates.add(Updates.set("error", error));
    }
    return coreDms.first(jobs(tenantId).updateOne(Filters.eq("_id", jobId), Updates.combine(updates))).thenApply(r -> null);
  }

  /** Marks the job running unless it already is (a resumed job keeps its start time). */
  public CompletionStage<Void> markRunning(String tenantId, String jobId) {
    return coreDms
        .first(jobs(tenantId).updateOne(Filters.and(Filters.eq("_id", jobId), Filters.eq("state", QUEUED)),
            Updates.combine(Updates.set("state", RUNNING), Updates.set("startedAt", new Date()))))
        .thenApply(r -> null);
  }

  public CompletionStage<Progress> progressOf(String tenantId, String jobId, String fileId) {
    return coreDms.first(progress(tenantId).find(Filters.eq("_id", jobId + ":" + fileId)).first())
        .thenApply(d -> d.map(IngestionJobs::toProgress).orElse(Progress.PENDING));
  }

  public CompletionStage<Void> saveProgress(String tenantId, String jobId, String fileId, Progress p) {
    Document doc =
        new Document("_id", jobId + ":" + fileId)
            .append("job", jobId)
            .append("file", fileId)
            .append("state", p.state())
            .append("checkpoint", p.checkpoint())
            .append("records", StagedFileViews.countsDocument(p.records()))
            .append("bytes", p.bytes())
            .append("error", p.error())
            .append("updatedAt", new Date());
    return coreDms
        .first(progress(tenantId).replaceOne(Filters.eq("_id", doc.getString("_id")), doc, new ReplaceOptions().upsert(true)))
        .thenApply(r -> null);
  }

  /** The job as the API shows it, with every file's progress. */
  public CompletionStage<Optional<IngestionJob>> view(String tenantId, String jobId) {
    return find(tenantId, jobId).thenCompose(job -> {
      if (job.isEmpty()) {
        return java.util.concurrent.CompletableFuture.completedFuture(Optional.<IngestionJob>empty());
      }
      return coreDms.all(progress(tenantId).find(Filters.eq("job", jobId)))
          .thenApply(docs -> Optional.of(toView(job.get(), docs.stream()
              .collect(Collectors.toMap(d -> d.getString("file"), IngestionJobs::toProgress, (a, b) -> a)))));
    });
  }

  private static IngestionJob toView(Document job, Map<String, Progress> progressByFile) {
    List<IngestionJob.JobFile> files = new ArrayList<>();
    RecordCounts total = RecordCounts.NONE;
    long bytes = 0;
    for (Document f : job.getList("files", Document.class)) {
      Progress p = progressByFile.getOrDefault(f.getString("id"), Progress.PENDING);
      files.add(new IngestionJob.JobFile(f.getString("id"), f.getString("name"), p.state(), p.records(), p.bytes(), p.error()));
      total = total.plus(p.records());
      bytes += p.bytes();
    }
    Instant created = instant(job, "createdAt");
    Instant started = instant(job, "startedAt");
    Instant finished = instant(job, "finishedAt");
    long elapsed = started == null ? 0 : Duration.between(started, finished != null ? finished : Instant.now()).toMillis();
    double rate = elapsed > 0 ? total.written() * 1000.0 / elapsed : 0;
    return new IngestionJob(job.getString("_id"), job.getString("state"), files, total, bytes, created, started, finished,
        elapsed, Math.round(rate * 10) / 10.0, job.getString("error"));
  }

  private static Instant instant(Document d, String key) {
    Date date = d.getDate(key);
    return date == null ? null : date.toInstant();
  }

  private static Progress toProgress(Document d) {
    return new Progress(
        d.getString("state"),
        ((Number) d.get("checkpoint")).longValue(),
        StagedFileViews.counts(d.get("records", Document.class)),
        d.get("bytes") instanceof Number n ? n.longValue() : 0,
        d.getString("error"));
  }

}
