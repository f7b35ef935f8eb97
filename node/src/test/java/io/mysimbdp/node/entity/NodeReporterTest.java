package io.mysimbdp.node.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The node-wide reporter: every tenant of the node in one write and one digest per interval; idle tenants cost nothing. */
class NodeReporterTest {
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  private final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());
  private final TestProbe<LoadBalancer.Command> balancer = testKit.createTestProbe();
  private final LinkedBlockingQueue<List<ReportStore.Entry>> writes = new LinkedBlockingQueue<>();
  private final FakeReadings readings = new FakeReadings();

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  /** Counts what is read, per tenant; queues hold what {@code queued} says. */
  static final class FakeReadings implements NodeReporter.Readings {
    final Map<String, Long> queued = new HashMap<>();
    final List<Collection<String>> queueReads = new ArrayList<>();
    final List<String> otherReads = new ArrayList<>();

    @Override
    public synchronized CompletionStage<Map<String, Long>> queueLengths(Collection<String> tenants) {
      queueReads.add(List.copyOf(tenants));
      Map<String, Long> out = new HashMap<>();
      tenants.forEach(t -> out.put(t, queued.getOrDefault(t, 0L)));
      return CompletableFuture.completedFuture(out);
    }

    @Override
    public synchronized CompletionStage<Long> batchBacklogBytes(String tenant) {
      otherReads.add("batch " + tenant);
      return CompletableFuture.completedFuture(0L);
    }

    @Override
    public synchronized CompletionStage<List<PerformanceReport.QualityCount>> quality(String tenant) {
      otherReads.add("quality " + tenant);
      return CompletableFuture.completedFuture(List.of());
    }

    synchronized List<Collection<String>> takeQueueReads() {
      List<Collection<String>> out = List.copyOf(queueReads);
      queueReads.clear();
      return out;
    }

    synchronized List<String> takeOtherReads() {
      List<String> out = List.copyOf(otherReads);
      otherReads.clear();
      return out;
    }
  }

  private ActorRef<NodeReporter.Command> reporter() {
    NodeReporter.Dependencies deps = new NodeReporter.Dependencies(
        "node-a",
        entries -> {
          writes.add(entries);
          return CompletableFuture.completedFuture(null);
        },
        readings, balancer.ref(), () -> new LoadBalancer.NodeLoad("node-a", 0.1, 2, 1, 2), TenantMeters.get(testKit.system()), INTERVAL);
    return testKit.spawn(NodeReporter.create(deps));
  }

  private List<ReportStore.Entry> nextWrite() throws InterruptedException {
    List<ReportStore.Entry> write = writes.poll(5, TimeUnit.SECONDS);
    assertTrue(write != null, "no write");
    return write;
  }

  private LoadBalancer.NodeReports nextDigest() {
    return balancer.expectMessageClass(LoadBalancer.NodeReports.class);
  }

  /** Until the reporter has handled every message sent so far. */
  private void settle(ActorRef<NodeReporter.Command> reporter, TenantMeter probeMeter) {
    reporter.tell(new NodeReporter.Register(probeMeter));
    testKit.createTestProbe().awaitAssert(() -> {
      assertTrue(TenantMeters.get(testKit.system()).all().contains(probeMeter));
      return null;
    });
  }

  @Test
  void everyTenantOfTheNodeIsReportedInOneWriteAndOneDigest() throws Exception {
    ActorRef<NodeReporter.Command> reporter = reporter();
    List<TenantMeter> meters = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      TenantMeter meter = new TenantMeter("t" + i);
      meters.add(meter);
      reporter.tell(new NodeReporter.Register(meter));
    }
    settle(reporter, meters.get(0));
    meters.forEach(m -> {
      m.recordIn(TenantMeter.Source.STREAM, 5, 500);
      m.recordStored("records", 5);
      m.recordLatency(3, 5);
    });
    readings.queued.put("t7", 4L);

    time.timePasses(INTERVAL);
    List<ReportStore.Entry> write = nextWrite();
    assertEquals(50, write.size(), "all 50 tenants in one write");
    LoadBalancer.NodeReports digest = nextDigest();
    assertEquals(50, digest.reports().size());
    assertEquals("node-a", digest.load().node());
    PerformanceReport t7 = digest.reports().stream().filter(r -> r.customerIdentifier().equals("t7")).findFirst().orElseThrow();
    assertEquals(5, t7.numberOfMessages());
    assertEquals(500, t7.totalIngestionSize());
    assertEquals(4, t7.backlog());
    assertEquals(List.of("records"), t7.nameTable());
    assertEquals(t7, meters.get(7).lastReport());
    // One batched read of the queues of all of them.
    assertEquals(1, readings.takeQueueReads().size());
    assertEquals(50, readings.takeOtherReads().stream().filter(r -> r.startsWith("quality")).count());
    balancer.expectNoMessage(Duration.ofMillis(50));
    assertTrue(writes.isEmpty(), "one write per interval");
  }

  @Test
  void anIdleTenantCostsNoReadAndNoWrite() throws Exception {
    ActorRef<NodeReporter.Command> reporter = reporter();
    TenantMeter idle = new TenantMeter("idle");
    TenantMeter busy = new TenantMeter("busy");
    reporter.tell(new NodeReporter.Register(idle));
    settle(reporter, busy);

    // Their first interval here: nothing happened, nothing is read; each is stored once, as idle.
    time.timePasses(INTERVAL);
    assertEquals(2, nextWrite().size());
    nextDigest();
    assertEquals(List.of(), readings.takeQueueReads());

    // From then on only what is active is read and stored.
    for (int round = 0; round < 3; round++) {
      busy.recordIn(TenantMeter.Source.STREAM, 1, 10);
      busy.recordStored("records", 1);
      time.timePasses(INTERVAL);
      List<ReportStore.Entry> write = nextWrite();
      assertEquals(List.of("busy"), write.stream().map(e -> e.report().customerIdentifier()).toList());
      LoadBalancer.NodeReports digest = nextDigest();
      assertEquals(List.of("idle"), digest.idle());
      assertEquals(List.of("busy"), digest.reports().stream().map(PerformanceReport::customerIdentifier).toList());
      assertEquals(List.of(List.of("busy")), readings.takeQueueReads());
    }
    assertTrue(readings.takeOtherReads().stream().noneMatch(r -> r.endsWith(" idle")));
    // Its figures stay current in memory (/stats) without a read.
    assertTrue(idle.lastReport().endReport().isAfter(idle.lastReport().beginningReport()));
    assertEquals(0, idle.lastReport().numberOfMessages());
  }

  @Test
  void aTenantWithAQueuedBacklogIsReadUntilItIsEmptyThenReportedIdleOnce() throws Exception {
    ActorRef<NodeReporter.Command> reporter = reporter();
    TenantMeter meter = new TenantMeter("queued");
    settle(reporter, meter);
    readings.queued.put("queued", 100L);
    meter.recordIn(TenantMeter.Source.STREAM, 1, 10);
    time.timePasses(INTERVAL);
    assertEquals(100, nextWrite().get(0).report().backlog());
    nextDigest();
    readings.queued.put("queued", 0L);
    time.timePasses(INTERVAL);
    assertEquals(0, nextWrite().get(0).report().backlog(), "read again while it had a backlog; stored as it turns idle");
    nextDigest();
    readings.takeQueueReads();
    time.timePasses(INTERVAL);
    assertEquals(List.of("queued"), nextDigest().idle());
    assertTrue(writes.isEmpty());
    assertEquals(List.of(), readings.takeQueueReads());
  }

  @Test
  void aStoppedTenantsLastIntervalIsStoredAndItLeavesTheRegistry() throws Exception {
    ActorRef<NodeReporter.Command> reporter = reporter();
    TenantMeter meter = new TenantMeter("leaving");
    settle(reporter, meter);
    meter.recordIn(TenantMeter.Source.BATCH, 3, 30);
    reporter.tell(new NodeReporter.Unregister(meter));
    List<ReportStore.Entry> write = nextWrite();
    assertEquals(1, write.size());
    assertEquals(3, write.get(0).report().recordsIn());
    assertEquals(List.of("leaving"), nextDigest().reports().stream().map(PerformanceReport::customerIdentifier).toList());
    assertTrue(TenantMeters.get(testKit.system()).all().isEmpty());
  }

  @Test
  void aFlushAnswersOnceTheLastIntervalsAreStored() throws Exception {
    java.util.concurrent.CompletableFuture<Void> slowWrite = new java.util.concurrent.CompletableFuture<>();
    NodeReporter.Dependencies deps = new NodeReporter.Dependencies(
        "node-a", entries -> {
          writes.add(entries);
          return slowWrite;
        },
        readings, null, () -> null, TenantMeters.get(testKit.system()), INTERVAL);
    ActorRef<NodeReporter.Command> reporter = testKit.spawn(NodeReporter.create(deps));
    TenantMeter meter = new TenantMeter("stopping");
    settle(reporter, meter);
    reporter.tell(new NodeReporter.Unregister(meter));
    TestProbe<akka.Done> flushed = testKit.createTestProbe();
    reporter.tell(new NodeReporter.Flush(flushed.getRef()));
    assertEquals(1, nextWrite().size());
    flushed.expectNoMessage(Duration.ofMillis(100));
    slowWrite.complete(null);
    flushed.expectMessage(akka.Done.getInstance());
  }

  @Test
  void aLargeNodesDigestComesInPartsBoundedInBytes() throws Exception {
    ActorRef<NodeReporter.Command> reporter = reporter();
    int tenants = 2_500;
    TenantMeter last = null;
    for (int i = 0; i < tenants; i++) {
      last = new TenantMeter("t" + i);
      reporter.tell(new NodeReporter.Register(last));
    }
    settle(reporter, last);
    time.timePasses(INTERVAL);
    assertEquals(tenants, nextWrite().size(), "one write");
    List<LoadBalancer.NodeReports> parts = new ArrayList<>();
    int named = 0;
    while (named < tenants) {
      LoadBalancer.NodeReports part = nextDigest();
      parts.add(part);
      named += part.reports().size() + part.idle().size();
    }
    assertEquals(tenants, named);
    assertTrue(parts.size() > 1, "in parts: " + parts.size());
    assertTrue(parts.get(0).load() != null && parts.stream().skip(1).allMatch(p -> p.load() == null), "the node's load once");
    for (LoadBalancer.NodeReports part : parts) {
      int bytes = part.reports().stream().mapToInt(NodeReporter::wireBytes).sum() + part.idle().stream().mapToInt(NodeReporter::wireBytes).sum();
      assertTrue(bytes <= NodeReporter.DIGEST_PART_BYTES, "a part of " + bytes + " bytes");
    }
    balancer.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void digestPartsKeepEveryTenantOnceInOrderAndTheLoadInTheFirst() {
    LoadBalancer.NodeLoad load = new LoadBalancer.NodeLoad("n", 0.5, 2, 100, 200);
    List<PerformanceReport> reports = new ArrayList<>();
    List<String> idle = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      reports.add(new PerformanceReport("r" + i, 10, 1.5, 3, java.time.Instant.EPOCH, java.time.Instant.EPOCH, List.of("records"), "n", 3, 0.3,
          0.4, 1, 2, 5, 0, 0, List.of(), null));
    }
    for (int i = 0; i < 20_000; i++) {
      idle.add("idle-tenant-" + i);
    }
    List<LoadBalancer.NodeReports> parts = NodeReporter.digestParts("n", java.time.Instant.EPOCH, load, reports, idle);
    assertEquals(reports, parts.stream().flatMap(p -> p.reports().stream()).toList());
    assertEquals(idle, parts.stream().flatMap(p -> p.idle().stream()).toList());
    assertEquals(load, parts.get(0).load());
    assertTrue(parts.stream().skip(1).allMatch(p -> p.load() == null));
    // Nothing to say but the load: one part still carries it.
    assertEquals(List.of(new LoadBalancer.NodeReports("n", java.time.Instant.EPOCH, load, List.of(), List.of())),
        NodeReporter.digestParts("n", java.time.Instant.EPOCH, load, List.of(), List.of()));
  }

}
