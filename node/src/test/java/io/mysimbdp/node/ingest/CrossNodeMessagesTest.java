package io.mysimbdp.node.ingest;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.typed.ActorRef;
import akka.pattern.StatusReply;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.batch.BatchIngestor;
import io.mysimbdp.node.stream.StreamIngestor;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every message that crosses nodes on its way to or from a tenant's ingestor survives the wire
 * (Jackson CBOR, as configured). A command for a worker travels inside {@code ToStream}/{@code
 * ToBatch}, typed only by the worker's {@code Command} interface: without type information in the
 * payload, a stream start or a queued batch job sent from another node than the tenant's could
 * not be read there, and the request timed out (found by the rolling-restart test).
 */
class CrossNodeMessagesTest {
  static ActorTestKit testKit;
  static SerializationTestKit serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("messages",
        ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\nakka.coordinated-shutdown.exit-jvm = off\n")
            .withFallback(ConfigFactory.load()));
    serialization = new SerializationTestKit(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void commandsForTheStreamWorker() {
    ActorRef<StatusReply<StreamIngestor.Status>> reply = testKit.<StatusReply<StreamIngestor.Status>>createTestProbe().ref();
    ActorRef<StreamIngestor.Status> status = testKit.<StreamIngestor.Status>createTestProbe().ref();
    serialization.verifySerialization(new TenantIngestor.ToStream(new StreamIngestor.Start(reply)), true);
    serialization.verifySerialization(new TenantIngestor.ToStream(new StreamIngestor.Stop(reply)), true);
    serialization.verifySerialization(new TenantIngestor.ToStream(new StreamIngestor.GetStatus(status)), true);
  }

  @Test
  void commandsForTheBatchWorker() {
    serialization.verifySerialization(new TenantIngestor.ToBatch(new BatchIngestor.JobQueued("job-1")), true);
  }

  @Test
  void theEntitysOwnMessagesAndReplies() {
    serialization.verifySerialization(new TenantIngestor.GetStatus(testKit.<TenantIngestor.Status>createTestProbe().ref()), true);
    serialization.verifySerialization(TenantIngestor.Wake.INSTANCE, true);
    serialization.verifySerialization(TenantIngestor.HandOff.INSTANCE, true);
    serialization.verifySerialization(new TenantIngestor.Status("t", "akka://mysimbdp@127.0.0.1:2551", Instant.parse("2026-01-01T00:00:00Z")), true);
    serialization.verifySerialization(
        new StreamIngestor.Status("started", "akka://mysimbdp@127.0.0.1:2551", 3, 2, 1, 0, 5L, null, null), true);
  }
}
