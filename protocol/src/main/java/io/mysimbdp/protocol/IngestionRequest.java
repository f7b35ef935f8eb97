package io.mysimbdp.protocol;

import java.util.List;

/**
 * Body of {@code POST /v1/tenants/{id}/ingestions}: the file ids to ingest, or none (null or
 * empty) for every staged file.
 */
public record IngestionRequest(List<String> files) {}
