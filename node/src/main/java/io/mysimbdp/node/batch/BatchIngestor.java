package io.mysimbdp.node.batch;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.mysimbdp.node.CborSerializable;
import akka.actor.typed.javadsl.TimerScheduler;
import java.time.Duration;
import java.util.List;
import org.bson.Document;

/**
 * The tenant's batch worker, a child of its {@code TenantIngestor}: runs the tenant's ingestion
 * jobs one at a time, oldest first. On start it resumes whatever is unfinished (after a crash or a
 * move, on this node); on {@link Drain} it interrupts the running file at a checkpoint and stops.
 *
 * <p>The store out of reach never fails a file: a job list that cannot be loaded, or a job stopped
 * by a store failure (its file left at its checkpoint), is tried again after a back-off
 * ({@value #FIRST_RETRY_SECONDS} s doubling to {@value #MAX_RETRY_SECONDS} s) until the store answers;
 * the job then resumes from its checkpoints. The retry timer exists only while the store fails.
 */
public final class BatchIngestor {

  /** JobQueued crosses nodes inside {@code TenantIngestor.ToBatch}: named, for Jackson. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({@JsonSubTypes.Type(value = JobQueued.class, name = "job-queued")})
  public interface Command extends CborSerializable {}

  /** A new job was stored for the tenant: run it when its turn comes. */
  public record JobQueued(String jobId) implements Command {}

  /** The tenant is handing off: checkpoint and stop. */
  public enum Drain implements Command {
    INSTANCE
  }

  static final int FIRST_RETRY_SECONDS = 1;
  static final int MAX_RETRY_SECONDS = 30;

  private record JobsLoaded(List<Document> jobs) implements Command {}

  private record LoadFailed(Throwable failure) implements Command {}

  private enum Retry implements Command {
    INSTANCE
  }

  private record JobEnded(String jobId, JobRunner.Outcome outcome, Throwable failure) implements Command {}

  /** What the worker needs from its node. */
  /** The node's job store and file ingestion; {@code meter}: the tenant's, handed over by its entity. */
  public record Dependencies(IngestionJobs jobs, StagingStore staging, FileIngestion ingestion, io.mysimbdp.node.report.TenantMeter meter) {
    public Dependencies(IngestionJobs jobs, StagingStore staging, FileIngestion ingestion) {
      this(jobs, staging, ingestion, null);
    }
  }

  /** The tenant's batch worker; its files' records count in {@code meter}, its entity's. */
  public static Behavior<Command> create(String tenantId, Dependencies node, io.mysimbdp.node.report.TenantMeter meter) {
    Dependencies deps = new Dependencies(node.jobs(), node.staging(), node.ingestion(), meter);
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      load(context, tenantId, deps);
      return loading(context, timers, tenantId, deps, false, 0);
    }));
  }

  private static void load(ActorContext<Command> context, String tenantId, Dependencies deps) {
    context.pipeToSelf(deps.jobs().unfinished(tenantId), (jobs, failure) -> failure != null ? new LoadFailed(failure) : new JobsLoaded(jobs));
  }

  /** The wait before retry number {@code failures} (1, 2, ...): doubling, capped. */
  static Duration backoff(int failures) {
    return Duration.ofSeconds(Math.min(MAX_RETRY_SECONDS, (long) FIRST_RETRY_SECONDS << Math.min(10, Math.max(0, failures - 1))));
  }

  /** The store failed ({@code failures} times in a row): wait, then load the jobs again. */
  private static Behavior<Command> paused(
      ActorContext<Command> context, TimerScheduler<Command> timers, String tenantId, Dependencies deps, int failures) {
    timers.startSingleTimer(Retry.INSTANCE, backoff(failures));
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> Behaviors.same()) // loaded with the rest at the retry
        .onMessageEquals(Retry.INSTANCE, () -> {
          load(context, tenantId, deps);
          return loading(context, timers, tenantId, deps, false, failures);
        })
        .onMessageEquals(Drain.INSTANCE, Behaviors::stopped)
        .build();
  }

  /** Waiting for the list of unfinished jobs; {@code queuedMeanwhile}: a job came in while loading. */
  private static Behavior<Command> loading(
      ActorContext<Command> context, TimerScheduler<Command> timers, String tenantId, Dependencies deps, boolean queuedMeanwhile,
      int failures) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> loading(context, timers, tenantId, deps, true, failures))
        .onMessage(LoadFailed.class, failed -> {
          context.getLog().warn("tenant {}: could not load batch jobs (retrying in {} s): {}", tenantId,
              backoff(failures + 1).toSeconds(), failed.failure().toString());
          return paused(context, timers, tenantId, deps, failures + 1);
        })
        .onMessage(JobsLoaded.class, loaded -> {
          if (loaded.jobs().isEmpty()) {
            if (queuedMeanwhile) {
              load(context, tenantId, deps);
              return loading(context, timers, tenantId, deps, false, 0);
            }
            return idle(context, timers, tenantId, deps);
          }
          return running(context, timers, tenantId, deps, start(context, tenantId, deps, loaded.jobs().get(0)), false, failures);
        })
        .onMessageEquals(Drain.INSTANCE, Behaviors::stopped)
        .build();
  }

  private static Behavior<Command> idle(ActorContext<Command> context, TimerScheduler<Command> timers, String tenantId, Dependencies deps) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> {
          load(context, tenantId, deps);
          return loading(context, timers, tenantId, deps, false, 0);
        })
        .onMessageEquals(Drain.INSTANCE, Behaviors::stopped)
        .build();
  }

  private static JobRunner start(ActorContext<Command> context, String tenantId, Dependencies deps, Document job) {
    JobRunner runner = new JobRunner(tenantId, job, deps.jobs(), deps.staging(), deps.ingestion(), deps.meter());
    context.getLog().info("tenant {}: running batch job {}", tenantId, runner.jobId());
    context.pipeToSelf(runner.run(), (outcome, failure) -> new JobEnded(runner.jobId(), outcome, failure));
    return runner;
  }

  private static Behavior<Command> running(
      ActorContext<Command> context, TimerScheduler<Command> timers, String tenantId, Dependencies deps, JobRunner runner,
      boolean draining, int failures) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> Behaviors.same())
        .onMessageEquals(Drain.INSTANCE, () -> {
          runner.interrupt();
          return running(context, timers, tenantId, deps, runner, true, failures);
        })
        .onMessage(JobEnded.class, ended -> {
          if (ended.failure() != null) {
            context.getLog().warn("tenant {}: batch job {} paused, the store failed under it (resuming from its checkpoint in {} s): {}",
                tenantId, ended.jobId(), backoff(failures + 1).toSeconds(), ended.failure().toString());
          } else {
            context.getLog().info("tenant {}: batch job {} {}", tenantId, ended.jobId(),
                ended.outcome() == JobRunner.Outcome.FINISHED ? "finished" : "interrupted at a checkpoint");
          }
          if (draining) {
            return Behaviors.stopped();
          }
          if (ended.failure() != null) {
            // The store failed under the job: its files keep their checkpoints; resume once it answers.
            return paused(context, timers, tenantId, deps, failures + 1);
          }
          load(context, tenantId, deps);
          return loading(context, timers, tenantId, deps, false, 0);
        })
        .build();
  }

  private BatchIngestor() {}
}
