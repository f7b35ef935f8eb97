package io.mysimbdp.node.entity;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.Adapter;
import akka.cluster.ddata.DistributedData;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.ShardingMessageExtractor;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.cluster.typed.Cluster;
import akka.util.Timeout;
import io.mysimbdp.node.CborSerializable;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.batch.BatchIngestor;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.protocol.TenantStats;
import io.mysimbdp.node.stream.StreamIngestor;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * One sharded entity per tenant (entity id = tenant id, one shard per tenant so that a tenant can
 * be moved alone). It owns the tenant's ingestion on whichever node Cluster Sharding places it:
 * each kind of work (batch jobs, the stream consumer) is a child worker. On {@link HandOff} every
 * worker drains (finishes and acknowledges what is in flight, checkpoints) and stops; then the
 * entity stops and sharding starts it on its new node, where the workers resume.
 */
public final class TenantIngestor extends AbstractBehavior<TenantIngestor.Command> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "TenantIngestor");

  public interface Command extends CborSerializable {}

  /** Asks where the tenant's ingestor runs. */
  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** Starts the entity (and so resumes its workers) without asking anything of it. */
  public enum Wake implements Command {
    INSTANCE
  }

  /** A command for the tenant's batch worker. */
  public record ToBatch(BatchIngestor.Command command) implements Command {}

  /**
   * A job was stored for the tenant: its batch worker takes it up. Answered once the entity has
   * it, so that the request that stored the job answers 202 only when the job will run.
   */
  public record QueueJob(String jobId, ActorRef<Done> replyTo) implements Command {}

  /** Messages were published for the tenant (told by the node that took them): its reporter reads its queue. */
  public enum MessagesPublished implements Command {
    INSTANCE
  }

  /** A command for the tenant's stream consumer. */
  public record ToStream(StreamIngestor.Command command) implements Command {}

  /** Sent by sharding before the entity moves or its node leaves: drain the workers, then stop. */
  public enum HandOff implements Command {
    INSTANCE
  }

  public record Status(String tenant, String node, Instant startedAt) implements CborSerializable {}

  /** Asks for the tenant's live figures on its node. */
  public record GetStats(ActorRef<Stats> replyTo) implements Command {}

  public record Stats(TenantStats stats) implements CborSerializable {}

  /** From the stream worker: its consumer took its first message here; the balancer hears it. */
  private record StreamConsuming(StreamIngestor.ConsumingStarted started) implements Command {}
  /** What every tenant's entity on a node shares: handed to each when sharding starts it. */
  public record Dependencies(IngestionServices services, ActorRef<LoadBalancer.Command> balancer, ActorRef<NodeReporter.Command> reporter) {}

  /** Registers the entity type with sharding on this node. */
  public static void init(ActorSystem<?> system, Dependencies deps) {
    // Shard locations live in Distributed Data, read with majority by the load balancer: every
    // node must run the replicator, not only those that happened to use it.
    DistributedData.get(Adapter.toClassic(system));
    ClusterSharding.get(system)
        .init(
            Entity.of(ENTITY_KEY, entityContext -> create(entityContext.getEntityId(), deps))
                .withMessageExtractor(new OneShardPerTenant())
                .withStopMessage(HandOff.INSTANCE)
                // The load balancer places shards (tenants) on nodes by setting their location.
                .withAllocationStrategy(new IndexedExternalAllocation(system, ENTITY_KEY.name(), Timeout.create(Duration.ofSeconds(5)))));
  }

  public static Behavior<Command> create(String tenantId, Dependencies deps) {
    return Behaviors.setup(context -> new TenantIngestor(context, tenantId, deps));
  }

  private final String tenantId;
  private final String node;
  private final Instant startedAt = Instant.now();
  /** Each worker and how to ask it to drain. */
  private final Map<ActorRef<?>, Runnable> workers = new HashMap<>();
  private final ActorRef<BatchIngestor.Command> batch;
  private final ActorRef<StreamIngestor.Command> stream;
  /** The tenant's figures on this node: its workers record into it, the node's reporter reads it. */
  private final TenantMeter meter;
  private final ActorRef<LoadBalancer.Command> balancer;
  private final ActorRef<NodeReporter.Command> reporter;

  private TenantIngestor(ActorContext<Command> context, String tenantId, Dependencies deps) {
    super(context);
    this.tenantId = tenantId;
    this.node = Cluster.get(context.getSystem()).selfMember().address().toString();
    this.meter = new TenantMeter(tenantId);
    this.reporter = deps.reporter();
    this.balancer = deps.balancer();
    this.batch = spawnWorker(BatchIngestor.create(tenantId, deps.services().batch(), meter), "batch", BatchIngestor.Drain.INSTANCE);
    this.stream = spawnWorker(
        StreamIngestor.create(
            tenantId, meter, deps.services().pipelineParts(), context.messageAdapter(StreamIngestor.ConsumingStarted.class, StreamConsuming::new)),
        "stream", StreamIngestor.Drain.INSTANCE);
    // The node's reporter reports this tenant with all the others of the node, on one timer.
    reporter.tell(new NodeReporter.Register(meter));
    balancer.tell(new LoadBalancer.Started(tenantId, node, startedAt));
    context.getLog().debug("tenant ingestor for {} started on {}", tenantId, node);
  }

  /**
   * Spawns a worker, restarted by this entity with back-off when it fails ({@link
   * #restartedWithBackoff}), and drained on hand-off by sending it {@code drainMessage}.
   */
  private <T> ActorRef<T> spawnWorker(Behavior<T> behavior, String name, T drainMessage) {
    ActorRef<T> worker = getContext().spawn(restartedWithBackoff(behavior), name);
    getContext().watch(worker);
    workers.put(worker, () -> worker.tell(drainMessage));
    return worker;
  }

  /**
   * A worker that throws starts again after a pause growing from 1 s to 30 s (each worker resumes
   * from the store: unfinished jobs, the stream's state), its messages meanwhile kept (up to
   * {@value #WORKER_STASH} of them, then dropped with a log line: senders of work retry). The
   * tenant's other worker and the entity go on.
   */
  static <T> Behavior<T> restartedWithBackoff(Behavior<T> worker) {
    return Behaviors.supervise(worker)
        .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2).withStashCapacity(WORKER_STASH));
  }

  static final int WORKER_STASH = 1000;

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(GetStats.class, this::onGetStats)
        .onMessageEquals(Wake.INSTANCE, () -> this)
        .onMessage(ToBatch.class, command -> {
          batch.tell(command.command());
          return this;
        })
        .onMessageEquals(MessagesPublished.INSTANCE, () -> {
          meter.published();
          return this;
        })
        .onMessage(QueueJob.class, queue -> {
          batch.tell(new BatchIngestor.JobQueued(queue.jobId()));
          queue.replyTo().tell(Done.getInstance());
          return this;
        })
        .onMessage(ToStream.class, command -> {
          stream.tell(command.command());
          return this;
        })
        .onMessage(StreamConsuming.class, consuming -> {
          StreamIngestor.ConsumingStarted started = consuming.started();
          balancer.tell(new LoadBalancer.Consuming(tenantId, node, started.at(), started.backlog()));
          return this;
        })
        .onMessageEquals(HandOff.INSTANCE, this::onHandOff)
        .onSignal(Terminated.class, this::onWorkerStopped)
        .onSignal(PostStop.class, signal -> closeMeter())
        .build();
  }

  private Behavior<Command> onGetStats(GetStats command) {
    TenantMeter.Totals totals = meter.totals();
    command.replyTo().tell(new Stats(new TenantStats(
        tenantId, node, startedAt, totals.recordsIn(), totals.bytesIn(), totals.recordsOut(), totals.errors(), totals.streamRecords(),
        totals.batchRecords(), meter.throughputOver(10), meter.throughputOver(60), meter.totalLatencyAt(50), meter.totalLatencyAt(99),
        meter.lastReport())));
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus command) {
    command.replyTo().tell(new Status(tenantId, node, startedAt));
    return this;
  }

  /** The tenant no longer runs here: its last interval is reported, and this node's metrics stop showing it. */
  private Behavior<Command> closeMeter() {
    reporter.tell(new NodeReporter.Unregister(meter));
    return Behaviors.same();
  }

  private Behavior<Command> onWorkerStopped(Terminated terminated) {
    // A failing worker is restarted where it is (restartedWithBackoff); one that stops on its own
    // outside a hand-off is done for good, so the entity stops too and starts again at its next message or wake.
    workers.remove(terminated.getRef());
    getContext().getLog().warn("a worker of tenant {} stopped unexpectedly: {}; restarting the tenant's ingestor", tenantId, terminated.getRef().path().name());
    return Behaviors.stopped();
  }

  private Behavior<Command> onHandOff() {
    getContext().getLog().debug("tenant ingestor for {} handing off from {} ({} workers to drain)", tenantId, node, workers.size());
    if (workers.isEmpty()) {
      return Behaviors.stopped();
    }
    workers.values().forEach(Runnable::run);
    return draining();
  }

  private Behavior<Command> draining() {
    return Behaviors.receive(Command.class)
        .onMessage(GetStatus.class, command -> {
          command.replyTo().tell(new Status(tenantId, node, startedAt));
          return Behaviors.same();
        })
        .onSignal(
            Terminated.class,
            terminated -> {
              workers.remove(terminated.getRef());
              return workers.isEmpty() ? Behaviors.stopped() : Behaviors.same();
            })
        .onSignal(PostStop.class, signal -> closeMeter())
        .build();
  }

  /** One shard per tenant: the shard id is the tenant id. */
  static final class OneShardPerTenant extends ShardingMessageExtractor<ShardingEnvelope<Command>, Command> {
    @Override
    public String entityId(ShardingEnvelope<Command> envelope) {
      return envelope.entityId();
    }

    @Override
    public String shardId(String entityId) {
      return entityId;
    }

    @Override
    public Command unwrapMessage(ShardingEnvelope<Command> envelope) {
      return envelope.message();
    }
  }
}
