package io.mysimbdp.node.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import io.mysimbdp.protocol.MessageBatch;
import io.mysimbdp.protocol.MessageEnvelope;
import io.mysimbdp.protocol.ProtocolJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads an AMQP message of a tenant's queue into stream messages, and says exactly why when it
 * cannot. Three forms are accepted, told apart by the AMQP content type:
 *
 * <ul>
 *   <li>{@value MessageEnvelope#CONTENT_TYPE}: one {@link MessageEnvelope};
 *   <li>{@value MessageBatch#CONTENT_TYPE}: a {@link MessageBatch} of envelopes;
 *   <li>anything else (e.g. {@code application/json}, or none): the body is the data instance
 *       itself, as in the seed; its id is the AMQP {@code message-id} property and its category the
 *       AMQP {@code type} property (default {@value MessageEnvelope#DEFAULT_CATEGORY}).
 * </ul>
 */
public final class StreamMessages {
  private static final Set<String> ENVELOPE_FIELDS = Set.of("tenant", "id", "category", "data", "sentAt");
  private static final Set<String> BATCH_FIELDS = Set.of("tenant", "sentAt", "messages");

  private StreamMessages() {}

  /** One message ready for the tenant's function; {@code position} is its index in its batch. */
  public record Item(String id, String category, Map<String, Object> data, Instant sentAt, int position) {}

  /** A message that cannot be ingested, and why; {@code id} is its message id where known. */
  public record Failure(String letterId, String id, int position, String reason, String raw) {}

  /** What one AMQP message holds. */
  public record Parsed(List<Item> items, List<Failure> failures) {
    public int size() {
      return items.size() + failures.size();
    }
  }

  public static Parsed parse(String tenantId, byte[] body, AMQP.BasicProperties properties) {
    String contentType = properties == null || properties.getContentType() == null ? "" : properties.getContentType();
    JsonNode root;
    try {
      root = ProtocolJson.JSON.readTree(body);
    } catch (IOException e) {
      String problem = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
      return failed(body, properties, "the message is not JSON: " + problem);
    }
    if (root == null || root.isMissingNode()) {
      return failed(body, properties, "the message is empty");
    }
    if (!root.isObject()) {
      return failed(body, properties, "the message is JSON but not an object (it is " + kind(root) + ")");
    }
    if (contentType.equals(MessageEnvelope.CONTENT_TYPE)) {
      Parsed one = envelope(tenantId, (ObjectNode) root, 0, Optional.empty());
      return one;
    }
    if (contentType.equals(MessageBatch.CONTENT_TYPE)) {
      return batch(tenantId, (ObjectNode) root, body);
    }
    // The seed's form: the body is the data instance, the id and category are AMQP properties.
    String id = properties == null ? null : properties.getMessageId();
    String category = properties == null || properties.getType() == null ? MessageEnvelope.DEFAULT_CATEGORY : properties.getType();
    Instant sentAt = properties == null || properties.getTimestamp() == null ? null : properties.getTimestamp().toInstant();
    Optional<String> problem = MessageEnvelope.idProblem(id).or(() -> MessageEnvelope.categoryProblem(category));
    if (problem.isPresent()) {
      return new Parsed(List.of(), List.of(new Failure(letterId(id, body, 0), id, 0, problem.get() + " (AMQP message-id / type properties)", raw(body))));
    }
    return new Parsed(List.of(new Item(id, category, toRecord(root), sentAt, 0)), List.of());
  }

  private static Parsed batch(String tenantId, ObjectNode root, byte[] body) {
    Optional<String> unknown = unknownField(root, BATCH_FIELDS);
    if (unknown.isPresent()) {
      return failed(body, null, "unknown field '" + unknown.get() + "' in a message batch");
    }
    Optional<String> tenantProblem = tenantProblem(tenantId, root);
    if (tenantProblem.isPresent()) {
      return failed(body, null, tenantProblem.get());
    }
    JsonNode messages = root.get("messages");
    if (messages == null || !messages.isArray()) {
      return failed(body, null, "a message batch needs a 'messages' array");
    }
    Optional<Instant> batchSentAt = instant(root.get("sentAt"));
    List<Item> items = new ArrayList<>(messages.size());
    List<Failure> failures = new ArrayList<>();
    int position = 0;
    for (JsonNode message : messages) {
      if (!message.isObject()) {
        failures.add(new Failure(letterId(null, body, position), null, position, "message " + position + " of the batch is not an object", message.toString()));
      } else {
        Parsed one = envelope(tenantId, (ObjectNode) message, position, batchSentAt);
        items.addAll(one.items());
        failures.addAll(one.failures());
      }
      position++;
    }
    return new Parsed(items, failures);
  }

  private static Parsed envelope(String tenantId, ObjectNode node, int position, Optional<Instant> defaultSentAt) {
    String id = node.path("id").isTextual() ? node.get("id").asText() : null;
    Optional<String> problem =
        unknownField(node, ENVELOPE_FIELDS).map(f -> "unknown field '" + f + "' in a message envelope")
            .or(() -> tenantProblem(tenantId, node))
            .or(() -> node.has("id") && !node.get("id").isTextual() ? Optional.of("the message id must be a string") : Optional.empty())
            .or(() -> MessageEnvelope.idProblem(id))
            .or(() -> node.has("category") && !node.get("category").isTextual() ? Optional.of("the category must be a string") : Optional.empty())
            .or(() -> MessageEnvelope.categoryProblem(node.path("category").asText(MessageEnvelope.DEFAULT_CATEGORY)))
            .or(() -> node.path("data").isObject() ? Optional.empty() : Optional.of("the message's 'data' must be a JSON object (it is " + kind(node.path("data")) + ")"));
    if (problem.isPresent()) {
      byte[] raw = node.toString().getBytes(StandardCharsets.UTF_8);
      return new Parsed(List.of(), List.of(new Failure(letterId(id, raw, position), id, position, problem.get(), node.toString())));
    }
    String category = node.path("category").asText(MessageEnvelope.DEFAULT_CATEGORY);
    Instant sentAt = instant(node.get("sentAt")).or(() -> defaultSentAt).orElse(null);
    return new Parsed(List.of(new Item(id, category, toRecord(node.get("data")), sentAt, position)), List.of());
  }

  private static Optional<String> tenantProblem(String tenantId, JsonNode node) {
    JsonNode tenant = node.get("tenant");
    if (tenant == null || tenant.isNull()) {
      return Optional.empty();
    }
    if (!tenant.isTextual() || !tenant.asText().equals(tenantId)) {
      return Optional.of("the message names tenant " + tenant + ", but it is in the queue of tenant '" + tenantId + "'");
    }
    return Optional.empty();
  }

  private static Optional<String> unknownField(JsonNode node, Set<String> known) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        return Optional.of(name);
      }
    }
    return Optional.empty();
  }

  private static Optional<Instant> instant(JsonNode node) {
    if (node == null || !node.isTextual()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(node.asText()));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /**
   * The data instance as the plain map a function takes: what {@code convertValue(object, Map)}
   * gives (LinkedHashMap, ArrayList, String, the number's own type, Boolean, null), read straight
   * from the tree instead of through a serialization round trip per message.
   */
  static Map<String, Object> toRecord(JsonNode object) {
    Map<String, Object> record = new LinkedHashMap<>(Math.max(4, object.size() * 4 / 3 + 1));
    Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      record.put(field.getKey(), plain(field.getValue()));
    }
    return record;
  }

  private static Object plain(JsonNode node) {
    return switch (node.getNodeType()) {
      case OBJECT -> toRecord(node);
      case ARRAY -> {
        List<Object> list = new ArrayList<>(node.size());
        for (JsonNode element : node) {
          list.add(plain(element));
        }
        yield list;
      }
      case STRING -> node.textValue();
      case NUMBER -> node.numberValue();
      case BOOLEAN -> node.booleanValue();
      case NULL, MISSING -> null;
      default -> ProtocolJson.JSON.convertValue(node, Object.class);
    };
  }

  private static Parsed failed(byte[] body, AMQP.BasicProperties properties, String reason) {
    String id = properties == null ? null : properties.getMessageId();
    return new Parsed(List.of(), List.of(new Failure(letterId(id, body, 0), id, 0, reason, raw(body))));
  }

  /** What a JSON value is, for error messages ("an array", "a string", ...). */
  public static String kind(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    };
  }

  /**
   * A dead letter's id: the message id where there is a valid one, else a digest of the bytes, so
   * that the same bad message delivered again is stored once.
   */
  private static String letterId(String id, byte[] body, int position) {
    if (id != null && MessageEnvelope.idProblem(id).isEmpty()) {
      return "message:" + id;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
      return "delivery:" + HexFormat.of().formatHex(digest, 0, 16) + ":" + position;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always there", e);
    }
  }

  private static String raw(byte[] body) {
    int n = Math.min(body.length, 8192);
    return new String(body, 0, n, StandardCharsets.UTF_8);
  }
}
