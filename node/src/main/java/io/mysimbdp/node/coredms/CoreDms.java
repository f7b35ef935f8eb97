package io.mysimbdp.node.coredms;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.typesafe.config.Config;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.WriteConcern;
import com.mongodb.connection.TransportSettings;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.mysimbdp.node.DaemonThreads;
import io.mysimbdp.node.NodeSettings;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import org.bson.Document;
import org.reactivestreams.Publisher;

/**
 * The core data store ("coredms"): one MongoDB client per node, through the official
 * reactive-streams driver, consumed with Akka Streams. The platform's own database holds tenants;
 * each tenant's data lives in a database of its own.
 */
public final class CoreDms implements Extension {

  public static final ExtensionId<CoreDms> ID =
      new ExtensionId<>() {
        @Override
        public CoreDms createExtension(ActorSystem<?> system) {
          return new CoreDms(system);
        }
      };

  public static CoreDms get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final ActorSystem<?> system;
  private final NodeSettings settings;
  private final MongoClient client;
  private final ExecutorService io;

  private CoreDms(ActorSystem<?> system) {
    this.system = system;
    this.settings = NodeSettings.from(system.settings().config());
    String uri =
        settings
            .mongoUri()
            .orElseThrow(() -> new IllegalStateException("mysimbdp.mongodb.uri is not set and no embedded store was started"));
    Config mongodb = system.settings().config().getConfig("mysimbdp.mongodb");
    // The driver's asynchronous sockets complete on this pool, not on the JVM's default channel
    // group, whose cached pool starts a thread for every completion that finds none idle.
    this.io = Executors.newFixedThreadPool(mongodb.getInt("io-threads"), DaemonThreads.named("mysimbdp-mongodb-io-"));
    this.client =
        MongoClients.create(
            MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(uri))
                .transportSettings(TransportSettings.asyncBuilder().executorService(io).build())
                .writeConcern(writeConcern(mongodb))
                .applicationName("mysimbdp-node")
                .applyToClusterSettings(b -> b.serverSelectionTimeout(5, TimeUnit.SECONDS))
                .applyToSocketSettings(b -> b.connectTimeout(5, TimeUnit.SECONDS))
                .build());
    // Closed after the cluster has shut down: entities handing off still write while leaving.
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "close-mongodb-client",
            () -> {
              client.close();
              io.shutdown();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
  }

  /**
   * The write concern of every write, from {@code mysimbdp.mongodb}: {@code write-concern}
   * ("majority", a number of members, or a tag set name), {@code journal}, {@code write-timeout}.
   * An unacknowledged write ({@code w: 0}) is refused: the stream acks a message to the broker once
   * its write is answered, so the answer must mean the write is stored.
   */
  public static WriteConcern writeConcern(Config mongodb) {
    String w = mongodb.getString("write-concern").strip();
    WriteConcern base;
    if (w.equalsIgnoreCase("majority")) {
      base = WriteConcern.MAJORITY;
    } else if (w.matches("[0-9]+")) {
      int members = Integer.parseInt(w);
      if (members < 1) {
        throw new IllegalArgumentException("mysimbdp.mongodb.write-concern must acknowledge writes (\"majority\" or >= 1), not " + w);
      }
      base = new WriteConcern(members);
    } else if (!w.isEmpty()) {
      base = new WriteConcern(w);
    } else {
      throw new IllegalArgumentException("mysimbdp.mongodb.write-concern is empty");
    }
    return base
        .withJournal(mongodb.getBoolean("journal"))
        .withWTimeout(mongodb.getDuration("write-timeout").toMillis(), TimeUnit.MILLISECONDS);
  }

  public MongoDatabase platformDatabase() {
    return client.getDatabase(settings.platformDatabase());
  }

  public MongoDatabase tenantDatabase(String tenantId) {
    return client.getDatabase(settings.tenantDatabase(tenantId));
  }

  /** The single result of a publisher, or empty. */
  public <T> CompletionStage<Optional<T>> first(Publisher<T> publisher) {
    return Source.fromPublisher(publisher).runWith(Sink.headOption(), system);
  }

  /** All results of a publisher; only for bounded results (a page, a small list). */
  public <T> CompletionStage<List<T>> all(Publisher<T> publisher) {
    return Source.fromPublisher(publisher).runWith(Sink.seq(), system);
  }

  /** A page of results: {@code items} in order; {@code cut} when it ended at its byte bound, before the results did. */
  public record Page<R>(List<R> items, boolean cut) {}

  /**
   * The results of a publisher, each turned by {@code render}, for as long as their sizes add up to
   * at most {@code maxBytes} (the first always comes): a page bounded in bytes as well as in count,
   * so a page of large records never has to be held whole.
   */
  public <T, R> CompletionStage<Page<R>> page(Publisher<T> publisher, Function<T, R> render, ToLongFunction<R> size, long maxBytes) {
    long[] total = {0};
    int[] taken = {0};
    return Source.fromPublisher(publisher)
        .map(render::apply)
        // inclusive: the first item past the bound comes too, to tell that the page was cut
        .takeWhile(item -> {
          total[0] += size.applyAsLong(item);
          return ++taken[0] == 1 || total[0] <= maxBytes;
        }, true)
        .runWith(Sink.seq(), system)
        .thenApply(items -> {
          boolean cut = items.size() > 1 && total[0] > maxBytes;
          return new Page<>(cut ? List.copyOf(items.subList(0, items.size() - 1)) : items, cut);
        });
  }

  /** Whether the store answers a ping. */
  public CompletionStage<Boolean> ping() {
    return first(platformDatabase().runCommand(new Document("ping", 1)))
        .thenApply(reply -> reply.map(d -> d.get("ok") instanceof Number n && n.doubleValue() == 1.0).orElse(false))
        .exceptionally(e -> false);
  }
}
