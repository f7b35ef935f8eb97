package io.mysimbdp.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * The batched form of {@link MessageEnvelope}: many messages of one tenant in one AMQP message
 * (content type {@value #CONTENT_TYPE}), acknowledged together once every one is stored or
 * dead-lettered. Each message keeps its own id, category and data.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MessageBatch(String tenant, Instant sentAt, List<MessageEnvelope> messages) {
  public static final String CONTENT_TYPE = "application/vnd.mysimbdp.batch+json";
}
