package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The answer to creating a tenant: the profile and the API key, shown this once. Only a hash of the
 * key is stored, so a lost key is replaced, never recovered. {@code broker}, when present, says how
 * the tenant publishes stream messages straight to the broker (its own credentials, shown once too).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreatedTenant(Tenant tenant, String apiKey, BrokerCredentials broker) {

  public CreatedTenant(Tenant tenant, String apiKey) {
    this(tenant, apiKey, null);
  }

  public CreatedTenant withBroker(BrokerCredentials credentials) {
    return new CreatedTenant(tenant, apiKey, credentials);
  }
}
