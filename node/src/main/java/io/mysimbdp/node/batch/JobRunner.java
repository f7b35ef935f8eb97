package io.mysimbdp.node.batch;

import io.mysimbdp.node.batch.IngestionJobs.JobFile;
import io.mysimbdp.node.batch.IngestionJobs.Progress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job: its files one after the other, each from its checkpoint; files already finished
 * (a resumed job) are skipped. {@link #interrupt} stops at once after checkpointing, leaving the
 * job {@code running} for whichever node hosts the tenant next.
 */
final class JobRunner {
  private static final Logger log = LoggerFactory.getLogger(JobRunner.class);

  enum Outcome {
    FINISHED,
    INTERRUPTED
  }

  private final String tenantId;
  private final Document job;
  private final IngestionJobs jobs;
  private final StagingStore staging;
  private final FileIngestion ingestion;
  private volatile boolean interrupted;
  private volatile FileIngestion.Run current;

  private final io.mysimbdp.node.report.TenantMeter meter;

  JobRunner(String tenantId, Document job, IngestionJobs jobs, StagingStore staging, FileIngestion ingestion, io.mysimbdp.node.report.TenantMeter meter) {
    this.tenantId = tenantId;
    this.meter = meter;
    this.job = job;
    this.jobs = jobs;
    this.staging = staging;
    this.ingestion = ingestion;
  }

  String jobId() {
    return job.getString("_id");
  }

  void interrupt() {
    interrupted = true;
    FileIngestion.Run run = current;
    if (run != null) {
      run.interrupt();
    }
  }

  CompletionStage<Outcome> run() {
    List<JobFile> files = job.getList("files", Document.class).stream()
        .map(f -> new JobFile(f.getString("id"), f.getString("name"), f.getString("category"), f.getString("format"),
            ((Number) f.get("size")).longValue()))
        .toList();
    return jobs.markRunning(tenantId, jobId()).thenCompose(running -> runFrom(files, 0, false));
  }

  private CompletionStage<Outcome> runFrom(List<JobFile> files, int i, boolean anyFailed) {
    if (interrupted) {
      return CompletableFuture.completedFuture(Outcome.INTERRUPTED);
    }
    if (i == files.size()) {
      String state = anyFailed ? IngestionJobs.FAILED : IngestionJobs.SUCCEEDED;
      String error = anyFailed ? "one or more files could not be ingested; see the files' errors" : null;
      return jobs.setState(tenantId, jobId(), state, error).thenApply(done -> Outcome.FINISHED);
    }
    JobFile file = files.get(i);
    return ingestFile(file).thenCompose(progress -> {
      if (progress == null) {
        return CompletableFuture.completedFuture(Outcome.INTERRUPTED);
      }
      return runFrom(files, i + 1, anyFailed || !progress.state().equals(StagedFileViews.INGESTED));
    });
  }

  /** The file's final progress, or null when interrupted. */
  private CompletionStage<Progress> ingestFile(JobFile file) {
    return jobs.progressOf(tenantId, jobId(), file.id()).thenCompose(progress -> {
      if (progress.state().equals(StagedFileViews.INGESTED) || progress.state().equals(StagedFileViews.FAILED)) {
        // Finished before a crash, maybe before its file's state was written: write it (again).
        return staging.setMetadata(tenantId, file.id(), finalMetadata(progress)).thenApply(d -> progress);
      }
      return staging.findFile(tenantId, file.id()).thenCompose(staged -> {
        if (staged.isEmpty()) {
          return fail(file, progress, "the staged file no longer exists");
        }
        return staging.setMetadata(tenantId, file.id(), new Document("state", StagedFileViews.INGESTING).append("job", jobId()))
            .thenCompose(marked -> ingestion.start(tenantId, jobId(), file, progress, meter))
            .thenCompose(run -> {
              current = run;
              if (interrupted) {
                run.interrupt();
              }
              return run.done();
            })
            .thenCompose(end -> {
              current = null;
              if (interrupted && end.state().equals(StagedFileViews.INGESTING)) {
                // Still this job's: it resumes the file wherever the tenant runs next.
                return staging.setMetadata(tenantId, file.id(), new Document("state", StagedFileViews.QUEUED))
                    .thenApply(d -> (Progress) null);
              }
              return staging.setMetadata(tenantId, file.id(), finalMetadata(end)).thenApply(d -> end);
            })
            .exceptionallyCompose(failure -> {
              current = null;
              if (isStoreFailure(failure)) {
                // Not the file's fault: the job pauses at its checkpoint and resumes when the store answers.
                return CompletableFuture.failedFuture(failure);
              }
              log.warn("tenant {}: ingesting file {} of job {} failed: {}", tenantId, file.id(), jobId(), failure.toString());
              return fail(file, progress, "ingestion failed: " + rootMessage(failure));
            });
      });
    });
  }

  private static Document finalMetadata(Progress end) {
    return new Document("state", end.state()).append("records", StagedFileViews.countsDocument(end.records()));
  }

  private CompletionStage<Progress> fail(JobFile file, Progress progress, String error) {
    Progress failed = new Progress(StagedFileViews.FAILED, progress.checkpoint(), progress.records(), progress.bytes(), error);
    return jobs.saveProgress(tenantId, jobId(), file.id(), failed)
        .thenCompose(saved -> staging.setMetadata(tenantId, file.id(), new Document("state", StagedFileViews.FAILED)))
        .handle((done, e) -> failed);
  }

  /**
   * Whether {@code failure} is the store failing (unreachable, timed out, a write not confirmed), not
   * the file: any {@link com.mongodb.MongoException} in its causes. Records the store refuses one by
   * one never get here (they are dead letters).
   */
  static boolean isStoreFailure(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof com.mongodb.MongoException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable failure) {
    Throwable e = failure;
    while (e.getCause() != null && e.getCause() != e) {
      e = e.getCause();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }
}
