package io.mysimbdp.node.http;

import io.mysimbdp.node.tenant.ApiKeys;
import io.mysimbdp.node.tenant.TenantRepository;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Turns a bearer token into a {@link Caller}: the admin token, or a tenant's API key. */
public final class Authenticator {
  private final String adminToken;
  private final TenantRepository tenants;

  public Authenticator(String adminToken, TenantRepository tenants) {
    this.adminToken = adminToken;
    this.tenants = tenants;
  }

  public CompletionStage<Optional<Caller>> authenticate(String token) {
    if (ApiKeys.constantTimeEquals(token, adminToken)) {
      return CompletableFuture.completedFuture(Optional.of(new Caller.Admin()));
    }
    if (!token.startsWith(ApiKeys.PREFIX) || token.length() > 128) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return tenants.tenantForKey(token).thenApply(id -> id.map(Caller.TenantKey::new));
  }
}
