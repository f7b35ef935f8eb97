package io.mysimbdp.node.http;

import akka.http.javadsl.server.Route;

/**
 * Routes under {@code /v1/tenants/{id}/...} contributed by one feature (batch, stream, functions).
 * They run after authentication and the tenant check: the caller is that tenant or the admin.
 */
@FunctionalInterface
public interface TenantSubRoutes {
  Route routes(Caller caller, String tenantId);
}
