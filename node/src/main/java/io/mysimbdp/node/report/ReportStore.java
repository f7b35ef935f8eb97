package io.mysimbdp.node.report;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.mysimbdp.node.coredms.CoreDms;
import io.mysimbdp.protocol.BalancerDecision;
import io.mysimbdp.protocol.PerformanceReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Where reports and balancer decisions are kept: {@value #REPORTS} and {@value #DECISIONS} in the
 * platform database (the balancer and the dashboards read across tenants; a tenant's routes filter
 * on its id), and each tenant's raw interval counts in {@value #STATS}, also in the platform
 * database (field {@code tenant}): a node writes all its tenants' intervals in one bulk insert per
 * collection, which one collection per tenant database would turn into one write per tenant.
 */
public final class ReportStore {
  public static final String REPORTS = "client_performance_reports";
  public static final String DECISIONS = "balancer_decisions";
  public static final String STATS = "ingestion_stats";

  private final CoreDms coreDms;

  public ReportStore(CoreDms coreDms) {
    this.coreDms = coreDms;
  }

  public CompletionStage<Void> ensureIndexes() {
    return coreDms
        .first(reports().createIndex(Indexes.ascending("customer_identifier", "end_report"), new IndexOptions().name("tenant_end")))
        .thenCompose(ok -> coreDms.first(decisions().createIndex(Indexes.ascending("tenant", "decided_at"), new IndexOptions().name("tenant_decided"))))
        .thenCompose(ok -> coreDms.first(decisions().createIndex(Indexes.descending("decided_at"), new IndexOptions().name("decided"))))
        .thenApply(ok -> null);
  }

  /** One tenant's interval as it is stored: its report, and the raw counts it was made of. */
  public record Entry(PerformanceReport report, TenantMeter.Interval interval) {}

  /** Stores one interval: the report, and the tenant's raw counts. */
  public CompletionStage<Void> save(PerformanceReport report, TenantMeter.Interval interval) {
    return saveAll(List.of(new Entry(report, interval)));
  }

  /**
   * Stores the intervals of many tenants (a node's, every report interval): one unordered bulk
   * insert of the reports and one of the raw counts, whatever the number of tenants.
   */
  public CompletionStage<Void> saveAll(List<Entry> entries) {
    if (entries.isEmpty()) {
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
    List<Document> reports = new ArrayList<>(entries.size());
    List<Document> stats = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      reports.add(toDocument(e.report()));
      stats.add(statsDocument(e.report(), e.interval()));
    }
    InsertManyOptions unordered = new InsertManyOptions().ordered(false);
    return coreDms
        .first(reports().insertMany(reports, unordered))
        .thenCompose(ok -> coreDms.first(coreDms.platformDatabase().getCollection(STATS).insertMany(stats, unordered)))
        .thenApply(ok -> null);
  }

  static Document statsDocument(PerformanceReport report, TenantMeter.Interval interval) {
    return new Document("tenant", report.customerIdentifier())
        .append("node", report.node())
        .append("from", new Date(interval.fromMillis()))
        .append("to", new Date(interval.toMillis()))
        .append("records_in", interval.counts().recordsIn())
        .append("bytes_in", interval.counts().bytesIn())
        .append("records_out", interval.counts().recordsOut())
        .append("errors", interval.counts().errors())
        .append("stream_records", interval.counts().streamRecords())
        .append("batch_records", interval.counts().batchRecords())
        .append("latency_count", interval.latencyMillis().getTotalCount())
        .append("latency_mean_ms", interval.meanLatency())
        .append("latency_p50_ms", interval.latencyAt(50))
        .append("latency_p90_ms", interval.latencyAt(90))
        .append("latency_p99_ms", interval.latencyAt(99))
        .append("latency_max_ms", interval.latencyMillis().getTotalCount() == 0 ? -1 : interval.latencyMillis().getMaxValue())
        .append("backlog", report.backlog())
        .append("batch_backlog_bytes", report.batchBacklogBytes());
  }

  /** The tenant's reports that ended within [from, to), oldest first, at most {@code limit}; each with its decisions. */
  public CompletionStage<List<PerformanceReport>> reports(String tenantId, Instant from, Instant to, int limit) {
    Bson filter = Filters.and(Filters.eq("customer_identifier", tenantId), Filters.gte("end_report", Date.from(from)), Filters.lt("end_report", Date.from(to)));
    CompletionStage<List<Document>> reports = coreDms.all(reports().find(filter).sort(Sorts.ascending("end_report")).limit(limit));
    CompletionStage<List<BalancerDecision>> decisions = decisions(tenantId, from.minusSeconds(3600), to, 1_000);
    return reports.thenCombine(decisions, (docs, moves) -> {
      List<PerformanceReport> out = new ArrayList<>(docs.size());
      docs.forEach(doc -> out.add(fromDocument(doc)));
      // Each decision goes with the first report that ends after it: the one whose interval holds
      // it, or, when it fell between two nodes' reports during the move, the new node's first.
      java.util.Map<Integer, List<BalancerDecision>> byReport = new java.util.HashMap<>();
      for (BalancerDecision d : moves) {
        for (int i = 0; i < out.size(); i++) {
          if (out.get(i).endReport().isAfter(d.decidedAt())) {
            if (i > 0 || !d.decidedAt().isBefore(out.get(0).beginningReport())) {
              byReport.computeIfAbsent(i, k -> new ArrayList<>()).add(d);
            }
            break;
          }
        }
      }
      byReport.forEach((i, within) -> out.set(i, out.get(i).withMoves(within)));
      return out;
    });
  }

  /** The most recent reports of every tenant (for dashboards), newest first. */
  public CompletionStage<List<PerformanceReport>> recentReports(Instant since, int limit) {
    return coreDms
        .all(reports().find(Filters.gte("end_report", Date.from(since))).sort(Sorts.descending("end_report")).limit(limit))
        .thenApply(docs -> docs.stream().map(ReportStore::fromDocument).toList());
  }

  public CompletionStage<Void> saveDecision(BalancerDecision decision) {
    return coreDms
        .first(decisions().replaceOne(Filters.eq("_id", decision.id()), toDocument(decision), new ReplaceOptions().upsert(true)))
        .thenApply(ok -> null);
  }

  /** Stores (or replaces, by id) many decisions in one unordered bulk write. */
  public CompletionStage<Void> saveDecisions(List<BalancerDecision> decisions) {
    if (decisions.isEmpty()) {
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
    List<com.mongodb.client.model.ReplaceOneModel<Document>> writes = new ArrayList<>(decisions.size());
    for (BalancerDecision d : decisions) {
      writes.add(new com.mongodb.client.model.ReplaceOneModel<>(Filters.eq("_id", d.id()), toDocument(d), new ReplaceOptions().upsert(true)));
    }
    return coreDms.first(decisions().bulkWrite(writes, new com.mongodb.client.model.BulkWriteOptions().ordered(false))).thenApply(ok -> null);
  }

  /** Decisions about one tenant (null: all tenants) made within [from, to), newest first. */
  public CompletionStage<List<BalancerDecision>> decisions(String tenantId, Instant from, Instant to, int limit) {
    Bson window = Filters.and(Filters.gte("decided_at", Date.from(from)), Filters.lt("decided_at", Date.from(to)));
    Bson filter = tenantId == null ? window : Filters.and(Filters.eq("tenant", tenantId), window);
    return coreDms
        .all(decisions().find(filter).sort(Sorts.descending("decided_at")).limit(limit))
        .thenApply(docs -> docs.stream().map(ReportStore::decisionFrom).toList());
  }

  private MongoCollection<Document> reports() {
    return coreDms.platformDatabase().getCollection(REPORTS);
  }

  private MongoCollection<Document> decisions() {
    return coreDms.platformDatabase().getCollection(DECISIONS);
  }

  static Document toDocument(PerformanceReport r) {
    List<Document> quality = new ArrayList<>();
    if (r.quality() != null) {
      for (PerformanceReport.QualityCount q : r.quality()) {
        quality.add(new Document("rule", q.rule()).append("evaluated", q.evaluated()).append("passed", q.passed()).append("threshold", q.threshold()));
      }
    }
    return new Document("customer_identifier", r.customerIdentifier())
        .append("total_ingestion_size", r.totalIngestionSize())
        .append("average_ingestion_time", r.averageIngestionTime())
        .append("number_of_messages", r.numberOfMessages())
        .append("beginning_report", Date.from(r.beginningReport()))
        .append("end_report", Date.from(r.endReport()))
        .append("name_table", r.nameTable())
        .append("node", r.node())
        .append("records_in", r.recordsIn())
        .append("throughput", r.throughput())
        .append("demand", r.demand())
        .append("latency_p50_ms", r.latencyP50Millis())
        .append("latency_p99_ms", r.latencyP99Millis())
        .append("backlog", r.backlog())
        .append("batch_backlog_bytes", r.batchBacklogBytes())
        .append("errors", r.errors())
        .append("quality", quality);
  }

  static PerformanceReport fromDocument(Document d) {
    List<PerformanceReport.QualityCount> quality = new ArrayList<>();
    for (Document q : d.getList("quality", Document.class, List.of())) {
      quality.add(new PerformanceReport.QualityCount(q.getString("rule"), number(q, "evaluated"), number(q, "passed"), real(q, "threshold")));
    }
    return new PerformanceReport(
        d.getString("customer_identifier"), number(d, "total_ingestion_size"), real(d, "average_ingestion_time"),
        number(d, "number_of_messages"), d.getDate("beginning_report").toInstant(), d.getDate("end_report").toInstant(),
        d.getList("name_table", String.class, List.of()), d.getString("node"), number(d, "records_in"), real(d, "throughput"),
        real(d, "demand"), number(d, "latency_p50_ms"), number(d, "latency_p99_ms"), number(d, "backlog"),
        number(d, "batch_backlog_bytes"), number(d, "errors"), quality, null);
  }

  static Document toDocument(BalancerDecision d) {
    return new Document("_id", d.id())
        .append("tenant", d.tenant())
        .append("kind", d.kind())
        .append("from", d.from())
        .append("to", d.to())
        .append("reason", d.reason())
        .append("decided_at", Date.from(d.decidedAt()))
        .append("consuming_at", d.consumingAt() == null ? null : Date.from(d.consumingAt()))
        .append("hand_off_ms", d.handOffMillis())
        .append("backlog_at_resume", d.backlogAtResume());
  }

  static BalancerDecision decisionFrom(Document d) {
    Date consuming = d.getDate("consuming_at");
    return new BalancerDecision(
        d.getString("_id"), d.getString("tenant"), d.getString("kind"), d.getString("from"), d.getString("to"), d.getString("reason"),
        d.getDate("decided_at").toInstant(), consuming == null ? null : consuming.toInstant(),
        d.get("hand_off_ms") instanceof Number n ? n.longValue() : null,
        d.get("backlog_at_resume") instanceof Number n ? n.longValue() : null);
  }

  private static long number(Document d, String field) {
    return d.get(field) instanceof Number n ? n.longValue() : 0;
  }

  private static double real(Document d, String field) {
    return d.get(field) instanceof Number n ? n.doubleValue() : 0;
  }
}
