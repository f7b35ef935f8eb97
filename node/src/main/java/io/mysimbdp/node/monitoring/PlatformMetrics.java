package io.mysimbdp.node.monitoring;

import io.mysimbdp.node.balance.LoadBalancer;
import io.mysimbdp.node.report.TenantMeter;
import io.mysimbdp.node.report.TenantMeters;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * This node's {@code /metrics} in the Prometheus text format.
 *
 * <ul>
 *   <li>Per tenant hosted on this node (labels {@code tenant}, {@code node}), read at scrape time
 *       from {@link TenantMeters}, so a tenant that moved away disappears from this node and
 *       appears on its new one: {@code mysimbdp_tenant_records_in_total{source}},
 *       {@code _bytes_in_total}, {@code _records_stored_total}, {@code _errors_total} (monotonic
 *       since the tenant started on this node), {@code mysimbdp_tenant_throughput_records_per_second}
 *       (stored, last 10 s), and from the tenant's last report {@code _demand_records_per_second},
 *       {@code _backlog_records}, {@code _batch_backlog_bytes} and
 *       {@code mysimbdp_tenant_latency_seconds{quantile="0.5"|"0.99"}} (over that report's interval).
 *   <li>{@code mysimbdp_node_tenants}: tenants hosted here.
 *   <li>Only on the node that runs the load balancer (so that summing over nodes counts each once):
 *       {@code mysimbdp_balancer_decisions_total{kind}}, {@code mysimbdp_balancer_hand_offs_total{kind}}
 *       (decisions that move a tenant off a node), {@code mysimbdp_balancer_hand_off_seconds}
 *       (a summary of measured hand-off times), {@code mysimbdp_balancer_moves_in_flight},
 *       {@code mysimbdp_tenant_lagging{tenant}}, {@code mysimbdp_balancer_nodes_wanted} (the nodes the
 *       cluster needs: what the autoscaler scales on, {@code max()} over the nodes) and
 *       {@code mysimbdp_balancer_nodes} (reachable Up nodes it counts). Counted from the balancer's recent decisions as
 *       each scrape sees them, from when this node started counting.
 *   <li>The JVM's own metrics ({@code jvm_*}, {@code process_*}) from the Prometheus client.
 * </ul>
 */
final class PlatformMetrics {
  private static final int SEEN_DECISIONS = 10_000;
  private static final int THROUGHPUT_WINDOW_SECONDS = 10;
  /** The kinds of {@link BalancerDecision}. */
  private static final List<String> KINDS = List.of("place", "relieve", "even-out", "failover", "scale-out", "scale-in");

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Supplier<String> node;
  private final Supplier<Collection<TenantMeter>> meters;
  private final Instant countingSince = Instant.now();
  /** Decisions counted, by id; and those whose hand-off time was counted. Guarded by {@code this}. */
  private final Map<String, Boolean> counted = bounded();
  private final Map<String, Long> decisionsByKind = new TreeMap<>();
  private final Map<String, Long> handOffsByKind = new TreeMap<>();
  private long handOffsMeasured;
  private double handOffSeconds;

  PlatformMetrics(Supplier<String> node, Supplier<Collection<TenantMeter>> meters) {
    this.node = node;
    this.meters = meters;
    // Every kind starts at 0, so that increase() sees the first decision of a kind.
    for (String kind : KINDS) {
      decisionsByKind.put(kind, 0L);
      if (!kind.equals("place")) {
        handOffsByKind.put(kind, 0L);
      }
    }
    JvmMetrics.builder().register(registry);
    registry.register((MultiCollector) this::tenantSnapshots);
  }

  /** The text exposition: the JVM, this node's tenants, and the balancer's counts if it runs here. */
  byte[] scrape(Optional<LoadBalancer.Overview> overview) {
    List<MetricSnapshot> all = new ArrayList<>();
    registry.scrape().forEach(all::add);
    overview.filter(o -> node.get().equals(o.balancerNode())).ifPresent(o -> all.addAll(balancerSnapshots(o)));
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      PrometheusTextFormatWriter.create().write(out, new MetricSnapshots(all));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  private MetricSnapshots tenantSnapshots() {
    String self = node.get();
    CounterSnapshot.Builder recordsIn = counter("mysimbdp_tenant_records_in", "Records (stream messages, file rows) taken in by the tenant's ingestor on this node, by source");
    CounterSnapshot.Builder bytesIn = counter("mysimbdp_tenant_bytes_in", "Bytes of the records taken in");
    CounterSnapshot.Builder stored = counter("mysimbdp_tenant_records_stored", "Records written to the tenant's collections");
    CounterSnapshot.Builder errors = counter("mysimbdp_tenant_errors", "Records that failed for good (dead-lettered)");
    GaugeSnapshot.Builder throughput = gauge("mysimbdp_tenant_throughput_records_per_second", "Records stored per second over the last 10 s");
    GaugeSnapshot.Builder demand = gauge("mysimbdp_tenant_demand_records_per_second", "Records per second the tenant asks for (last report)");
    GaugeSnapshot.Builder backlog = gauge("mysimbdp_tenant_backlog_records", "Records waiting in the tenant's queue (last report; messages times records per message lately consumed)");
    GaugeSnapshot.Builder batchBacklog = gauge("mysimbdp_tenant_batch_backlog_bytes", "Bytes of staged files still to ingest (last report)");
    GaugeSnapshot.Builder latency = gauge("mysimbdp_tenant_latency_seconds", "Arrival-to-stored latency quantile over the last report interval");
    int hosted = 0;
    for (TenantMeter meter : meters.get()) {
      hosted++;
      Labels labels = Labels.of("node", self, "tenant", meter.tenantId());
      TenantMeter.Totals totals = meter.totals();
      recordsIn.dataPoint(counterPoint(labels.add("source", "stream"), totals.streamRecords()));
      recordsIn.dataPoint(counterPoint(labels.add("source", "batch"), totals.batchRecords()));
      bytesIn.dataPoint(counterPoint(labels, totals.bytesIn()));
      stored.dataPoint(counterPoint(labels, totals.recordsOut()));
      errors.dataPoint(counterPoint(labels, totals.errors()));
      throughput.dataPoint(gaugePoint(labels, meter.throughputOver(THROUGHPUT_WINDOW_SECONDS)));
      PerformanceReport report = meter.lastReport();
      if (report != null) {
        demand.dataPoint(gaugePoint(labels, report.demand()));
        backlog.dataPoint(gaugePoint(labels, report.backlog()));
        batchBacklog.dataPoint(gaugePoint(labels, report.batchBacklogBytes()));
        if (report.latencyP50Millis() >= 0) {
          latency.dataPoint(gaugePoint(labels.add("quantile", "0.5"), report.latencyP50Millis() / 1000.0));
        }
        if (report.latencyP99Millis() >= 0) {
          latency.dataPoint(gaugePoint(labels.add("quantile", "0.99"), report.latencyP99Millis() / 1000.0));
        }
      }
    }
    GaugeSnapshot tenants = gauge("mysimbdp_node_tenants", "Tenants whose ingestor runs on this node")
        .dataPoint(gaugePoint(Labels.of("node", self), hosted)).build();
    return MetricSnapshots.of(
        recordsIn.build(), bytesIn.build(), stored.build(), errors.build(), throughput.build(), demand.build(), backlog.build(),
        batchBacklog.build(), latency.build(), tenants);
  }

  private synchronized List<MetricSnapshot> balancerSnapshots(LoadBalancer.Overview overview) {
    List<BalancerDecision> seen = new ArrayList<>(overview.decisions());
    seen.addAll(overview.inFlight());
    for (BalancerDecision d : seen) {
      if (d.decidedAt() == null || d.decidedAt().isBefore(countingSince)) {
        continue;
      }
      Boolean timed = counted.get(d.id());
      if (timed == null) {
        decisionsByKind.merge(d.kind(), 1L, Long::sum);
        if (d.from() != null && !d.from().equals(d.to())) {
          handOffsByKind.merge(d.kind(), 1L, Long::sum);
        }
        timed = false;
      }
      if (!timed && d.handOffMillis() != null) {
        handOffsMeasured++;
        handOffSeconds += d.handOffMillis() / 1000.0;
        timed = true;
      }
      counted.put(d.id(), timed);
    }
    String self = node.get();
    CounterSnapshot.Builder decisions = counter("mysimbdp_balancer_decisions", "Load balancer decisions (place, relieve, even-out, failover, manual, scale-out, scale-in) since this node started counting");
    decisionsByKind.forEach((kind, n) -> decisions.dataPoint(counterPoint(Labels.of("node", self, "kind", kind), n)));
    CounterSnapshot.Builder handOffs = counter("mysimbdp_balancer_hand_offs", "Decisions that moved a tenant off a node");
    handOffsByKind.forEach((kind, n) -> handOffs.dataPoint(counterPoint(Labels.of("node", self, "kind", kind), n)));
    SummarySnapshot handOffTime = SummarySnapshot.builder()
        .name("mysimbdp_balancer_hand_off_seconds")
        .help("Time from a move's decision to the tenant consuming on its new node")
        .dataPoint(SummaryDataPointSnapshot.builder().labels(Labels.of("node", self)).count(handOffsMeasured).sum(handOffSeconds)
            .quantiles(Quantiles.EMPTY).build())
        .build();
    GaugeSnapshot inFlight = gauge("mysimbdp_balancer_moves_in_flight", "Moves decided whose tenant is not yet consuming on its new node")
        .dataPoint(gaugePoint(Labels.of("node", self), overview.inFlight().size())).build();
    GaugeSnapshot.Builder lagging = gauge("mysimbdp_tenant_lagging", "1 when the balancer sees the tenant's backlog grow report after report");
    for (LoadBalancer.TenantView t : overview.tenants()) {
      lagging.dataPoint(gaugePoint(Labels.of("node", self, "tenant", t.tenant()), t.lagging() ? 1 : 0));
    }
    GaugeSnapshot nodesWanted = gauge("mysimbdp_balancer_nodes_wanted",
        "Nodes the cluster needs by the balancer's reading of the reports (what the autoscaler scales on)")
        .dataPoint(gaugePoint(Labels.of("node", self), overview.nodesWanted().nodesWanted())).build();
    GaugeSnapshot nodes = gauge("mysimbdp_balancer_nodes", "Reachable Up nodes the balancer counts")
        .dataPoint(gaugePoint(Labels.of("node", self), overview.nodesWanted().nodes())).build();
    return List.of(decisions.build(), handOffs.build(), handOffTime, inFlight, lagging.build(), nodesWanted, nodes);
  }

  private static CounterSnapshot.Builder counter(String name, String help) {
    return CounterSnapshot.builder().name(name).help(help);
  }

  private static GaugeSnapshot.Builder gauge(String name, String help) {
    return GaugeSnapshot.builder().name(name).help(help);
  }

  private static CounterDataPointSnapshot counterPoint(Labels labels, double value) {
    return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  private static GaugeDataPointSnapshot gaugePoint(Labels labels, double value) {
    return GaugeDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  private static <V> Map<String, V> bounded() {
    return new LinkedHashMap<>(256, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > SEEN_DECISIONS;
      }
    };
  }
}
