package io.mysimbdp.node.pipeline;

import io.mysimbdp.functions.sealed.SealedValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;

/** Records (plain JSON-like maps from parsers and functions) as MongoDB documents. */
public final class Documents {
  /**
   * Where a record's own {@code _id} is kept: {@code _id} is the platform's deterministic id (what
   * makes a redelivery a duplicate, not a second copy), so the record's value moves here.
   */
  public static final String SOURCE_ID_FIELD = "_sourceId";

  private Documents() {}

  /**
   * The record as a document with the given {@code _id} first; nested maps become documents. A
   * record's own {@code _id} is kept under {@link #SOURCE_ID_FIELD} (under {@code __sourceId},
   * {@code ___sourceId}, … if the record has that field too), never dropped.
   */
  public static Document withId(Object id, Map<String, Object> record) {
    Document doc = new Document("_id", id);
    for (Map.Entry<String, Object> field : record.entrySet()) {
      if (!field.getKey().equals("_id")) {
        doc.append(field.getKey(), toBson(field.getValue()));
      }
    }
    if (record.containsKey("_id")) {
      String name = SOURCE_ID_FIELD;
      while (record.containsKey(name)) {
        name = "_" + name;
      }
      doc.append(name, toBson(record.get("_id")));
    }
    return doc;
  }

  private static Object toBson(Object value) {
    if (value instanceof Map<?, ?> map) {
      Document nested = new Document();
      map.forEach((k, v) -> nested.append(String.valueOf(k), toBson(v)));
      return nested;
    }
    if (value instanceof List<?> list) {
      List<Object> converted = new ArrayList<>(list.size());
      list.forEach(v -> converted.add(toBson(v)));
      return converted;
    }
    if (value instanceof SealedValue sealed) {
      return SealedBson.binary(sealed);
    }
    return value;
  }
}
