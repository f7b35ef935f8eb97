package io.mysimbdp.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/** Printing the platform's JSON answers: raw (for jq), as aligned fields, or one record a line. */
final class Json {
  private Json() {}

  static ObjectNode object() {
    return PlatformClient.READER.createObjectNode();
  }

  static byte[] bytes(JsonNode node) {
    try {
      return PlatformClient.READER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String compact(JsonNode node) {
    try {
      return PlatformClient.READER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The answer as indented JSON. */
  static void pretty(PrintWriter out, JsonNode node) {
    try {
      out.println(PlatformClient.READER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    out.flush();
  }

  /** An object's fields as {@code name: value} lines, names padded; nested values compact JSON. */
  static void fields(PrintWriter out, JsonNode node) {
    if (!node.isObject()) {
      pretty(out, node);
      return;
    }
    int width = 0;
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      width = Math.max(width, names.next().length());
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      JsonNode value = field.getValue();
      String text = value.isValueNode() ? value.asText() : compact(value);
      out.println(field.getKey() + ":" + " ".repeat(width - field.getKey().length() + 1) + text);
    }
    out.flush();
  }

  /**
   * The records of a page: the answer itself when it is an array, else its first array field
   * ({@code records}, {@code deadLetters}, ... whatever the route names it).
   */
  static ArrayNode items(JsonNode answer) {
    if (answer.isArray()) {
      return (ArrayNode) answer;
    }
    for (Iterator<JsonNode> values = answer.elements(); values.hasNext(); ) {
      JsonNode value = values.next();
      if (value.isArray()) {
        return (ArrayNode) value;
      }
    }
    return PlatformClient.READER.createArrayNode();
  }

  /** The cursor of the next page ({@code next}), when there is one. */
  static Optional<String> next(JsonNode answer) {
    JsonNode next = answer.path("next");
    return next.isValueNode() && !next.isNull() && !next.asText().isEmpty() ? Optional.of(next.asText()) : Optional.empty();
  }
}
