package io.mysimbdp.node.http;

/** Who a request comes from, as its bearer token proved. */
public sealed interface Caller {

  /** The platform operator, holding the admin token. */
  record Admin() implements Caller {}

  /** A tenant, holding that tenant's API key. */
  record TenantKey(String tenantId) implements Caller {}

  default boolean mayAccess(String tenantId) {
    return this instanceof Admin || (this instanceof TenantKey t && t.tenantId().equals(tenantId));
  }
}
