package io.mysimbdp.protocol;

/** Body of {@code POST /v1/tenants}. */
public record CreateTenantRequest(String id) {}
