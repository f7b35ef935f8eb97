package io.mysimbdp.node.ingest;

import io.mysimbdp.functions.sealed.SealedValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;

/** Records (plain JSON-like maps from parsers and functions) as MongoDB documents. */
public final class Documents {
  private Documents() {}

  /** The record as a document with the given {@code _id} first; nested maps become documents. */
  public static Document withId(Object id, Map<String, Object> record) {
    Document doc = new Document("_id", id);
    for (Map.Entry<String, Object> field : record.entrySet()) {
      if (!field.getKey().equals("_id")) {
        doc.append(field.getKey(), toBson(field.getValue()));
      }
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
