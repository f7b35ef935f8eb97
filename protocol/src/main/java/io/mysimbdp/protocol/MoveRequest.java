package io.mysimbdp.protocol;

/** {@code POST /v1/tenants/{id}/move} (admin): the cluster node to run the tenant on, e.g. {@code akka://mysimbdp@10.0.0.7:2552}. */
public record MoveRequest(String node) {}
