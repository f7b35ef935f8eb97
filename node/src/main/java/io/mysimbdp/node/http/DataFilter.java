package io.mysimbdp.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.client.model.Filters;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.bson.conversions.Bson;
import org.bson.types.Binary;

/**
 * The exact-value lookup of {@code GET data/{collection}?field=F&equals=V}: records whose field F
 * (a dotted path for nested ones) equals V, a JSON value: text, number, boolean, null, a sealed
 * value {@code {"$sealed":"<base64url>"}} (deterministic mode: the tenant seals the value it looks
 * for and the store compares ciphertexts; the platform learns nothing new), or an array of those
 * (any of them: one sealed value per key during a key rotation). Anything else is a 400, so a
 * query operator can never come through.
 */
final class DataFilter {
  private static final Pattern FIELD = Pattern.compile("[A-Za-z0-9_@-]+(\\.[A-Za-z0-9_@-]+)*");
  private static final int MAX_FIELD = 200;
  private static final int MAX_VALUES = 64;
  private static final int MAX_EQUALS = 64 * 1024;

  private DataFilter() {}

  /** {@code base}, restricted by the query's {@code field} and {@code equals} when given. */
  static Bson withEquals(Bson base, Map<String, String> query) {
    String field = query.get("field");
    String equals = query.get("equals");
    if (field == null && equals == null) {
      return base;
    }
    if (field == null || equals == null) {
      throw invalid("field and equals go together");
    }
    if (field.length() > MAX_FIELD || !FIELD.matcher(field).matches()) {
      throw invalid("field must be a field name or a dotted path of letters, digits, '_', '@' and '-'");
    }
    if (equals.length() > MAX_EQUALS) {
      throw invalid("equals is longer than " + MAX_EQUALS + " characters");
    }
    JsonNode json;
    try {
      json = ProtocolJson.JSON.readTree(equals);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw invalid("equals must be a JSON value (text in double quotes): " + e.getOriginalMessage());
    }
    List<Object> values = new ArrayList<>();
    if (json != null && json.isArray()) {
      if (json.size() < 1 || json.size() > MAX_VALUES) {
        throw invalid("equals may list 1 to " + MAX_VALUES + " values");
      }
      json.forEach(v -> addValue(values, v));
    } else {
      addValue(values, json);
    }
    return Filters.and(base, values.size() == 1 ? Filters.eq(field, values.get(0)) : Filters.in(field, values));
  }

  private static void addValue(List<Object> values, JsonNode v) {
    if (v == null || v.isNull()) {
      values.add(null);
    } else if (v.isTextual()) {
      values.add(v.asText());
    } else if (v.isIntegralNumber() && v.canConvertToLong()) {
      values.add(v.asLong());
    } else if (v.isNumber()) {
      values.add(v.asDouble());
    } else if (v.isBoolean()) {
      values.add(v.asBoolean());
    } else if (v.isObject() && v.size() == 1 && v.path(SealedEnvelope.JSON_KEY).isTextual()) {
      byte[] bytes;
      try {
        bytes = SealedEnvelope.parseBase64(v.path(SealedEnvelope.JSON_KEY).asText()).bytes();
      } catch (SealedEnvelope.MalformedException e) {
        throw invalid("equals: " + e.getMessage());
      }
      values.add(new Binary(SealedEnvelope.BSON_SUBTYPE, bytes));
      values.add(new Binary(bytes)); // as the embedded store keeps it (subtype dropped)
    } else {
      throw invalid("equals must be text, a number, a boolean, null, a sealed value {\"$sealed\":\"...\"} or an array of those");
    }
  }

  private static ApiException invalid(String message) {
    return new ApiException(400, "invalid_filter", message);
  }
}
