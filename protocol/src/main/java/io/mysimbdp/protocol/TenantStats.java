package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/**
 * A tenant's live ingestion figures as {@code GET /v1/tenants/{id}/stats} shows them: counts since
 * its ingestor started on its current node, throughput over sliding windows, and the last report.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TenantStats(
    String tenant,
    String node,
    @JsonProperty("started_at") Instant startedAt,
    @JsonProperty("records_in") long recordsIn,
    @JsonProperty("bytes_in") long bytesIn,
    @JsonProperty("records_stored") long recordsStored,
    long errors,
    @JsonProperty("stream_records") long streamRecords,
    @JsonProperty("batch_records") long batchRecords,
    @JsonProperty("throughput_10s") double throughput10s,
    @JsonProperty("throughput_60s") double throughput60s,
    @JsonProperty("latency_p50_ms") long latencyP50Millis,
    @JsonProperty("latency_p99_ms") long latencyP99Millis,
    @JsonProperty("last_report") PerformanceReport lastReport) {}
