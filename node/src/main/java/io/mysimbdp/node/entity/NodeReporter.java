package io.mysimbdp.node.entity;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The reports of every tenant whose entity runs on this node, on one timer: each interval it takes
 * an interval of every registered meter, reads the backlogs of the tenants that are active (one
 * batched read of their queues; their job backlogs and quality counts), stores the reports of the
 * tenants that did something in one bulk write, and tells the load balancer once (a
 * {@link LoadBalancer.NodeReports} digest: the reports, the ids of the idle tenants, this node's
 * load).
 *
 * <p>An idle tenant (nothing taken in, stored or failed in the interval, nothing queued at its last
 * reading, no job backlog) costs no query and no write: its report is made in memory (its meter's
 * {@link TenantMeter#lastReport}), stored once when it turns idle, and named in the digest.
 *
 * <p>Tenants' entities {@link Register} their meters when they start on this node and
 * {@link Unregister} when they stop: the last, partial interval is reported then (stored at once,
 * with whatever other tenants stopped while a write was in flight). On shutdown, {@link Flush}
 * waits for those writes, before the store closes.
 */
public final class NodeReporter {

  public interface Command {}

  /** A tenant's entity started on this node with this meter. */
  public record Register(TenantMeter meter) implements Command {}

  /** A tenant's entity stopped on this node (moved, or the node leaves): report its last interval. */
  public record Unregister(TenantMeter meter) implements Command {}

  /** The node shuts down: store the last intervals of the tenants that stopped, then answer. */
  public record Flush(ActorRef<akka.Done> replyTo) implements Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private record Measured(Instant at, List<Taken> taken, Readings.Values values) implements Command {}

  private record Saved(int reports, Throwable failure) implements Command {}

  private record FinalsSaved(int reports, Throwable failure, List<ActorRef<akka.Done>> waiting) implements Command {}

  /** The figures the reports need beyond the meters, read for a set of (active) tenants. */
  public interface Readings {
    /** Messages in each tenant's queue (-1: unknown). One batched read. */
    CompletionStage<Map<String, Long>> queueLengths(Collection<String> tenants);

    /** File bytes of the tenant's unfinished jobs not read yet (-1: unknown). */
    CompletionStage<Long> batchBacklogBytes(String tenant);

    /** The tenant's quality rules' counts. */
    CompletionStage<List<PerformanceReport.QualityCount>> quality(String tenant);

    /** What was read, by tenant. */
    record Values(Map<String, Long> queueLengths, Map<String, Long> batchBacklogBytes, Map<String, List<PerformanceReport.QualityCount>> quality) {}
  }

  /**
   * What the reporter needs from its node: where to store (one call per interval), what to read,
   * the balancer (null: none, in tests), this node's own load, the registry {@code /metrics} reads.
   */
  public record Dependencies(
      String node,
      Function<List<ReportStore.Entry>, CompletionStage<Void>> store,
      Readings readings,
      ActorRef<LoadBalancer.Command> balancer,
      Supplier<LoadBalancer.NodeLoad> nodeLoad,
      TenantMeters registry,
      Duration interval) {}

  /**
   * Most bytes of one digest message, as {@link #wireBytes} estimates them: a quarter of Artery's
   * frame (256 KiB by default; a larger message is dropped), whatever the number of tenants.
   */
  static final int DIGEST_PART_BYTES = 64 * 1024;

  /**
   * The digest in parts of at most {@link #DIGEST_PART_BYTES} (10,000 tenants' reports: about a
   * hundred messages; 1,000 reports in one were over the frame size and lost): the reports, then the
   * idle tenants' ids; the node's load in the first part. At least one part, so the load is sent.
   */
  static List<LoadBalancer.NodeReports> digestParts(
      String node, Instant at, LoadBalancer.NodeLoad load, List<PerformanceReport> reports, List<String> idle) {
    List<LoadBalancer.NodeReports> parts = new ArrayList<>();
    List<PerformanceReport> partReports = new ArrayList<>();
    List<String> partIdle = new ArrayList<>();
    int bytes = 0;
    for (PerformanceReport report : reports) {
      int more = wireBytes(report);
      if (bytes + more > DIGEST_PART_BYTES && !partReports.isEmpty()) {
        parts.add(new LoadBalancer.NodeReports(node, at, parts.isEmpty() ? load : null, List.copyOf(partReports), List.of()));
        partReports.clear();
        bytes = 0;
      }
      partReports.add(report);
      bytes += more;
    }
    for (String tenant : idle) {
      int more = wireBytes(tenant);
      if (bytes + more > DIGEST_PART_BYTES && (!partReports.isEmpty() || !partIdle.isEmpty())) {
        parts.add(new LoadBalancer.NodeReports(node, at, parts.isEmpty() ? load : null, List.copyOf(partReports), List.copyOf(partIdle)));
        partReports.clear();
        partIdle.clear();
        bytes = 0;
      }
      partIdle.add(tenant);
      bytes += more;
    }
    if (parts.isEmpty() || !partReports.isEmpty() || !partIdle.isEmpty()) {
      parts.add(new LoadBalancer.NodeReports(node, at, parts.isEmpty() ? load : null, List.copyOf(partReports), List.copyOf(partIdle)));
    }
    return parts;
  }

  /**
   * At most what a report takes on the wire (Jackson CBOR names every field): its fixed fields with
   * their names, and its strings by length (free text at three bytes a character, UTF-8's most for
   * Java's chars). CrossNodeMessagesTest holds the serializer to it.
   */
  static int wireBytes(PerformanceReport report) {
    int bytes = 640 + ascii(report.customerIdentifier()) + ascii(report.node());
    for (String table : orEmpty(report.nameTable())) {
      bytes += 8 + text(table);
    }
    for (PerformanceReport.QualityCount quality : orEmpty(report.quality())) {
      bytes += 80 + text(quality.rule());
    }
    for (io.mysimbdp.protocol.BalancerDecision move : orEmpty(report.moves())) {
      bytes += 320 + ascii(move.id()) + ascii(move.tenant()) + ascii(move.kind()) + ascii(move.from()) + ascii(move.to()) + text(move.reason());
    }
    return bytes;
  }

  /** What an idle tenant's id takes in the digest. */
  static int wireBytes(String tenantId) {
    return 4 + ascii(tenantId);
  }

  private static int ascii(String s) {
    return s == null ? 0 : s.length();
  }

  private static int text(String s) {
    return s == null ? 0 : 3 * s.length();
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private NodeReporter() {}

  public static Behavior<Command> create(Dependencies deps) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
      context.setLoggerName(NodeReporter.class);
      timers.startTimerWithFixedDelay(Tick.INSTANCE, deps.interval());
      return new Running(context, deps).behavior();
    }));
  }

  /** What the reporter remembers of one tenant between intervals. */
  private static final class Tracked {
    final TenantMeter meter;
    /** Records in its queue at its last reading; -1 when unknown (not read yet, no queue yet, broker down). */
    long backlog = -1;
    long batchBacklogBytes = 0;
    List<PerformanceReport.QualityCount> quality = List.of();
    /** Its quiet report was stored already: the next quiet ones are not. */
    boolean idleStored;

    Tracked(TenantMeter meter) {
      this.meter = meter;
    }

    boolean idle(TenantMeter.Interval interval) {
      // An unknown backlog (no queue declared yet, say) is not read again until something happens.
      // Messages published to a stopped (or not yet consuming) stream grow its queue: read it then.
      return interval.quiet() && backlog <= 0 && batchBacklogBytes <= 0 && !meter.takePublished();
    }
  }

  /** One tenant's interval, taken at the tick. */
  private record Taken(String tenantId, Tracked tracked, TenantMeter.Interval interval, boolean active, boolean last) {}

  private static final class Running {
    private final ActorContext<Command> context;
    private final Dependencies deps;
    private final Map<String, Tracked> tenants = new LinkedHashMap<>();
    /** Last intervals of tenants that stopped here, to store with the next write. */
    private final List<Taken> finals = new ArrayList<>();
    private boolean measuring;
    private boolean finalsWriteInFlight;
    /** Asked to {@link Flush}: answered once the finals held now are stored. */
    private final List<ActorRef<akka.Done>> flushWaiting = new ArrayList<>();

    Running(ActorContext<Command> context, Dependencies deps) {
      this.context = context;
      this.deps = deps;
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(Register.class, this::onRegister)
          .onMessage(Unregister.class, this::onUnregister)
          .onMessageEquals(Tick.INSTANCE, this::onTick)
          .onMessage(Flush.class, this::onFlush)
          .onMessage(FinalsSaved.class, this::onFinalsSaved)
          .onMessage(Measured.class, this::onMeasured)
          .onMessage(Saved.class, this::onSaved)
          .build();
    }

    private Behavior<Command> onRegister(Register register) {
      String tenantId = register.meter().tenantId();
      tenants.put(tenantId, new Tracked(register.meter()));
      deps.registry().register(register.meter());
      return Behaviors.same();
    }

    private Behavior<Command> onUnregister(Unregister unregister) {
      String tenantId = unregister.meter().tenantId();
      Tracked tracked = tenants.get(tenantId);
      if (tracked == null || tracked.meter != unregister.meter()) {
        return Behaviors.same(); // a new entity of the tenant registered since
      }
      tenants.remove(tenantId);
      deps.registry().unregister(tracked.meter);
      TenantMeter.Interval interval = tracked.meter.takeInterval();
      // The last interval is reported with what was last read of the backlogs: the entity is gone.
      finals.add(new Taken(tenantId, tracked, interval, true, true));
      writeFinals();
      return Behaviors.same();
    }

    /**
     * Stores the last intervals of the tenants that stopped, unless a write is in flight: entities
     * that stop together (a node leaving, a rebalance) are stored together as it completes.
     */
    private void writeFinals() {
      if (finals.isEmpty() || measuring || finalsWriteInFlight) {
        if (finals.isEmpty() && !finalsWriteInFlight && !measuring) {
          flushWaiting.forEach(r -> r.tell(akka.Done.getInstance()));
          flushWaiting.clear();
        }
        return; // a tick's write takes them with the others, or the next finals write does
      }
      List<Taken> last = List.copyOf(finals);
      finals.clear();
      List<ReportStore.Entry> entries = entries(Instant.now(), last, new Readings.Values(Map.of(), Map.of(), Map.of()), false);
      List<ActorRef<akka.Done>> waiting = List.copyOf(flushWaiting);
      flushWaiting.clear();
      finalsWriteInFlight = true;
      context.pipeToSelf(deps.store().apply(entries), (ok, failure) -> new FinalsSaved(entries.size(), failure, waiting));
    }

    private Behavior<Command> onFlush(Flush flush) {
      flushWaiting.add(flush.replyTo());
      writeFinals();
      return Behaviors.same();
    }

    private Behavior<Command> onFinalsSaved(FinalsSaved saved) {
      finalsWriteInFlight = false;
      if (saved.failure() != null) {
        context.getLog().warn("could not store the last performance report(s) of {} tenant(s) that stopped on this node: {}", saved.reports(),
            saved.failure().toString());
      }
      saved.waiting().forEach(r -> r.tell(akka.Done.getInstance()));
      writeFinals();
      return Behaviors.same();
    }

    private Behavior<Command> onTick() {
      if (measuring) {
        return Behaviors.same();
      }
      measuring = true;
      List<Taken> taken = new ArrayList<>(tenants.size());
      List<String> queues = new ArrayList<>();
      Map<String, CompletionStage<Long>> batch = new HashMap<>();
      Map<String, CompletionStage<List<PerformanceReport.QualityCount>>> quality = new HashMap<>();
      tenants.forEach((tenantId, tracked) -> {
        TenantMeter.Interval interval = tracked.meter.takeInterval();
        // A tenant that just started here is read once it does something: thousands of entities
        // started at once (a full restart) read nothing; a started stream with a backlog consumes.
        boolean active = !tracked.idle(interval);
        taken.add(new Taken(tenantId, tracked, interval, active, false));
        if (!active) {
          return;
        }
        queues.add(tenantId);
        // Jobs and quality counts change only with records flowing (a job resumed after a move reads
        // its files at once).
        if (interval.counts().batchRecords() > 0 || tracked.batchBacklogBytes != 0) {
          batch.put(tenantId, deps.readings().batchBacklogBytes(tenantId).exceptionally(e -> -1L));
        }
        if (interval.counts().recordsIn() > 0) {
          quality.put(tenantId, deps.readings().quality(tenantId).exceptionally(e -> null));
        }
      });
      CompletionStage<Map<String, Long>> lengths = queues.isEmpty()
          ? CompletableFuture.completedFuture(Map.of())
          : deps.readings().queueLengths(queues).exceptionally(e -> Map.of());
      CompletionStage<Map<String, Long>> batchValues = allOf(batch);
      CompletionStage<Map<String, List<PerformanceReport.QualityCount>>> qualityValues = allOf(quality);
      Instant at = Instant.now();
      context.pipeToSelf(
          lengths.thenCombine(batchValues, (l, b) -> new Object[] {l, b}).thenCombine(qualityValues,
              (lb, q) -> {
                @SuppressWarnings("unchecked")
                Map<String, Long> l = (Map<String, Long>) lb[0];
                @SuppressWarnings("unchecked")
                Map<String, Long> b = (Map<String, Long>) lb[1];
                return new Readings.Values(l, b, q);
              }),
          (values, failure) -> new Measured(at, taken, values != null ? values : new Readings.Values(Map.of(), Map.of(), Map.of())));
      return Behaviors.same();
    }

    private Behavior<Command> onMeasured(Measured measured) {
      List<Taken> all = new ArrayList<>(measured.taken());
      all.addAll(finals);
      finals.clear();
      List<ReportStore.Entry> entries = entries(measured.at(), all, measured.values(), true);
      if (entries.isEmpty()) {
        measuring = false;
        writeFinals();
      } else {
        // A tick's write holds the next tick back: a store slower than the interval is not queued up.
        context.pipeToSelf(deps.store().apply(entries), (ok, failure) -> new Saved(entries.size(), failure));
      }
      return Behaviors.same();
    }

    /** Makes every tenant's report, tells the balancer once; answers those worth storing. */
    private List<ReportStore.Entry> entries(Instant at, List<Taken> taken, Readings.Values values, boolean digest) {
      List<ReportStore.Entry> entries = new ArrayList<>();
      List<PerformanceReport> reports = new ArrayList<>();
      List<String> idle = new ArrayList<>();
      for (Taken t : taken) {
        Tracked tracked = t.tracked();
        if (t.active()) {
          Long messages = values.queueLengths().get(t.tenantId());
          // The queue counts AMQP messages; the report (and the balancer's lag rule) counts records.
          long backlog = messages == null ? tracked.backlog : tracked.meter.queuedRecords(messages);
          Long batchBytes = values.batchBacklogBytes().get(t.tenantId());
          List<PerformanceReport.QualityCount> quality = values.quality().get(t.tenantId());
          PerformanceReport report = report(t, backlog, batchBytes == null ? tracked.batchBacklogBytes : batchBytes,
              quality == null ? tracked.quality : quality);
          tracked.backlog = backlog;
          tracked.batchBacklogBytes = report.batchBacklogBytes();
          tracked.quality = report.quality();
          boolean idleNow = tracked.idle(t.interval());
          if (!idleNow || !tracked.idleStored || t.last()) {
            entries.add(new ReportStore.Entry(report, t.interval()));
            reports.add(report);
          } else {
            idle.add(t.tenantId());
          }
          tracked.idleStored = idleNow;
        } else {
          // Idle: the same figures as last time, nothing read; made for /stats, not stored again.
          report(t, tracked.backlog, tracked.batchBacklogBytes, tracked.quality);
          if (tracked.idleStored) {
            idle.add(t.tenantId());
          } else {
            PerformanceReport report = tracked.meter.lastReport();
            entries.add(new ReportStore.Entry(report, t.interval()));
            reports.add(report);
            tracked.idleStored = true;
          }
        }
      }
      if (deps.balancer() != null && (digest || !reports.isEmpty())) {
        tellBalancer(at, digest ? deps.nodeLoad().get() : null, reports, idle);
      }
      return entries;
    }

    private void tellBalancer(Instant at, LoadBalancer.NodeLoad load, List<PerformanceReport> reports, List<String> idle) {
      digestParts(deps.node(), at, load, reports, idle).forEach(deps.balancer()::tell);
    }

    private Behavior<Command> onSaved(Saved saved) {
      if (saved.failure() != null) {
        context.getLog().warn("could not store {} performance report(s) of this node's tenants: {}", saved.reports(), saved.failure().toString());
      }
      measuring = false;
      writeFinals();
      return Behaviors.same();
    }

    private PerformanceReport report(Taken t, long backlog, long batchBacklogBytes, List<PerformanceReport.QualityCount> quality) {
      TenantMeter.Interval interval = t.interval();
      double seconds = interval.seconds();
      PerformanceReport previous = t.tracked().meter.lastReport();
      long lastBacklog = previous == null ? -1 : previous.backlog();
      double growth = backlog >= 0 && lastBacklog >= 0 ? (backlog - lastBacklog) / seconds : 0;
      PerformanceReport report =
          new PerformanceReport(
              t.tenantId(),
              interval.counts().bytesIn(),
              interval.meanLatency(),
              interval.counts().recordsOut(),
              Instant.ofEpochMilli(interval.fromMillis()),
              Instant.ofEpochMilli(interval.toMillis()),
              interval.collections(),
              deps.node(),
              interval.counts().recordsIn(),
              interval.throughput(),
              Math.max(0, interval.counts().recordsIn() / seconds + growth),
              interval.latencyAt(50),
              interval.latencyAt(99),
              backlog,
              batchBacklogBytes,
              interval.counts().errors(),
              quality,
              null);
      t.tracked().meter.reported(report);
      return report;
    }
  }

  private static <T> CompletionStage<Map<String, T>> allOf(Map<String, CompletionStage<T>> stages) {
    if (stages.isEmpty()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    CompletableFuture<?>[] all = stages.values().stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all).handle((ok, failure) -> {
      Map<String, T> values = new HashMap<>();
      stages.forEach((tenant, stage) -> {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (!f.isCompletedExceptionally()) {
          T value = f.join();
          if (value != null) {
            values.put(tenant, value);
          }
        }
      });
      return values;
    });
  }
}
