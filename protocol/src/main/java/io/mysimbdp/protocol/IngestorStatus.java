package io.mysimbdp.protocol;

import java.time.Instant;

/** Where a tenant's ingestor entity runs now and since when. */
public record IngestorStatus(String tenant, String node, Instant startedAt) {}
