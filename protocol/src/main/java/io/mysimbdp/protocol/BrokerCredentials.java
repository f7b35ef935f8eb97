package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * How a tenant publishes straight to the broker: to {@code exchange} on {@code host:port},
 * virtual host {@code virtualHost}, as {@code username}/{@code password}, which may publish to
 * that exchange only. Shown once, like the API key. Where the broker has no per-tenant users (the
 * embedded broker), {@code username} and {@code password} are absent and {@code note} says so:
 * that tenant publishes over HTTP.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BrokerCredentials(
    String host, int port, String virtualHost, String exchange, String username, String password, String note) {}
