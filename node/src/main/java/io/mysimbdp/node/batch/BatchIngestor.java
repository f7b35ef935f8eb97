package io.mysimbdp.node.batch;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.mysimbdp.node.CborSerializable;
import java.util.List;
import org.bson.Document;

/**
 * The tenant's batch worker, a child of its {@code TenantIngestor}: runs the tenant's ingestion
 * jobs one at a time, oldest first. On start it resumes whatever is unfinished (after a crash or a
 * move, on this node); on {@link Drain} it interrupts the running file at a checkpoint and stops.
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

  private record JobsLoaded(List<Document> jobs) implements Command {}

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
    return Behaviors.setup(context -> {
      load(context, tenantId, deps);
      return loading(context, tenantId, deps, false);
    });
  }

  private static void load(ActorContext<Command> context, String tenantId, Dependencies deps) {
    context.pipeToSelf(deps.jobs().unfinished(tenantId), (jobs, failure) -> {
      if (failure != null) {
        context.getLog().warn("tenant {}: could not load batch jobs: {}", tenantId, failure.toString());
        return new JobsLoaded(List.of());
      }
      return new JobsLoaded(jobs);
    });
  }

  /** Waiting for the list of unfinished jobs; {@code queuedMeanwhile}: a job came in while loading. */
  private static Behavior<Command> loading(ActorContext<Command> context, String tenantId, Dependencies deps, boolean queuedMeanwhile) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> loading(context, tenantId, deps, true))
        .onMessage(JobsLoaded.class, loaded -> {
          if (loaded.jobs().isEmpty()) {
            if (queuedMeanwhile) {
              load(context, tenantId, deps);
              return loading(context, tenantId, deps, false);
            }
            return idle(context, tenantId, deps);
          }
          return running(context, tenantId, deps, start(context, tenantId, deps, loaded.jobs().get(0)), false);
        })
        .onMessageEquals(Drain.INSTANCE, Behaviors::stopped)
        .build();
  }

  private static Behavior<Command> idle(ActorContext<Command> context, String tenantId, Dependencies deps) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> {
          load(context, tenantId, deps);
          return loading(context, tenantId, deps, false);
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
      ActorContext<Command> context, String tenantId, Dependencies deps, JobRunner runner, boolean draining) {
    return Behaviors.receive(Command.class)
        .onMessage(JobQueued.class, queued -> Behaviors.same())
        .onMessageEquals(Drain.INSTANCE, () -> {
          runner.interrupt();
          return running(context, tenantId, deps, runner, true);
        })
        .onMessage(JobEnded.class, ended -> {
          if (ended.failure() != null) {
            context.getLog().warn("tenant {}: batch job {} stopped on an error: {}", tenantId, ended.jobId(), ended.failure().toString());
          } else {
            context.getLog().info("tenant {}: batch job {} {}", tenantId, ended.jobId(),
                ended.outcome() == JobRunner.Outcome.FINISHED ? "finished" : "interrupted at a checkpoint");
          }
          if (draining) {
            return Behaviors.stopped();
          }
          if (ended.failure() != null) {
            // The store failed under the job: stop; the entity restarts the worker, which resumes.
            throw new IllegalStateException("batch job " + ended.jobId() + " failed", ended.failure());
          }
          load(context, tenantId, deps);
          return loading(context, tenantId, deps, false);
        })
        .build();
  }

  private BatchIngestor() {}
}
