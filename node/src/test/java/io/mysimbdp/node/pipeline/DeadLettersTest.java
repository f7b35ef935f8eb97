package io.mysimbdp.node.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import com.typesafe.config.ConfigFactory;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.node.pipeline.DeadLetters.DeadLetter;
import io.netty.channel.Channel;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Dead letters are the only copy of a rejected record: stored means confirmed by the store. */
class DeadLettersTest {
  /** When set, the store answers every insert into dead_letters with a write-concern error. */
  static final AtomicBoolean failWriteConcern = new AtomicBoolean();
  static MongoServer server;
  static ActorTestKit testKit;
  static DeadLetters deadLetters;

  @BeforeAll
  static void start() {
    H2Backend backend = new H2Backend(MVStore.open(null)) {
      @Override
      public Document handleCommand(Channel channel, String database, String command, Document query) {
        Document reply = super.handleCommand(channel, database, command, query);
        if (failWriteConcern.get() && command.equals("insert") && DeadLetters.COLLECTION.equals(query.get("insert"))) {
          reply.put("writeConcernError", new Document("code", 64).append("codeName", "WriteConcernFailed")
              .append("errmsg", "waiting for replication timed out"));
        }
        return reply;
      }
    };
    backend.version(ServerVersion.MONGO_5_0);
    server = new MongoServer(backend);
    var address = server.bind();
    testKit = ActorTestKit.create(ConfigFactory.parseString(
            "akka.actor.provider = local\nakka.coordinated-shutdown.exit-jvm = off\nmysimbdp.mongodb.uri = \"mongodb://127.0.0.1:" + address.getPort() + "\"")
        .withFallback(ConfigFactory.load()));
    deadLetters = new DeadLetters(CoreDms.get(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    server.shutdownNow();
  }

  static DeadLetter letter(String id) {
    return new DeadLetter(id, "file", "f1", "f.csv", 0, 2, DeadLetters.Stage.PARSE, "bad", "x,y");
  }

  @Test
  void aWriteConcernErrorIsAFailureNotAStoredLetter() throws Exception {
    failWriteConcern.set(true);
    try {
      ExecutionException failed = assertThrows(ExecutionException.class,
          () -> deadLetters.store("wc", List.of(letter("wc:1"))).toCompletableFuture().get(10, TimeUnit.SECONDS));
      assertTrue(String.valueOf(failed.getCause()).contains("replication"), failed::toString);
      // Retried after the store recovers, the letter there already counts as stored.
      failWriteConcern.set(false);
      deadLetters.store("wc", List.of(letter("wc:1"), letter("wc:2"))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      failWriteConcern.set(false);
    }
  }

  @Test
  void aLetterStoredTwiceIsKeptOnce() throws Exception {
    deadLetters.store("twice", List.of(letter("t:1"))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    deadLetters.store("twice", List.of(letter("t:1"))).toCompletableFuture().get(10, TimeUnit.SECONDS);
    long count = CoreDms.get(testKit.system()).first(CoreDms.get(testKit.system()).tenantDatabase("twice")
        .getCollection(DeadLetters.COLLECTION).countDocuments()).toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
    assertEquals(1, count);
  }
}
