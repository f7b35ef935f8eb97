package io.mysimbdp.node.stream;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.PreRestart;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.typed.Cluster;
import akka.pattern.StatusReply;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.mysimbdp.node.CborSerializable;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.pipeline.PipelineParts;
import io.mysimbdp.node.report.TenantMeter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletionStage;
import org.bson.conversions.Bson;

/**
 * The tenant's stream consumer, a worker of the tenant's {@code TenantIngestor}. Whether the
 * stream is started is kept in the tenant's database ({@value #STATE_COLLECTION}), so a started
 * stream starts again on its own wherever and whenever the entity starts. Stop and hand-off
 * ({@link Drain}) both drain: no new messages, the in-flight ones stored and acked, then the
 * connection closes; whatever is not acked goes back to the queue for the next consumer.
 *
 * <p>The consumer's prefetch (messages the broker sends ahead) follows the records and bytes its
 * messages carry ({@link PrefetchPolicy}): the node's one timer ({@link NodeStreams}) tells this
 * worker when its prefetch should change (the pipeline does at once when it holds too many bytes);
 * a new prefetch drains the consumer the same way and starts another with it. The records and bytes
 * per message behind the last change are kept in the stream state, so the next start (here or on
 * another node, whose meter knows nothing yet) begins with the prefetch they call for.
 *
 * <p>A node takes so many streams ({@link NodeStreams}): a start past that is refused (the route
 * answers 503), a started stream resuming here waits and tries again.
 */
public final class StreamIngestor extends AbstractBehavior<StreamIngestor.Command> {
  public static final String STATE_COLLECTION = "stream_state";
  private static final String STATE_ID = "stream";
  private static final Duration RETRY = Duration.ofSeconds(5);

  /** Start, Stop and GetStatus cross nodes inside {@code TenantIngestor.ToStream}: named, for Jackson. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Start.class, name = "start"),
    @JsonSubTypes.Type(value = Stop.class, name = "stop"),
    @JsonSubTypes.Type(value = GetStatus.class, name = "status")
  })
  public interface Command extends CborSerializable {}

  /** Starts consuming and remembers that the stream is started. */
  public record Start(ActorRef<StatusReply<Status>> replyTo) implements Command {}

  /** Remembers that the stream is stopped, drains it, answers once the consumer closed. */
  public record Stop(ActorRef<StatusReply<Status>> replyTo) implements Command {}

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** From the entity on hand-off: drain and stop, without changing the remembered state. */
  public enum Drain implements Command {
    INSTANCE
  }

  /** The consumer's state and counters on this node (since the entity started here). */
  public record Status(
      String state,
      String node,
      long consumed,
      long stored,
      long duplicates,
      long failed,
      Long latencyP50Millis,
      Long latencyP99Millis,
      String lastError,
      /** Records per AMQP message lately consumed (0: none yet): turns the queue's length into records. */
      double recordsPerMessage,
      /** Messages the broker sends the consumer ahead now (0: not consuming). */
      int prefetch)
      implements CborSerializable {}

  /**
   * @param recordsPerMessage what the tenant's messages carried when its prefetch last changed (0:
   *     never measured)
   */
  private record Loaded(Optional<Boolean> started, double recordsPerMessage, double bytesPerMessage, String failure) implements Command {}

  private record Persisted(boolean started, ActorRef<StatusReply<Status>> replyTo, String failure) implements Command {}

  private record Ended(long generation, String failure) implements Command {}

  private enum Retry implements Command {
    INSTANCE
  }

  private record DrainTimedOut(long generation) implements Command {}

  /** From the node's prefetch check or the pipeline: the prefetch may have to change. */
  enum CheckPrefetch implements Command {
    INSTANCE
  }

  /**
   * A publish for this tenant was routed to no queue: its queue was deleted. A broker that tells
   * consumers of a deleted queue (RabbitMQ's basic.cancel) ends the stream on its own; one that does
   * not (the embedded Qpid) leaves the consumer on a queue that is gone. The stream starts again
   * (drained first), and its start declares the queue anew.
   */
  public enum QueueMissing implements Command {
    INSTANCE
  }

  private record PrefetchSaved(String failure) implements Command {}

  private record FirstConsumed(Instant at, long backlog) implements Command {}

  /** Told to the worker's parent when this consumer takes its first message on this node. */
  public record ConsumingStarted(String tenant, Instant at, long backlog) {}

  private enum State {
    LOADING,
    STOPPED,
    STARTED,
    STOPPING
  }

  /**
   * The tenant's stream worker: what it consumes counts in {@code meter}, its entity's; it runs its
   * pipelines with the node's {@code parts}; {@code parent} hears when its consumer first takes a message here.
   */
  public static Behavior<Command> create(String tenantId, TenantMeter meter, PipelineParts parts, ActorRef<ConsumingStarted> parent) {
    // Restarted with back-off by its parent, the tenant's entity, when it fails.
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> Behaviors.withStash(1000, stash -> new StreamIngestor(context, timers, stash, tenantId, meter, parts, parent))));
  }

  private final String tenantId;
  private final PipelineParts parts;
  private final ActorRef<ConsumingStarted> parent;
  private final String node;
  private final TimerScheduler<Command> timers;
  private final StashBuffer<Command> stash;
  private final CoreDms coreDms;
  private final StreamSettings settings;
  private final PrefetchPolicy prefetchPolicy;
  private final NodeStreams nodeStreams;
  /** This tenant's place among the node's started streams (null: it has none). */
  private NodeStreams.Started slot;
  /** Bytes per message from the stream state (0: unknown). */
  private double savedBytesPerMessage;
  private final StreamMetrics metrics = new StreamMetrics();
  private final List<ActorRef<StatusReply<Status>>> stopReplies = new ArrayList<>();
  private State state = State.LOADING;
  private boolean handingOff;
  private StreamPipeline.Running running;
  private long generation;
  /** Whether the parent was told this consumer took its first message on this node. */
  private boolean toldConsuming;
  /** Records per message from the stream state (the last change, maybe on another node); 0: unknown. */
  private double savedRecordsPerMessage;
  /** The prefetch the consumer being drained is to start again with (null: no change under way). */
  private Integer nextPrefetch;
  /** When this worker last changed the prefetch (null: never). */
  private Instant lastPrefetchChange;

  private final TenantMeter meter;

  private StreamIngestor(ActorContext<Command> context, TimerScheduler<Command> timers, StashBuffer<Command> stash, String tenantId,
      TenantMeter meter, PipelineParts parts, ActorRef<ConsumingStarted> parent) {
    super(context);
    // Akka names an actor's logger after the class on the stack of its first log call; a timer's
    // interceptor may make that call first, and the logger is then akka.actor.ActorCell.
    context.setLoggerName(StreamIngestor.class);
    this.tenantId = tenantId;
    this.meter = meter;
    this.parts = parts;
    this.parent = parent;
    this.timers = timers;
    this.stash = stash;
    this.node = Cluster.get(context.getSystem()).selfMember().address().toString();
    this.coreDms = CoreDms.get(context.getSystem());
    this.settings = StreamTopology.get(context.getSystem()).settings();
    this.nodeStreams = NodeStreams.get(context.getSystem());
    this.prefetchPolicy = nodeStreams.policy();
    load();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Loaded.class, this::onLoaded)
        .onMessageEquals(Retry.INSTANCE, this::onRetry)
        .onMessageEquals(Drain.INSTANCE, this::onDrain)
        .onMessage(Start.class, this::onStart)
        .onMessage(Stop.class, this::onStop)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(Persisted.class, this::onPersisted)
        .onMessage(Ended.class, this::onEnded)
        .onMessage(DrainTimedOut.class, this::onDrainTimedOut)
        .onMessageEquals(CheckPrefetch.INSTANCE, this::onCheckPrefetch)
        .onMessageEquals(QueueMissing.INSTANCE, this::onQueueMissing)
        .onMessage(PrefetchSaved.class, saved -> {
          if (saved.failure() != null) {
            getContext().getLog().warn("tenant {}: could not save the records per message in the stream state: {}", tenantId, saved.failure());
          }
          return this;
        })
        .onMessage(FirstConsumed.class, first -> {
          parent.tell(new ConsumingStarted(tenantId, first.at(), first.backlog()));
          return this;
        })
        .onSignal(PostStop.class, signal -> abandon())
        .onSignal(PreRestart.class, signal -> abandon())
        .build();
  }

  /** Stopped or restarted by a failure: the stream must not outlive its owner. */
  private Behavior<Command> abandon() {
    if (running != null) {
      running.abort("the tenant's stream worker stopped");
      running = null;
    }
    leaveNode();
    return this;
  }

  /** Takes this tenant's place among the node's streams; false (and said) if the node is full. */
  private boolean takeNodePlace() {
    if (slot != null) {
      return true;
    }
    NodeStreams.Either taken = nodeStreams.admit(tenantId, getContext().getSelf(), meter);
    if (taken.refusal() != null) {
      refusal = taken.refusal();
      return false;
    }
    slot = taken.started();
    slot.seedBytesPerMessage(savedBytesPerMessage);
    return true;
  }

  /** Why the node refused this stream last (for the reply and the log). */
  private NodeStreams.Refusal refusal;

  private void leaveNode() {
    if (slot != null) {
      nodeStreams.leave(tenantId, getContext().getSelf());
      slot = null;
    }
  }

  private void load() {
    getContext()
        .pipeToSelf(
            coreDms.first(coreDms.tenantDatabase(tenantId).getCollection(STATE_COLLECTION).find(Filters.eq("_id", STATE_ID)).first()),
            (doc, failure) ->
                failure != null
                    ? new Loaded(Optional.empty(), 0, 0, failure.toString())
                    : new Loaded(
                        Optional.of(doc.map(d -> "started".equals(d.getString("state"))).orElse(false)),
                        doc.map(d -> d.get("recordsPerMessage") instanceof Number n ? n.doubleValue() : 0.0).orElse(0.0),
                        doc.map(d -> d.get("bytesPerMessage") instanceof Number n ? n.doubleValue() : 0.0).orElse(0.0),
                        null));
  }

  private Behavior<Command> onLoaded(Loaded loaded) {
    if (loaded.failure() != null) {
      getContext().getLog().warn("tenant {}: could not read the stream state, retrying in {}: {}", tenantId, RETRY, loaded.failure());
      timers.startSingleTimer(Retry.INSTANCE, RETRY);
      return this;
    }
    savedRecordsPerMessage = loaded.recordsPerMessage();
    savedBytesPerMessage = loaded.bytesPerMessage();
    if (loaded.started().orElse(false)) {
      getContext().getLog().info("tenant {}: the stream was started, resuming it on {}", tenantId, node);
      startStream();
    } else {
      state = State.STOPPED;
    }
    return stash.unstashAll(this);
  }

  private Behavior<Command> onRetry() {
    if (state == State.LOADING) {
      load();
    } else if (state == State.STARTED && running == null) {
      startStream();
    }
    return this;
  }

  private Behavior<Command> onStart(Start start) {
    switch (state) {
      case LOADING -> stash.stash(start);
      case STARTED -> start.replyTo().tell(StatusReply.success(status()));
      case STOPPING -> start.replyTo().tell(StatusReply.error("the stream is stopping; start it again once it stopped"));
      case STOPPED -> {
        // The node's capacity first: a stream it cannot run is not remembered as started.
        if (takeNodePlace()) {
          persist(true, start.replyTo());
        } else {
          getContext().getLog().info("tenant {}: stream start refused: {}", tenantId, refusal.message());
          start.replyTo().tell(StatusReply.error(NodeStreams.AT_CAPACITY + refusal.message()));
        }
      }
    }
    return this;
  }

  private Behavior<Command> onStop(Stop stop) {
    switch (state) {
      case LOADING -> stash.stash(stop);
      case STOPPED -> stop.replyTo().tell(StatusReply.success(status()));
      case STOPPING -> stopReplies.add(stop.replyTo());
      case STARTED -> {
        // Remembered first: a stream that is stopped must not come back after a restart.
        stopReplies.add(stop.replyTo());
        persist(false, null);
      }
    }
    return this;
  }

  private void persist(boolean started, ActorRef<StatusReply<Status>> replyTo) {
    getContext()
        .pipeToSelf(
            updateState(Updates.combine(Updates.set("state", started ? "started" : "stopped"), Updates.set("updatedAt", new Date()))),
            (ok, failure) -> new Persisted(started, replyTo, failure == null ? null : failure.toString()));
  }

  /**
   * Sets fields of the stream state ({@code state}; {@code recordsPerMessage} with the
   * {@code prefetch} it called for), leaving the others as they are.
   */
  private CompletionStage<?> updateState(Bson update) {
    return coreDms.first(
        coreDms.tenantDatabase(tenantId).getCollection(STATE_COLLECTION).updateOne(Filters.eq("_id", STATE_ID), update, new UpdateOptions().upsert(true)));
  }

  private Behavior<Command> onPersisted(Persisted persisted) {
    if (persisted.failure() != null) {
      getContext().getLog().warn("tenant {}: could not save the stream state: {}", tenantId, persisted.failure());
      StatusReply<Status> error = StatusReply.error("the stream state could not be saved; retry: " + persisted.failure());
      if (persisted.replyTo() != null) {
        persisted.replyTo().tell(error);
      }
      if (persisted.started() && running == null) {
        leaveNode();
      }
      if (!persisted.started()) {
        stopReplies.forEach(r -> r.tell(error));
        stopReplies.clear();
      }
      return this;
    }
    if (persisted.started()) {
      if (state == State.STOPPED && !handingOff) {
        startStream();
      }
      if (persisted.replyTo() != null) {
        persisted.replyTo().tell(StatusReply.success(status()));
      }
    } else if (state == State.STARTED && running == null) {
      // Started but not running (waiting for room on the node, or to retry a failed start).
      timers.cancel(Retry.INSTANCE);
      leaveNode();
      state = State.STOPPED;
      getContext().getLog().info("tenant {}: stream stopped", tenantId);
      replyStopped();
    } else if (state == State.STARTED) {
      drainStream();
      state = State.STOPPING;
    }
    return this;
  }

  private void startStream() {
    startStream(prefetchPolicy.prefetchFor(knownRecordsPerMessage(), knownBytesPerMessage()));
  }

  /** Bytes per message lately consumed here, else those saved with the stream state; 0: unknown. */
  private double knownBytesPerMessage() {
    double measured = slot == null ? 0 : slot.bytesPerMessage();
    return measured > 0 ? measured : savedBytesPerMessage;
  }

  /** Records per message lately consumed here, else those saved with the stream state; 0: unknown. */
  private double knownRecordsPerMessage() {
    double measured = meter().recordsPerMessage();
    return measured > 0 ? measured : savedRecordsPerMessage;
  }

  private TenantMeter meter() {
    return meter;
  }

  private void startStream(int prefetch) {
    state = State.STARTED;
    long gen = ++generation;
    if (!takeNodePlace()) {
      getContext().getLog().warn("tenant {}: the stream is started but this node has no room for it, retrying in {}: {}", tenantId, RETRY,
          refusal.message());
      metrics.lastError = refusal.message();
      running = null;
      timers.startSingleTimer(Retry.INSTANCE, RETRY);
      return;
    }
    slot.prefetch = prefetch;
    slot.lastChange = lastPrefetchChange;
    try {
      running = new StreamPipeline(getContext().getSystem(), tenantId, metrics, slot, prefetch, parts, meter).run();
    } catch (RuntimeException e) {
      getContext().getLog().warn("tenant {}: could not start the stream, retrying in {}: {}", tenantId, RETRY, e.toString());
      metrics.lastError = e.toString();
      running = null;
      timers.startSingleTimer(Retry.INSTANCE, RETRY);
      return;
    }
    getContext().pipeToSelf(running.done, (ok, failure) -> new Ended(gen, failure == null ? null : failure.toString()));
    if (!toldConsuming) {
      toldConsuming = true;
      StreamTopology topology = StreamTopology.get(getContext().getSystem());
      getContext().pipeToSelf(
          running.firstConsumed.thenCompose(at -> topology.lag(tenantId).thenApply(backlog -> new FirstConsumed(at, backlog))),
          (first, failure) -> first != null ? first : new FirstConsumed(Instant.now(), -1));
    }
    getContext().getLog().info("tenant {}: consuming {} on {} (prefetch {} messages)", tenantId, settings.queue(tenantId), node, prefetch);
  }

  /**
   * Whether the records per message lately consumed call for another prefetch; if so, drains the
   * consumer (in-flight messages stored and acked, the rest returned to the queue) and, once it
   * ended ({@link #onEnded}), starts one with the new prefetch.
   */
  private Behavior<Command> onCheckPrefetch() {
    if (state != State.STARTED || running == null || nextPrefetch != null || handingOff) {
      return this;
    }
    double perMessage = meter().recordsPerMessage();
    double bytesPerMessage = knownBytesPerMessage();
    Instant now = Instant.now();
    Duration sinceChange = lastPrefetchChange == null ? PrefetchPolicy.NEVER_CHANGED : Duration.between(lastPrefetchChange, now);
    OptionalInt revised = prefetchPolicy.revise(running.prefetch, perMessage, bytesPerMessage, sinceChange);
    if (revised.isEmpty()) {
      return this;
    }
    int next = revised.getAsInt();
    getContext().getLog().info(
        "tenant {}: message prefetch {} -> {} ({} records and {} bytes per message lately: up to {} records held instead of {}); starting a new consumer",
        tenantId, running.prefetch, next, String.format(Locale.ROOT, "%.1f", perMessage), Math.round(bytesPerMessage),
        Math.round(next * perMessage), Math.round(running.prefetch * perMessage));
    nextPrefetch = next;
    lastPrefetchChange = now;
    savedRecordsPerMessage = perMessage;
    savedBytesPerMessage = bytesPerMessage;
    getContext()
        .pipeToSelf(
            updateState(Updates.combine(Updates.set("recordsPerMessage", perMessage), Updates.set("bytesPerMessage", bytesPerMessage),
                Updates.set("prefetch", next), Updates.set("prefetchChangedAt", new Date()))),
            (ok, failure) -> new PrefetchSaved(failure == null ? null : failure.toString()));
    drainStream();
    return this;
  }

  private Behavior<Command> onQueueMissing() {
    if (state != State.STARTED || running == null || nextPrefetch != null || handingOff) {
      return this;
    }
    getContext().getLog().warn("tenant {}: a publish found its queue gone; starting the stream again, which declares it", tenantId);
    StreamTopology.get(getContext().getSystem()).forget(tenantId);
    nextPrefetch = running.prefetch;
    drainStream();
    return this;
  }

  private void drainStream() {
    if (running != null) {
      running.drain();
      timers.startSingleTimer(new DrainTimedOut(generation), settings.drainTimeout());
    }
  }

  private Behavior<Command> onDrain() {
    handingOff = true;
    stash.clear();
    if (running == null) {
      leaveNode();
      replyStopped();
      return Behaviors.stopped();
    }
    if (state == State.STARTED) {
      drainStream();
      state = State.STOPPING;
    }
    return this;
  }

  private Behavior<Command> onEnded(Ended ended) {
    if (ended.generation() != generation) {
      return this;
    }
    Integer prefetch = nextPrefetch;
    nextPrefetch = null;
    running = null;
    timers.cancel(new DrainTimedOut(ended.generation()));
    if (ended.failure() != null) {
      metrics.lastError = ended.failure();
    }
    if (slot != null) {
      slot.prefetch = 0;
    }
    if (handingOff) {
      leaveNode();
      replyStopped();
      getContext().getLog().info("tenant {}: stream drained for hand-off from {}", tenantId, node);
      return Behaviors.stopped();
    }
    if (state == State.STOPPING) {
      leaveNode();
      state = State.STOPPED;
      getContext().getLog().info("tenant {}: stream stopped", tenantId);
      replyStopped();
    } else if (state == State.STARTED && prefetch != null) {
      startStream(prefetch);
    } else if (state == State.STARTED) {
      // The source ended without being asked (e.g. the broker cancelled the consumer): start again.
      getContext().getLog().warn("tenant {}: the stream ended on its own ({}); starting it again in {}", tenantId, ended.failure(), RETRY);
      timers.startSingleTimer(Retry.INSTANCE, RETRY);
    }
    return this;
  }

  private Behavior<Command> onDrainTimedOut(DrainTimedOut timedOut) {
    if (timedOut.generation() == generation && running != null) {
      getContext().getLog().warn("tenant {}: the stream did not drain within {}; closing it (un-acked messages return to the queue)", tenantId, settings.drainTimeout());
      running.abort("drain timed out");
    }
    return this;
  }

  private void replyStopped() {
    Status status = status();
    stopReplies.forEach(r -> r.tell(StatusReply.success(status)));
    stopReplies.clear();
  }

  private Behavior<Command> onGetStatus(GetStatus get) {
    if (state == State.LOADING) {
      stash.stash(get);
    } else {
      get.replyTo().tell(status());
    }
    return this;
  }

  private Status status() {
    String name = switch (state) {
      case LOADING -> "loading";
      case STOPPED -> "stopped";
      case STARTED -> "started";
      case STOPPING -> "stopping";
    };
    return new Status(
        name,
        node,
        metrics.consumed.get(),
        metrics.stored.get(),
        metrics.duplicates.get(),
        metrics.failed.get(),
        metrics.percentile(50),
        metrics.percentile(99),
        metrics.lastError,
        meter().recordsPerMessage(),
        running == null ? 0 : running.prefetch);
  }
}
