package io.mysimbdp.protocol;

import java.util.List;

/**
 * The answer to {@code POST /v1/tenants/{id}/messages} (202): the broker confirmed every message;
 * {@code ids} are their message ids in the order sent (generated where the client gave none).
 */
public record PublishReceipt(String tenant, int accepted, List<String> ids) {}
