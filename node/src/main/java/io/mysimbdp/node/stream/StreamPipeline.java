package io.mysimbdp.node.stream;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.japi.Pair;
import akka.pattern.Patterns;
import akka.stream.ActorAttributes;
import akka.stream.KillSwitches;
import akka.stream.RestartSettings;
import akka.stream.SharedKillSwitch;
import akka.stream.UniqueKillSwitch;
import akka.stream.alpakka.amqp.NamedQueueSourceSettings;
import akka.stream.alpakka.amqp.javadsl.AmqpSource;
import akka.stream.alpakka.amqp.javadsl.CommittableReadResult;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.node.broker.ConsumerConnections;
import io.mysimbdp.node.functions.CategoryFunctions;
import io.mysimbdp.node.pipeline.DeadLetters;
import io.mysimbdp.node.pipeline.DeadLetters.DeadLetter;
import io.mysimbdp.node.pipeline.Documents;
import io.mysimbdp.node.pipeline.PipelineParts;
import io.mysimbdp.node.pipeline.RecordWriter;
import io.mysimbdp.node.report.TenantMeter;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tenant's consuming stream:
 *
 * <pre>
 * RestartSource.onFailuresWithBackoff(                 jittered: streams failing together restart apart
 *   committableSource(tenant's queue, prefetch)       a channel of its own on a shared connection
 *                                                      ({@link ConsumerConnections}); the prefetch is
 *                                                      fixed for the run (a new one: a new run)
 *   → drain switch                                     stop/hand-off: no new messages, finish the rest
 *   → parse                                            envelope, batch or bare record; bytes counted held
 *   → batch (records and bytes, while writes are in flight; no timer)
 *   → function by category → bulk idempotent write, dead letters    (bounded parallelism)
 *   → ack the batch's last delivery with multiple=true (after its write, in order)
 * ) → hard-stop switch → ignore
 * </pre>
 *
 * <p>Alpakka's source counts one outstanding ack per {@code ack(multiple)} call, so it never sees
 * its batches as fully acked and would keep its channel after a drain: each incarnation closes its
 * own channel when its stream ends (gracefully, after the acks it sent; un-acked messages go back to
 * the queue), never the connection the other tenants share. A failure anywhere (store unreachable
 * after retries, broker gone, an ack that timed out, the queue deleted) ends the incarnation the same
 * way, and the restart redelivers what was not acked.
 */
final class StreamPipeline {
  private static final Logger log = LoggerFactory.getLogger(StreamPipeline.class);

  /** A running stream: {@link #drain} finishes in-flight work, {@link #abort} drops it. */
  static final class Running {
    private final SharedKillSwitch drainSwitch;
    private final UniqueKillSwitch hardSwitch;
    private final AtomicReference<ConsumerConnections.Lease> current;
    /** Messages the broker sends ahead to this run's consumer (basic.qos). */
    final int prefetch;
    final CompletionStage<Done> done;
    /** When the stream took its first message (how a move's hand-off time is measured). */
    final CompletionStage<Instant> firstConsumed;

    Running(SharedKillSwitch drainSwitch, UniqueKillSwitch hardSwitch, AtomicReference<ConsumerConnections.Lease> current, int prefetch,
        CompletionStage<Done> done, CompletionStage<Instant> firstConsumed) {
      this.firstConsumed = firstConsumed;
      this.prefetch = prefetch;
      this.drainSwitch = drainSwitch;
      this.hardSwitch = hardSwitch;
      this.current = current;
      this.done = done;
    }

    void drain() {
      drainSwitch.shutdown();
    }

    void abort(String why) {
      hardSwitch.abort(new IllegalStateException(why));
      ConsumerConnections.Lease lease = current.get();
      if (lease != null) {
        lease.close();
      }
    }
  }

  /** How long a finished stream's source has to close its channel before it is closed for it. */
  private static final Duration CHANNEL_RELEASE_GRACE = Duration.ofSeconds(2);
  /** The scale of a batch's cost: a batch is full at this much of its record or byte bound. */
  private static final long FULL_BATCH = 1_000_000L;

  private final ActorSystem<?> system;
  private final String tenantId;
  private final StreamSettings settings;
  private final StreamTopology topology;
  private final PipelineParts parts;
  private final ConsumerConnections connections;
  private final StreamMetrics metrics;
  private final TenantMeter meter;
  private final NodeStreams.Started started;
  private final PrefetchPolicy policy;
  private final int prefetch;
  private final CompletableFuture<Instant> firstConsumed = new CompletableFuture<>();
  /** Whether this run asked its worker to lower the prefetch for the bytes it holds. */
  private final AtomicBoolean askedForLowerPrefetch = new AtomicBoolean();
  /** Whether this run's first stored batch was measured against its prefetch. */
  private final AtomicBoolean firstBatchMeasured = new AtomicBoolean();

  /** A stream whose consumer takes up to {@code prefetch} unacknowledged messages. */
  StreamPipeline(
      ActorSystem<?> system, String tenantId, StreamMetrics metrics, NodeStreams.Started started, int prefetch, PipelineParts parts,
      TenantMeter meter) {
    this.system = system;
    this.prefetch = prefetch;
    this.tenantId = tenantId;
    this.topology = StreamTopology.get(system);
    this.settings = topology.settings();
    this.parts = parts;
    this.connections = ConsumerConnections.get(system);
    this.metrics = metrics;
    this.started = started;
    this.policy = NodeStreams.get(system).policy();
    this.meter = meter;
  }

  Running run() {
    SharedKillSwitch drainSwitch = KillSwitches.shared("stream-drain-" + tenantId);
    AtomicReference<ConsumerConnections.Lease> current = new AtomicReference<>();
    RestartSettings restart =
        RestartSettings.create(settings.restartMinBackoff(), settings.restartMaxBackoff(), settings.restartRandomFactor());
    Pair<UniqueKillSwitch, CompletionStage<Done>> materialized =
        RestartSource.onFailuresWithBackoff(restart, () -> incarnation(drainSwitch, current))
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(Sink.ignore(), Keep.both())
            .run(system);
    return new Running(drainSwitch, materialized.first(), current, prefetch, materialized.second(), firstConsumed);
  }

  private Source<Done, ?> incarnation(SharedKillSwitch drainSwitch, AtomicReference<ConsumerConnections.Lease> current) {
    ConsumerConnections.Lease lease = connections.lease("mysimbdp-stream-" + tenantId);
    current.set(lease);
    // Bytes this run took and did not ack: given back to the node's count when it ends.
    AtomicLong held = new AtomicLong();
    NamedQueueSourceSettings source = NamedQueueSourceSettings.create(lease, settings.queue(tenantId));
    Source<Done, ?> pipeline =
        AmqpSource.committableSource(source, prefetch)
            .withAttributes(ActorAttributes.dispatcher("akka.actor.default-blocking-io-dispatcher"))
            .via(drainSwitch.flow())
            .map(message -> parse(message, held))
            // Batches fill while the writes ahead are in flight: no timer, so an idle stream is free.
            .batchWeighted(FULL_BATCH, this::cost, StreamPipeline::firstOfBatch, StreamPipeline::addToBatch)
            .mapAsync(settings.writeParallelism(), this::store)
            .mapAsync(1, batch -> ack(batch, held));
    return Source.completionStageSource(topology.ensure(tenantId).thenApply(ok -> pipeline))
        .watchTermination(
            (mat, finished) -> {
              finished.whenComplete(
                  (ok, failure) -> {
                    started.acked(held.getAndSet(0));
                    if (failure != null) {
                      metrics.lastError = failure.toString();
                      topology.forget(tenantId);
                      log.warn("the stream of tenant {} failed, restarting with backoff: {}", tenantId, failure.toString());
                    }
                    // The source (its own async island) closes its channel and releases the lease
                    // in its postStop, which runs after this: closing the channel now could race
                    // with it. This only catches a channel the source kept (un-acked deliveries
                    // it holds, or acks it counts as outstanding).
                    system.scheduler().scheduleOnce(CHANNEL_RELEASE_GRACE, lease::close, system.executionContext());
                  });
              return mat;
            });
  }

  /** A batch's share of its bounds: records against batch-size, bytes against batch-bytes, the larger. */
  private long cost(Delivery d) {
    long byRecords = FULL_BATCH * Math.max(1, d.parsed().size()) / Math.max(1, settings.consumeBatchSize());
    long byBytes = FULL_BATCH * d.bytes() / Math.max(1, settings.consumeBatchBytes());
    return Math.max(1, Math.max(byRecords, byBytes));
  }

  private static List<Delivery> firstOfBatch(Delivery d) {
    List<Delivery> batch = new ArrayList<>();
    batch.add(d);
    return batch;
  }

  private static List<Delivery> addToBatch(List<Delivery> batch, Delivery d) {
    batch.add(d);
    return batch;
  }

  /** One delivery, read. */
  private record Delivery(CommittableReadResult message, StreamMessages.Parsed parsed, long bytes) {}

  private Delivery parse(CommittableReadResult message, AtomicLong held) {
    if (!firstConsumed.isDone()) {
      firstConsumed.complete(Instant.now());
    }
    byte[] body = message.message().bytes().toArray();
    held.addAndGet(body.length);
    started.took(body.length);
    if (policy.holdsTooManyBytes(prefetch, started.bytesPerMessage()) && askedForLowerPrefetch.compareAndSet(false, true)) {
      // Not at the node's next check: what this prefetch lets the broker send is too much now.
      started.ingestor.tell(StreamIngestor.CheckPrefetch.INSTANCE);
    }
    return new Delivery(message, StreamMessages.parse(tenantId, body, message.message().properties()), body.length);
  }

  private CompletionStage<List<Delivery>> store(List<Delivery> batch) {
    List<DeadLetter> letters = new ArrayList<>();
    List<StreamMessages.Item> items = new ArrayList<>();
    for (Delivery delivery : batch) {
      items.addAll(delivery.parsed().items());
      for (StreamMessages.Failure f : delivery.parsed().failures()) {
        letters.add(letter(f.letterId(), f.id(), f.position(), DeadLetters.Stage.PARSE, f.reason(), f.raw()));
      }
    }
    long consumed = items.size() + letters.size();
    long bytes = 0;
    for (Delivery delivery : batch) {
      bytes += delivery.bytes();
    }
    long bytesIn = bytes;
    Map<String, CompletableFuture<Resolved>> routes = new HashMap<>();
    for (StreamMessages.Item item : items) {
      routes.computeIfAbsent(item.category(), c -> resolve(c).toCompletableFuture());
    }
    // A lookup that failed (the store unreachable) fails the batch after its retries: nothing is
    // acked, the stream restarts and the messages come back. Only "no function" is for good.
    CompletableFuture<Void> resolved = CompletableFuture.allOf(routes.values().toArray(CompletableFuture[]::new));
    return resolved
        .thenCompose(ok -> parts.functionExecutor().submit(tenantId, () -> apply(items, routes, letters)))
        .thenCompose(this::write)
        .thenCompose(
            written ->
                retrying(() -> parts.deadLetters().store(tenantId, letters), "store dead letters")
                    .thenApply(
                        ok -> {
                          metrics.consumed.addAndGet(consumed);
                          metrics.failed.addAndGet(letters.size());
                          metrics.stored.addAndGet(written.stored);
                          metrics.duplicates.addAndGet(written.duplicates);
                          meter.recordIn(TenantMeter.Source.STREAM, consumed, bytesIn);
                          meter.recordDelivered(batch.size(), consumed);
                          if (firstBatchMeasured.compareAndSet(false, true) && started.wantsOtherPrefetch(policy, Instant.now())) {
                            // A consumer started on assumed sizes (a new tenant: a prefetch of 1) gets
                            // its own from its first batch, not at the node's next check, seconds later.
                            started.ingestor.tell(StreamIngestor.CheckPrefetch.INSTANCE);
                          }
                          meter.recordErrors(letters.size());
                          long now = System.currentTimeMillis();
                          for (StreamMessages.Item item : items) {
                            if (item.sentAt() != null) {
                              metrics.recordLatency(now - item.sentAt().toEpochMilli());
                              meter.recordLatency(now - item.sentAt().toEpochMilli(), 1);
                            }
                          }
                          if (!letters.isEmpty()) {
                            log.info("tenant {}: {} stream message(s) dead-lettered, first: {}", tenantId, letters.size(), letters.get(0).reason());
                          }
                          return batch;
                        }));
  }

  /** A category's route, or why it has none (for good: the category has no function). */
  private record Resolved(CategoryFunctions.Route route, String noFunction) {}

  /** The category's route; a failed lookup (not "no function") is retried, then fails. */
  private CompletionStage<Resolved> resolve(String category) {
    return retrying(
        () -> parts.categories().resolve(tenantId, category).handle((route, e) -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause == null) {
            return new Resolved(route, null);
          }
          if (cause instanceof CategoryFunctions.NoFunction) {
            return new Resolved(null, cause.getMessage());
          }
          throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        }),
        "look up the function of category '" + category + "'");
  }

  /** The output record an item's function gave, by its index among the item's outputs. */
  private record Output(StreamMessages.Item item, int index) {}

  /** The records to write per collection, and for each record the item it came from. */
  private record Outputs(Map<String, List<Document>> documents, Map<String, List<Output>> sources, List<DeadLetter> letters) {}

  private Outputs apply(List<StreamMessages.Item> items, Map<String, CompletableFuture<Resolved>> routes, List<DeadLetter> letters) {
    Map<String, List<Document>> documents = new LinkedHashMap<>();
    Map<String, List<Output>> sources = new HashMap<>();
    for (StreamMessages.Item item : items) {
      Resolved resolved = routes.get(item.category()).join();
      if (resolved.route() == null) {
        letters.add(letter(item, DeadLetters.Stage.FUNCTION, "category '" + item.category() + "' has no function: " + resolved.noFunction()));
        continue;
      }
      CategoryFunctions.Route route = resolved.route();
      List<Map<String, Object>> out;
      try {
        out = applyWithRetries(route, item);
      } catch (FunctionException e) {
        letters.add(letter(item, DeadLetters.Stage.FUNCTION, "function '" + route.functionName() + "' rejected the message: " + e.getMessage()));
        continue;
      } catch (RuntimeException e) {
        letters.add(letter(item, DeadLetters.Stage.FUNCTION,
            "function '" + route.functionName() + "' failed " + settings.functionAttempts() + " times: " + e));
        continue;
      }
      List<Document> target = documents.computeIfAbsent(route.collection(), c -> new ArrayList<>());
      List<Output> from = sources.computeIfAbsent(route.collection(), c -> new ArrayList<>());
      FunctionContext context = new FunctionContext(tenantId, item.category(), item.id(), item.position());
      for (int i = 0; i < out.size(); i++) {
        Map<String, Object> record = out.get(i);
        if (record == null) {
          continue;
        }
        String id = tenantId + ":" + item.id() + (i == 0 ? "" : "#" + i);
        QualityRuleSet.Verdict verdict = route.quality().evaluate(record, context);
        switch (verdict.decision()) {
          case ACCEPT -> target.add(Documents.withId(id, record));
          case TAG -> target.add(Documents.withId(id, verdict.tag(record)));
          default -> {
            letters.add(letter("message:" + item.id() + ":quality:" + i, item.id(), item.position(), DeadLetters.Stage.QUALITY,
                "quality rules failed: " + verdict.reasons(), Documents.withId(id, record).toJson(io.mysimbdp.node.pipeline.SealedBson.RELAXED_JSON)));
            continue;
          }
        }
        from.add(new Output(item, i));
      }
    }
    return new Outputs(documents, sources, letters);
  }

  private List<Map<String, Object>> applyWithRetries(CategoryFunctions.Route route, StreamMessages.Item item) throws FunctionException {
    FunctionContext context = new FunctionContext(tenantId, item.category(), item.id(), 0);
    RuntimeException last = null;
    for (int attempt = 1; attempt <= Math.max(1, settings.functionAttempts()); attempt++) {
      try {
        List<Map<String, Object>> out = route.function().apply(item.data(), context);
        return out == null ? List.of() : out;
      } catch (RuntimeException e) {
        last = e;
      }
    }
    throw last;
  }

  private record Written(long stored, long duplicates) {}

  private CompletionStage<Written> write(Outputs outputs) {
    CompletionStage<Written> all = CompletableFuture.completedFuture(new Written(0, 0));
    for (Map.Entry<String, List<Document>> entry : outputs.documents().entrySet()) {
      String collection = entry.getKey();
      List<Document> docs = entry.getValue();
      List<Output> from = outputs.sources().get(collection);
      all =
          all.thenCompose(
              sofar ->
                  retrying(() -> parts.writer().write(tenantId, collection, docs), "write records")
                      .thenApply(
                          (RecordWriter.Outcome outcome) -> {
                            meter.recordStored(collection, outcome.stored());
                            for (RecordWriter.Rejected rejected : outcome.rejected()) {
                              Output output = from.get(rejected.index());
                              // One id per output: two refused outputs of one message are two letters.
                              outputs.letters().add(letter(output.item(), "message:" + output.item().id() + ":write:" + output.index(),
                                  DeadLetters.Stage.WRITE, "the store refused the record: " + rejected.reason()));
                            }
                            return new Written(sofar.stored + outcome.stored(), sofar.duplicates + outcome.alreadyStored());
                          }));
    }
    return all;
  }

  private <T> CompletionStage<T> retrying(java.util.concurrent.Callable<CompletionStage<T>> attempt, String what) {
    return Patterns.retry(
        () -> attempt.call().whenComplete((ok, e) -> {
          if (e != null) {
            log.warn("tenant {}: could not {} (will retry): {}", tenantId, what, e.toString());
          }
        }),
        Math.max(1, settings.writeAttempts()),
        Duration.ofMillis(200),
        Duration.ofSeconds(5),
        0.2,
        Adapter.toClassic(system).scheduler(),
        system.executionContext());
  }

  private CompletionStage<Done> ack(List<Delivery> batch, AtomicLong held) {
    Delivery last = batch.get(batch.size() - 1);
    long bytes = 0;
    for (Delivery d : batch) {
      bytes += d.bytes();
    }
    // Counted released as the ack is sent (a continuation on the ack was seen to slow consuming).
    held.addAndGet(-bytes);
    started.acked(bytes);
    return last.message()
        .ack(true)
        .toCompletableFuture()
        .orTimeout(settings.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private DeadLetter letter(StreamMessages.Item item, DeadLetters.Stage stage, String reason) {
    return letter(item, "message:" + item.id(), stage, reason);
  }

  private DeadLetter letter(StreamMessages.Item item, String letterId, DeadLetters.Stage stage, String reason) {
    String raw;
    try {
      raw = io.mysimbdp.protocol.ProtocolJson.JSON.writeValueAsString(item.data());
    } catch (IOException e) {
      raw = String.valueOf(item.data());
    }
    if (stage == DeadLetters.Stage.FUNCTION) {
      // Kept whole (bounded by DeadLetters), with its category, to be replayed once the function is fixed.
      return new DeadLetter(letterId, "message", item.id(), settings.queue(tenantId), item.position(), -1, stage, reason, raw,
          item.category(), raw);
    }
    return letter(letterId, item.id(), item.position(), stage, reason, raw);
  }

  private DeadLetter letter(String letterId, String messageId, int position, DeadLetters.Stage stage, String reason, String raw) {
    return new DeadLetter(letterId, "message", messageId, settings.queue(tenantId), position, -1, stage, reason, raw);
  }
}
