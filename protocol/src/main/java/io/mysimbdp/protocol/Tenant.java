package io.mysimbdp.protocol;

import java.time.Instant;

/** A tenant's profile as the API shows it. The API key is never part of it. */
public record Tenant(String id, Instant createdAt, String database, TenantConstraints constraints) {}
