package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A tenant's stream consumer as {@code GET /v1/tenants/{id}/stream} shows it.
 *
 * @param state {@code started} (wanted running; consuming unless the broker is unreachable),
 *     {@code stopping} (draining) or {@code stopped}
 * @param consumed messages taken from the queue since the consumer started on its node
 * @param stored records written (a redelivered message that was stored already counts in
 *     {@code duplicates} as well)
 * @param duplicates messages found stored already (redeliveries, or ids sent twice)
 * @param failed messages sent to the tenant's dead-letter store
 * @param lag records waiting in the tenant's queue now (its AMQP messages times the records each lately
 *     carried: an HTTP request's records travel up to 200 to a message), or -1 when the broker did not answer
 * @param latencyP50Millis median time from a message's {@code sentAt} to its record being stored
 * @param latencyP99Millis 99th percentile of the same
 * @param prefetch AMQP messages the broker sends the consumer ahead now: as many as carry about
 *     {@code mysimbdp.stream.consume.prefetch-records} records, within the configured bounds; absent
 *     when nothing consumes
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StreamStatus(
    String tenant,
    String state,
    String node,
    String queue,
    long consumed,
    long stored,
    long duplicates,
    long failed,
    long lag,
    Long latencyP50Millis,
    Long latencyP99Millis,
    String lastError,
    Integer prefetch) {}
