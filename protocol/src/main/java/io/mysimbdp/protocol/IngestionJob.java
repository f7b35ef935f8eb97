package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * A batch ingestion job as {@code GET /v1/tenants/{id}/ingestions/{job}} shows it.
 *
 * @param state {@code queued}, {@code running}, {@code succeeded} (every file ingested; some
 *     records may still have failed, see {@code records.failed}) or {@code failed}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record IngestionJob(
    String id,
    String state,
    List<JobFile> files,
    RecordCounts records,
    long bytes,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt,
    long elapsedMillis,
    double recordsPerSecond,
    String error) {

  /** One file of a job and how far its ingestion got. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record JobFile(String id, String name, String state, RecordCounts records, long bytes, String error) {}

  public boolean finished() {
    return state.equals("succeeded") || state.equals("failed");
  }
}
