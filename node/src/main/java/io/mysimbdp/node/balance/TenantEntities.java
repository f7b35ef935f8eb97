package io.mysimbdp.node.balance;

/**
 * What the load balancer needs of the tenants' sharded entities. The node gives it, so that the
 * balancer knows no ingestion class: it decides where tenants run, the entities do the work.
 */
public interface TenantEntities {

  /** The entity type's name: each tenant's shard location is set under it. */
  String typeName();

  /** Starts the tenant's entity where sharding places it (its work resumes there). */
  void wake(String tenantId);
}
