package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;

/**
 * A tenant's file in staging, as {@code GET /v1/tenants/{id}/files} lists it and as an upload
 * answers it. {@code name} is the client's file name, kept as metadata only.
 *
 * @param state {@code staged}, {@code ingesting}, {@code ingested} or {@code failed}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StagedFile(
    String id,
    String name,
    String category,
    String format,
    long size,
    String sha256,
    String state,
    Instant uploadedAt,
    RecordCounts records) {}
