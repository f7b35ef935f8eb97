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
import akka.stream.alpakka.amqp.AmqpConnectionProvider;
import akka.stream.alpakka.amqp.NamedQueueSourceSettings;
import akka.stream.alpakka.amqp.javadsl.AmqpSource;
import akka.stream.alpakka.amqp.javadsl.CommittableReadResult;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RestartSource;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.node.broker.Broker;
import io.mysimbdp.node.ingest.CategoryFunctions;
import io.mysimbdp.node.ingest.DeadLetters;
import io.mysimbdp.node.ingest.DeadLetters.DeadLetter;
import io.mysimbdp.node.ingest.Documents;
import io.mysimbdp.node.ingest.IngestionServices;
import io.mysimbdp.node.ingest.RecordWriter;
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
import java.util.concurrent.atomic.AtomicReference;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tenant's consuming stream:
 *
 * <pre>
 * RestartSource.onFailuresWithBackoff(
 *   committableSource(tenant's queue, prefetch)       its own connection, per incarnation; the
 *                                                      prefetch is fixed for the run (a new one: a new run)
 *   → drain switch                                     stop/hand-off: no new messages, finish the rest
 *   → parse                                            envelope, batch or bare record
 *   → batch (by messages, within a window)
 *   → function by category → bulk idempotent write, dead letters    (bounded parallelism)
 *   → ack the batch's last delivery with multiple=true (after its write, in order)
 * ) → hard-stop switch → ignore
 * </pre>
 *
 * <p>Alpakka's source counts one outstanding ack per {@code ack(multiple)} call, so it never sees
 * its batches as fully acked and would keep its connection after a drain: each incarnation closes
 * its own connection when its stream ends (gracefully, after the acks it sent; un-acked messages go
 * back to the queue). A failure anywhere (store unreachable after retries, broker gone, an ack that
 * timed out) ends the incarnation the same way, and the restart redelivers what was not acked.
 */
final class StreamPipeline {
  private static final Logger log = LoggerFactory.getLogger(StreamPipeline.class);

  /** A running stream: {@link #drain} finishes in-flight work, {@link #abort} drops it. */
  static final class Running {
    private final SharedKillSwitch drainSwitch;
    private final UniqueKillSwitch hardSwitch;
    private final AtomicReference<TrackedConnectionProvider> current;
    /** Messages the broker sends ahead to this run's consumer (basic.qos). */
    final int prefetch;
    final CompletionStage<Done> done;
    /** When the stream took its first message (how a move's hand-off time is measured). */
    final CompletionStage<Instant> firstConsumed;

    Running(SharedKillSwitch drainSwitch, UniqueKillSwitch hardSwitch, AtomicReference<TrackedConnectionProvider> current, int prefetch,
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
      TrackedConnectionProvider provider = current.get();
      if (provider != null) {
        provider.close();
      }
    }
  }

  /** How long a finished stream's source has to release its connection before it is closed for it. */
  private static final Duration CONNECTION_RELEASE_GRACE = Duration.ofSeconds(2);

  private final ActorSystem<?> system;
  private final String tenantId;
  private final StreamSettings settings;
  private final StreamTopology topology;
  private final IngestionServices services;
  private final ConnectionFactory factory;
  private final StreamMetrics metrics;
  private final TenantMeter meter;
  private final int prefetch;
  private final CompletableFuture<Instant> firstConsumed = new CompletableFuture<>();

  /** A stream whose consumer takes up to {@code prefetch} unacknowledged messages. */
  StreamPipeline(ActorSystem<?> system, String tenantId, StreamMetrics metrics, int prefetch, TenantMeter meter) {
    this.system = system;
    this.prefetch = prefetch;
    this.tenantId = tenantId;
    this.topology = StreamTopology.get(system);
    this.settings = topology.settings();
    this.services = IngestionServices.get(system);
    this.factory = Broker.get(system).connectionFactory();
    this.metrics = metrics;
    this.meter = meter;
  }

  Running run() {
    SharedKillSwitch drainSwitch = KillSwitches.shared("stream-drain-" + tenantId);
    AtomicReference<TrackedConnectionProvider> current = new AtomicReference<>();
    RestartSettings restart =
        RestartSettings.create(settings.restartMinBackoff(), settings.restartMaxBackoff(), 0.2);
    Pair<UniqueKillSwitch, CompletionStage<Done>> materialized =
        RestartSource.onFailuresWithBackoff(restart, () -> incarnation(drainSwitch, current))
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(Sink.ignore(), Keep.both())
            .run(system);
    return new Running(drainSwitch, materialized.first(), current, prefetch, materialized.second(), firstConsumed);
  }

  private Source<Done, ?> incarnation(SharedKillSwitch drainSwitch, AtomicReference<TrackedConnectionProvider> current) {
    TrackedConnectionProvider provider =
        new TrackedConnectionProvider(factory, "mysimbdp-stream-" + tenantId, system.dispatchers().lookup(akka.actor.typed.DispatcherSelector.blocking()));
    current.set(provider);
    NamedQueueSourceSettings source = NamedQueueSourceSettings.create(provider, settings.queue(tenantId));
    Source<Done, ?> pipeline =
        AmqpSource.committableSource(source, prefetch)
            .withAttributes(ActorAttributes.dispatcher("akka.actor.default-blocking-io-dispatcher"))
            .via(drainSwitch.flow())
            .map(this::parse)
            .groupedWeightedWithin(settings.consumeBatchSize(), d -> (long) Math.max(1, d.parsed().size()), settings.consumeBatchWindow())
            .mapAsync(settings.writeParallelism(), this::store)
            .mapAsync(1, this::ack);
    return Source.completionStageSource(topology.ensure(tenantId).thenApply(ok -> pipeline))
        .watchTermination(
            (mat, finished) -> {
              finished.whenComplete(
                  (ok, failure) -> {
                    if (failure != null) {
                      metrics.lastError = failure.toString();
                      topology.forget(tenantId);
                      log.warn("the stream of tenant {} failed, restarting with backoff: {}", tenantId, failure.toString());
                    }
                    // The source (its own async island) closes its channel and releases the
                    // connection in its postStop, which runs after this: closing the connection
                    // now would fail that channel close (logged at ERROR). This only catches a
                    // connection the source never released.
                    system.scheduler().scheduleOnce(CONNECTION_RELEASE_GRACE, provider::close, system.executionContext());
                  });
              return mat;
            });
  }

  /** One delivery, read. */
  private record Delivery(CommittableReadResult message, StreamMessages.Parsed parsed) {}

  private Delivery parse(CommittableReadResult message) {
    if (!firstConsumed.isDone()) {
      firstConsumed.complete(Instant.now());
    }
    byte[] body = message.message().bytes().toArray();
    return new Delivery(message, StreamMessages.parse(tenantId, body, message.message().properties()));
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
      bytes += delivery.message().message().bytes().size();
    }
    long bytesIn = bytes;
    Map<String, CompletableFuture<CategoryFunctions.Route>> routes = new HashMap<>();
    for (StreamMessages.Item item : items) {
      routes.computeIfAbsent(item.category(), c -> services.categories().resolve(tenantId, c).toCompletableFuture());
    }
    CompletableFuture<Void> resolved =
        CompletableFuture.allOf(routes.values().stream().map(f -> f.handle((r, e) -> null)).toArray(CompletableFuture[]::new));
    return resolved
        .thenCompose(ok -> services.functionExecutor().submit(tenantId, () -> apply(items, routes, letters)))
        .thenCompose(this::write)
        .thenCompose(
            written ->
                retrying(() -> services.deadLetters().store(tenantId, letters), "store dead letters")
                    .thenApply(
                        ok -> {
                          metrics.consumed.addAndGet(consumed);
                          metrics.failed.addAndGet(letters.size());
                          metrics.stored.addAndGet(written.stored);
                          metrics.duplicates.addAndGet(written.duplicates);
                          meter.recordIn(TenantMeter.Source.STREAM, consumed, bytesIn);
                          meter.recordDelivered(batch.size(), consumed);
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

  /** The records to write per collection, and for each record the item it came from. */
  private record Outputs(Map<String, List<Document>> documents, Map<String, List<StreamMessages.Item>> sources, List<DeadLetter> letters) {}

  private Outputs apply(List<StreamMessages.Item> items, Map<String, CompletableFuture<CategoryFunctions.Route>> routes, List<DeadLetter> letters) {
    Map<String, List<Document>> documents = new LinkedHashMap<>();
    Map<String, List<StreamMessages.Item>> sources = new HashMap<>();
    for (StreamMessages.Item item : items) {
      CompletableFuture<CategoryFunctions.Route> routeFuture = routes.get(item.category());
      CategoryFunctions.Route route;
      try {
        route = routeFuture.join();
      } catch (CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        letters.add(letter(item, DeadLetters.Stage.FUNCTION, "category '" + item.category() + "' has no function: " + cause.getMessage()));
        continue;
      }
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
      List<StreamMessages.Item> from = sources.computeIfAbsent(route.collection(), c -> new ArrayList<>());
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
                "quality rules failed: " + verdict.reasons(), Documents.withId(id, record).toJson()));
            continue;
          }
        }
        from.add(item);
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
      List<StreamMessages.Item> from = outputs.sources().get(collection);
      all =
          all.thenCompose(
              sofar ->
                  retrying(() -> services.writer().write(tenantId, collection, docs), "write records")
                      .thenApply(
                          (RecordWriter.Outcome outcome) -> {
                            meter.recordStored(collection, outcome.stored());
                            for (RecordWriter.Rejected rejected : outcome.rejected()) {
                              outputs.letters().add(letter(from.get(rejected.index()), DeadLetters.Stage.WRITE, "the store refused the record: " + rejected.reason()));
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

  private CompletionStage<Done> ack(List<Delivery> batch) {
    Delivery last = batch.get(batch.size() - 1);
    return last.message()
        .ack(true)
        .toCompletableFuture()
        .orTimeout(settings.ackTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private DeadLetter letter(StreamMessages.Item item, DeadLetters.Stage stage, String reason) {
    String raw;
    try {
      raw = io.mysimbdp.protocol.ProtocolJson.JSON.writeValueAsString(item.data());
    } catch (IOException e) {
      raw = String.valueOf(item.data());
    }
    return letter("message:" + item.id(), item.id(), item.position(), stage, reason, raw);
  }

  private DeadLetter letter(String letterId, String messageId, int position, DeadLetters.Stage stage, String reason, String raw) {
    return new DeadLetter(letterId, "message", messageId, settings.queue(tenantId), position, -1, stage, reason, raw);
  }

  /**
   * Opens a connection per source stage, from the node's configured factory (bounded inbound
   * message size, no automatic recovery: the restart does it), and can close it from outside.
   */
  static final class TrackedConnectionProvider implements AmqpConnectionProvider {
    private final ConnectionFactory factory;
    private final String name;
    private final AtomicReference<Connection> connection = new AtomicReference<>();
    /** Where a close waits for the broker's answer. */
    private final java.util.concurrent.Executor blocking;
    private volatile boolean closed;

    TrackedConnectionProvider(ConnectionFactory factory, String name, java.util.concurrent.Executor blocking) {
      this.factory = factory;
      this.name = name;
      this.blocking = blocking;
    }

    @Override
    public Connection get() {
      if (closed) {
        throw new IllegalStateException("the stream stopped before it connected");
      }
      try {
        Connection c = factory.newConnection(name);
        connection.set(c);
        if (closed) {
          close();
        }
        return c;
      } catch (IOException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("could not connect to the AMQP broker: " + e, e);
      }
    }

    @Override
    public void release(Connection c) {
      closeQuietly(c);
    }

    /** Closes the connection (gracefully: after the acks sent on it); unacked messages are requeued. */
    void close() {
      closed = true;
      Connection c = connection.getAndSet(null);
      if (c != null) {
        CompletableFuture.runAsync(() -> closeQuietly(c), blocking);
      }
    }

    private static void closeQuietly(Connection c) {
      try {
        if (c.isOpen()) {
          c.close(5000);
        }
      } catch (IOException | RuntimeException e) {
        c.abort(1000);
      }
    }
  }
}
