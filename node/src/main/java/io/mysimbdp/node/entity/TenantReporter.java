package io.mysimbdp.node.entity;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.functions.FunctionService;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.stream.StreamTopology;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * A worker of the tenant's entity: every report interval it turns the tenant's meter into a
 * {@link PerformanceReport} (with the backlog the broker and the jobs show), stores it and tells
 * the load balancer. On drain (the tenant moves or its node leaves) it reports the last, partial
 * interval before it stops.
 */
final class TenantReporter {

  interface Command {}

  enum Tick implements Command {
    INSTANCE
  }

  /** Report what is left and stop. */
  enum Flush implements Command {
    INSTANCE
  }

  private record Measured(TenantMeter.Interval interval, long backlog, long batchBacklogBytes, List<PerformanceReport.QualityCount> quality, boolean last)
      implements Command {}

  private record Saved(boolean last) implements Command {}

  /** What a reporter needs from its node. */
  record Dependencies(StreamTopology topology, IngestionServices services, ReportStore store, ActorRef<LoadBalancer.Command> balancer, Duration interval) {}

  private TenantReporter() {}

  static Behavior<Command> create(String tenantId, String node, TenantMeter meter, Dependencies deps) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      context.setLoggerName(TenantReporter.class); // not after whichever class a timer's first log call has on the stack
      timers.startTimerWithFixedDelay(Tick.INSTANCE, deps.interval());
      return new TenantReporter.Running(context, tenantId, node, meter, deps).behavior(false);
    }));
  }

  private static final class Running {
    private final ActorContext<Command> context;
    private final String tenantId;
    private final String node;
    private final TenantMeter meter;
    private final Dependencies deps;
    /** The queue's length at the end of the last interval, -1 when unknown. */
    private long lastBacklog = -1;
    private boolean measuring;

    Running(ActorContext<Command> context, String tenantId, String node, TenantMeter meter, Dependencies deps) {
      this.context = context;
      this.tenantId = tenantId;
      this.node = node;
      this.meter = meter;
      this.deps = deps;
    }

    Behavior<Command> behavior(boolean flushing) {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            if (!measuring && !flushing) {
              measure(false);
            }
            return Behaviors.same();
          })
          .onMessageEquals(Flush.INSTANCE, () -> {
            if (!measuring) {
              measure(true);
            }
            return behavior(true);
          })
          .onMessage(Measured.class, this::onMeasured)
          .onMessage(Saved.class, saved -> saved.last() || flushing ? Behaviors.stopped() : Behaviors.same())
          .build();
    }

    private void measure(boolean last) {
      measuring = true;
      TenantMeter.Interval interval = meter.takeInterval();
      // The queue counts AMQP messages; the report (and the balancer's lag rule) counts records.
      CompletionStage<Long> backlog = deps.topology().lag(tenantId).thenApply(meter::queuedRecords);
      CompletionStage<Long> batchBacklog = deps.services().batch().jobs().backlogBytes(tenantId).exceptionally(e -> -1L);
      CompletionStage<List<PerformanceReport.QualityCount>> quality =
          FunctionService.qualityCounts(deps.services().functionStore(), tenantId).exceptionally(e -> List.of());
      context.pipeToSelf(
          backlog.thenCombine(batchBacklog, (b, bb) -> new long[] {b, bb}).thenCombine(quality, (b, q) -> new Measured(interval, b[0], b[1], q, last)),
          (measured, failure) -> measured != null ? measured : new Measured(interval, -1, -1, List.of(), last));
    }

    private Behavior<Command> onMeasured(Measured m) {
      measuring = false;
      TenantMeter.Interval interval = m.interval();
      double seconds = interval.seconds();
      double growth = m.backlog() >= 0 && lastBacklog >= 0 ? (m.backlog() - lastBacklog) / seconds : 0;
      lastBacklog = m.backlog();
      PerformanceReport report =
          new PerformanceReport(
              tenantId,
              interval.counts().bytesIn(),
              interval.meanLatency(),
              interval.counts().recordsOut(),
              Instant.ofEpochMilli(interval.fromMillis()),
              Instant.ofEpochMilli(interval.toMillis()),
              interval.collections(),
              node,
              interval.counts().recordsIn(),
              interval.throughput(),
              Math.max(0, interval.counts().recordsIn() / seconds + growth),
              interval.latencyAt(50),
              interval.latencyAt(99),
              m.backlog(),
              m.batchBacklogBytes(),
              interval.counts().errors(),
              m.quality(),
              null);
      meter.reported(report);
      deps.balancer().tell(new LoadBalancer.Report(report));
      boolean last = m.last();
      context.pipeToSelf(deps.store().save(report, interval), (ok, failure) -> {
        if (failure != null) {
          context.getLog().warn("tenant {}: could not store its performance report: {}", tenantId, failure.toString());
        }
        return new Saved(last);
      });
      return Behaviors.same();
    }
  }
}
