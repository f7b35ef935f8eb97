package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns dotted field names into nested objects: {@code "sample.samplingPoint.label": "X"} becomes
 * {@code {"sample": {"samplingPoint": {"label": "X"}}}}. Config:
 *
 * <pre>{@code
 * {"separator": ".",        // default "."
 *  "leafKey": "_value"}     // default "_value"
 * }</pre>
 *
 * When a name is both a value and a prefix of other names ({@code "sample.samplingPoint"} holds a
 * URI and {@code "sample.samplingPoint.label"} exists too), the value goes into the nested object
 * under {@code leafKey}: {@code {"samplingPoint": {"_value": "http://...", "label": "X"}}}. Objects
 * appear in the order their first field appears. The input is not modified.
 */
public final class NestFunction implements IngestionFunction {
  public static final String NAME = "nest";

  private final String separator;
  private final String leafKey;

  public NestFunction(String separator, String leafKey) {
    if (separator == null || separator.isEmpty()) {
      throw new IllegalArgumentException("separator must not be empty");
    }
    this.separator = separator;
    this.leafKey = leafKey;
  }

  public static NestFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("separator", "leafKey");
    String separator = config.string("separator", ".");
    if (separator.isEmpty()) {
      throw config.error("separator", "must not be empty");
    }
    String leafKey = config.string("leafKey", "_value");
    if (leafKey.contains(separator)) {
      throw config.error("leafKey", "must not contain the separator");
    }
    return new NestFunction(separator, leafKey);
  }

  /** A map this function created (and so may modify); input maps are copied before changes. */
  private static final class Nested extends LinkedHashMap<String, Object> {
    private static final long serialVersionUID = 1L;

    Nested() {
      super(8);
    }

    Nested(Map<?, ?> from) {
      super(Math.max(8, from.size() * 2));
      from.forEach((k, v) -> put(String.valueOf(k), v));
    }
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    Nested root = new Nested();
    for (Map.Entry<String, Object> e : record.entrySet()) {
      String key = e.getKey();
      if (!key.contains(separator)) {
        put(root, key, e.getValue(), key);
        continue;
      }
      String[] parts = split(key);
      Nested parent = root;
      for (int i = 0; i < parts.length - 1; i++) {
        parent = child(parent, parts[i], key);
      }
      put(parent, parts[parts.length - 1], e.getValue(), key);
    }
    return List.of(root);
  }

  private String[] split(String key) {
    // literal split (String.split takes a regex)
    java.util.ArrayList<String> parts = new java.util.ArrayList<>(4);
    int from = 0;
    int at;
    while ((at = key.indexOf(separator, from)) >= 0) {
      parts.add(key.substring(from, at));
      from = at + separator.length();
    }
    parts.add(key.substring(from));
    return parts.toArray(new String[0]);
  }

  /** The object at {@code name} in {@code parent}, created or converted as needed. */
  private Nested child(Nested parent, String name, String field) throws FunctionException {
    Object existing = parent.get(name);
    if (existing instanceof Nested) {
      return (Nested) existing;
    }
    Nested child;
    if (existing == null && !parent.containsKey(name)) {
      child = new Nested();
    } else if (existing instanceof Map) {
      child = new Nested((Map<?, ?>) existing);
    } else {
      child = new Nested();
      child.put(leafKey, existing);
    }
    parent.put(name, child);
    return child;
  }

  private void put(Nested parent, String name, Object value, String field)
      throws FunctionException {
    Object existing = parent.get(name);
    if (existing instanceof Nested && !(value instanceof Map)) {
      Nested object = (Nested) existing;
      if (object.containsKey(leafKey)) {
        throw new FunctionException(
            "nest: field '" + field + "' and a '" + leafKey + "' field both go to the same place");
      }
      object.put(leafKey, value);
      return;
    }
    if (parent.containsKey(name)) {
      throw new FunctionException("nest: field '" + field + "' collides with another field");
    }
    parent.put(name, value);
  }
}
