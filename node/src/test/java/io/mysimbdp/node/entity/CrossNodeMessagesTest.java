package io.mysimbdp.node.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.pattern.StatusReply;
import com.typesafe.config.ConfigFactory;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.batch.BatchIngestor;
import io.mysimbdp.node.stream.StreamIngestor;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import io.mysimbdp.protocol.TenantStats;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Every message that crosses nodes survives the wire (Jackson CBOR, as configured): a tenant's
 * entity may run on any node, and the balancer on the oldest, so none of these may fail to
 * serialize or deserialize (a worker command nested in an entity command did, once).
 */
class CrossNodeMessagesTest {
  static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseString("akka.actor.provider = cluster\nakka.remote.artery.canonical.port = 0\nakka.coordinated-shutdown.exit-jvm = off\nakka.actor.testkit.typed.system-shutdown-default = 60s").withFallback(ConfigFactory.load()));
  static final SerializationTestKit serialization = new SerializationTestKit(testKit.system());

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void entityAndWorkerCommandsCrossNodes() {
    TestProbe<StatusReply<StreamIngestor.Status>> streamReply = testKit.createTestProbe();
    TestProbe<StreamIngestor.Status> status = testKit.createTestProbe();
    for (Object message : List.of(
        new TenantIngestor.ToStream(new StreamIngestor.Start(streamReply.getRef())),
        new TenantIngestor.ToStream(new StreamIngestor.Stop(streamReply.getRef())),
        new TenantIngestor.ToStream(new StreamIngestor.GetStatus(status.getRef())),
        new TenantIngestor.ToBatch(new BatchIngestor.JobQueued("job-1")),
        TenantIngestor.Wake.INSTANCE,
        TenantIngestor.HandOff.INSTANCE,
        new TenantIngestor.GetStats(testKit.<TenantIngestor.Stats>createTestProbe().getRef()),
        new TenantIngestor.Stats(new TenantStats("t", "n", Instant.now(), 1, 2, 3, 4, 5, 6, 7.5, 8.5, 9, 10, report())),
        new StreamIngestor.Status("started", "n", 1, 2, 3, 4, 5L, 6L, null, 200.0, 100))) {
      assertEquals(message, serialization.verifySerialization(message, false));
    }
  }

  @Test
  void balancerMessagesCrossNodes() {
    BalancerDecision decision = new BalancerDecision("d1", "t", "relieve", "a", "b", "lagging", Instant.now(), Instant.now(), 900L, 12L);
    for (Object message : List.of(
        new LoadBalancer.Report(report()),
        new LoadBalancer.NodeLoad("n", 0.5, 2, 100, 200),
        new LoadBalancer.NodeReports("n", Instant.now(), new LoadBalancer.NodeLoad("n", 0.5, 2, 100, 200), List.of(report()), List.of("idle-1", "idle-2")),
        new LoadBalancer.NodeReports("n", Instant.now(), null, List.of(), List.of("idle-3")),
        new LoadBalancer.Started("t", "n", Instant.now()),
        new LoadBalancer.Consuming("t", "n", Instant.now(), 3),
        new LoadBalancer.Place("t", testKit.<LoadBalancer.Placed>createTestProbe().getRef()),
        new LoadBalancer.Placed("t", "n"),
        new LoadBalancer.Move("t", "n", testKit.<StatusReply<LoadBalancer.Moved>>createTestProbe().getRef()),
        new LoadBalancer.Moved(decision),
        new LoadBalancer.Evacuate("n", testKit.<akka.Done>createTestProbe().getRef()),
        new LoadBalancer.GetOverview(testKit.<LoadBalancer.Overview>createTestProbe().getRef()),
        new LoadBalancer.Overview(Instant.now(), "n", List.of(new LoadBalancer.NodeView("n", "Up", 0.1, 2, 3, false, false)),
            List.of(new LoadBalancer.TenantView("t", "n", "n", 1, 2, 3, 4, 5, 6, false, Instant.now())), List.of(decision), List.of(),
            new LoadBalancer.NodesWanted(3, 2, "tenant t lags", Instant.now())),
        new LoadBalancer.GetNodesWanted(testKit.<LoadBalancer.NodesWanted>createTestProbe().getRef()),
        new LoadBalancer.NodesWanted(2, 2, "why", null))) {
      assertEquals(message, serialization.verifySerialization(message, false));
    }
  }

  /**
   * A digest part holds as many reports as {@link NodeReporter#wireBytes} lets it, so that estimate
   * must bound what the serializer writes — for the largest reports a tenant can make (the longest
   * id, tables, quality rules of non-ASCII text, moves) — and a part must fit Artery's frame.
   */
  @Test
  void digestPartsFitTheFrameWhateverTheirReportsCarry() {
    String longestId = "t".repeat(io.mysimbdp.protocol.TenantId.MAX_LENGTH);
    String node = "akka://mysimbdp@mysimbdp-node-7f9c6d5b8-abcde.mysimbdp-headless.mysimbdp.svc.cluster.local:25520";
    List<PerformanceReport.QualityCount> rules = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rules.add(new PerformanceReport.QualityCount("règle de qualité numéro " + i + " — « valeurs » bornées", Long.MAX_VALUE, Long.MAX_VALUE, 0.999));
    }
    BalancerDecision move = new BalancerDecision("0b8f3f1e-3c1a-4d2e-9f00-1234567890ab", longestId, "relieve", node, node,
        "tenant lags: backlog growing 1200/s; nodes: " + node + ": demand 5000 records/s, 3 tenant(s) placed, cpu 93%", Instant.now(), Instant.now(),
        Long.MAX_VALUE, Long.MAX_VALUE);
    PerformanceReport largest = new PerformanceReport(longestId, Long.MAX_VALUE, Double.MAX_VALUE, Long.MAX_VALUE, Instant.now(), Instant.now(),
        List.of("records", "dead_letters", "ventes_été_2026"), node, Long.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Long.MAX_VALUE,
        Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, rules, List.of(move, move));
    akka.serialization.Serialization wire = akka.serialization.SerializationExtension.get(akka.actor.typed.javadsl.Adapter.toClassic(testKit.system()));
    LoadBalancer.NodeLoad load = new LoadBalancer.NodeLoad(node, 0.5, 2, Long.MAX_VALUE, Long.MAX_VALUE);
    int empty = wire.serialize(new LoadBalancer.NodeReports(node, Instant.now(), load, List.of(), List.of())).get().length;
    for (PerformanceReport report : List.of(largest, report())) {
      int one = wire.serialize(new LoadBalancer.NodeReports(node, Instant.now(), load, List.of(report), List.of())).get().length - empty;
      assertTrue(one <= NodeReporter.wireBytes(report), "a report of " + one + " bytes on the wire, estimated " + NodeReporter.wireBytes(report));
    }
    int oneId = wire.serialize(new LoadBalancer.NodeReports(node, Instant.now(), load, List.of(), List.of(longestId))).get().length - empty;
    assertTrue(oneId <= NodeReporter.wireBytes(longestId), "an idle id of " + oneId + " bytes");

    List<PerformanceReport> reports = java.util.Collections.nCopies(500, largest);
    List<String> idle = java.util.Collections.nCopies(5_000, longestId);
    long frame = testKit.system().settings().config().getBytes("akka.remote.artery.advanced.maximum-frame-size");
    for (LoadBalancer.NodeReports part : NodeReporter.digestParts(node, Instant.now(), load, reports, idle)) {
      int bytes = wire.serialize(part).get().length;
      assertTrue(bytes <= frame / 2, "a digest part of " + bytes + " bytes, frame " + frame);
    }
  }

  private static PerformanceReport report() {
    return new PerformanceReport("t", 10, 1.5, 3, Instant.parse("2026-11-28T10:00:00Z"), Instant.parse("2026-11-28T10:00:10Z"),
        List.of("records"), "n", 3, 0.3, 0.4, 1, 2, 5, 0, 0, List.of(new PerformanceReport.QualityCount("r", 3, 2, 0.5)), null);
  }
}
