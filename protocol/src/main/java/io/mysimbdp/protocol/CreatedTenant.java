package io.mysimbdp.protocol;

/**
 * The answer to creating a tenant: the profile and the API key, shown this once. Only a hash of the
 * key is stored, so a lost key is replaced, never recovered.
 */
public record CreatedTenant(Tenant tenant, String apiKey) {}
