package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * What one tenant's ingestion did on one node over one report interval, as stored in
 * {@code client_performance_reports} and returned by {@code GET /v1/tenants/{id}/reports}. The
 * first seven fields are the seed design's; the rest is what the load balancer decides on.
 *
 * @param customerIdentifier the tenant
 * @param totalIngestionSize bytes taken in during the interval (message bodies, file bytes read)
 * @param averageIngestionTime mean milliseconds from a record's arrival (its message sent, its file
 *     row read) to its being stored, in the interval
 * @param numberOfMessages records stored during the interval
 * @param beginningReport start of the interval
 * @param endReport end of the interval
 * @param nameTable the collections records were written to in the interval
 * @param node the cluster node the tenant ran on
 * @param recordsIn records taken in during the interval (stream messages and file rows)
 * @param throughput records stored per second
 * @param demand records per second arriving for the tenant: taken in, plus the growth of its
 *     backlog (what it was sent, whether or not the node kept up)
 * @param latencyP50Millis median ingest latency in the interval, -1 when nothing was stored
 * @param latencyP99Millis 99th percentile of the same
 * @param backlog stream records waiting in the tenant's queue at the end: its AMQP messages times the
 *     records per message the consumer lately read (a batched envelope carries many; -1: broker unknown)
 * @param batchBacklogBytes file bytes of unfinished ingestion jobs not yet read
 * @param errors records dead-lettered during the interval
 * @param quality each quality rule's counts so far (cumulative, all nodes)
 * @param moves load-balancer decisions about this tenant made during the interval
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PerformanceReport(
    @JsonProperty("customer_identifier") String customerIdentifier,
    @JsonProperty("total_ingestion_size") long totalIngestionSize,
    @JsonProperty("average_ingestion_time") double averageIngestionTime,
    @JsonProperty("number_of_messages") long numberOfMessages,
    @JsonProperty("beginning_report") Instant beginningReport,
    @JsonProperty("end_report") Instant endReport,
    @JsonProperty("name_table") List<String> nameTable,
    String node,
    @JsonProperty("records_in") long recordsIn,
    double throughput,
    double demand,
    @JsonProperty("latency_p50_ms") long latencyP50Millis,
    @JsonProperty("latency_p99_ms") long latencyP99Millis,
    long backlog,
    @JsonProperty("batch_backlog_bytes") long batchBacklogBytes,
    long errors,
    List<QualityCount> quality,
    List<BalancerDecision> moves) {

  /** One quality rule's counts: records evaluated, passed, and the pass rate it must keep. */
  public record QualityCount(String rule, long evaluated, long passed, double threshold) {}

  public PerformanceReport withMoves(List<BalancerDecision> decisions) {
    return new PerformanceReport(
        customerIdentifier, totalIngestionSize, averageIngestionTime, numberOfMessages, beginningReport, endReport, nameTable,
        node, recordsIn, throughput, demand, latencyP50Millis, latencyP99Millis, backlog, batchBacklogBytes, errors, quality,
        decisions);
  }
}
