package io.mysimbdp.functions.sealed;

import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where sealed values enter the tenant's functions: the wire forms (a JSON object
 * {@code {"$sealed":"<base64url>"}} from JSON, NDJSON and stream messages; a text
 * {@code $sealed:<base64url>} from a CSV cell) become {@link SealedValue}s. The one place that does
 * it is {@link #admitting}, around every function a category resolves to, so batch files and
 * stream messages are treated alike. A value in a wire form that does not frame as an envelope
 * fails the record (a dead letter naming the field).
 */
public final class SealedFields {
  private static final int MAX_DEPTH = 64;

  private SealedFields() {}

  /** The function, given records whose sealed wire forms are {@link SealedValue}s. */
  public static IngestionFunction admitting(IngestionFunction function) {
    if (function instanceof Admitting) {
      return function;
    }
    return new Admitting(function);
  }

  private record Admitting(IngestionFunction function) implements IngestionFunction {
    @Override
    public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context) throws FunctionException {
      try {
        return function.apply(admit(record), context);
      } catch (SealedValue.Misuse e) {
        throw new FunctionException(e.getMessage());
      }
    }
  }

  /**
   * The record with its sealed wire forms as {@link SealedValue}s: the same map when it has none
   * (the usual case), else a copy (the input is not modified).
   */
  public static Map<String, Object> admit(Map<String, Object> record) throws FunctionException {
    if (!hasWireForm(record, 0)) {
      return record;
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> admitted = (Map<String, Object>) convert(record, "", 0);
    return admitted;
  }

  private static boolean hasWireForm(Object value, int depth) {
    if (value instanceof String s) {
      return s.startsWith(SealedEnvelope.TEXT_PREFIX);
    }
    if (depth > MAX_DEPTH) {
      return false;
    }
    if (value instanceof Map<?, ?> map) {
      if (map.containsKey(SealedEnvelope.JSON_KEY)) {
        return true;
      }
      for (Object v : map.values()) {
        if (hasWireForm(v, depth + 1)) {
          return true;
        }
      }
    } else if (value instanceof List<?> list) {
      for (Object v : list) {
        if (hasWireForm(v, depth + 1)) {
          return true;
        }
      }
    }
    return false;
  }

  private static Object convert(Object value, String path, int depth) throws FunctionException {
    try {
      if (value instanceof String s && SealedEnvelope.isText(s)) {
        return SealedValue.of(SealedEnvelope.parseText(s), path);
      }
      if (value instanceof Map<?, ?> map && map.containsKey(SealedEnvelope.JSON_KEY)) {
        return SealedValue.of(SealedEnvelope.parseJson(map), path);
      }
    } catch (SealedEnvelope.MalformedException e) {
      throw new FunctionException("field '" + path + "': " + e.getMessage());
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> copy = new LinkedHashMap<>(Math.max(4, map.size() * 2));
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = String.valueOf(e.getKey());
        copy.put(key, convert(e.getValue(), path.isEmpty() ? key : path + "." + key, depth + 1));
      }
      return copy;
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      int i = 0;
      for (Object v : list) {
        copy.add(convert(v, path + "[" + i++ + "]", depth + 1));
      }
      return copy;
    }
    return value;
  }

  /** The first sealed value at one of the paths (field names from the record's root), or null. */
  public static SealedValue sealedAt(Map<String, Object> record, List<List<String>> paths) {
    for (List<String> path : paths) {
      Object current = record;
      for (String key : path) {
        current = current instanceof Map<?, ?> m ? m.get(key) : null;
        if (current instanceof SealedValue sealed) {
          return sealed;
        }
      }
    }
    return null;
  }

  /** Whether the value is, or holds, a sealed value. */
  public static boolean containsSealed(Object value) {
    if (value instanceof SealedValue) {
      return true;
    }
    if (value instanceof Map<?, ?> map) {
      for (Object v : map.values()) {
        if (containsSealed(v)) {
          return true;
        }
      }
    } else if (value instanceof List<?> list) {
      for (Object v : list) {
        if (containsSealed(v)) {
          return true;
        }
      }
    }
    return false;
  }
}
