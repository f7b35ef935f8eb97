package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.spi.CompileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A built-in function's configuration: a JSON object as a Map, read with typed getters whose
 * errors name the function and the key ("builtin coerce: config.fields.result: ...").
 */
public final class Config {
  private final String function;
  private final Map<String, ?> values;

  private Config(String function, Map<String, ?> values) {
    this.function = function;
    this.values = values == null ? Map.of() : values;
  }

  public static Config of(String function, Map<String, ?> values) {
    return new Config(function, values);
  }

  public String function() {
    return function;
  }

  public Map<String, ?> values() {
    return values;
  }

  public boolean has(String key) {
    return values.containsKey(key) && values.get(key) != null;
  }

  /** Fails on keys other than {@code allowed} (a typo should not silently do nothing). */
  public Config allowOnly(String... allowed) throws CompileException {
    Set<String> known = new LinkedHashSet<>(Arrays.asList(allowed));
    for (String key : values.keySet()) {
      if (!known.contains(key)) {
        throw error(key, "unknown key (expected one of " + known + ")");
      }
    }
    return this;
  }

  public String string(String key, String defaultValue) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (!(v instanceof String)) {
      throw error(key, "must be a string");
    }
    return (String) v;
  }

  public String requiredString(String key) throws CompileException {
    String v = string(key, null);
    if (v == null) {
      throw error(key, "is required");
    }
    return v;
  }

  /** One of {@code choices} (case-insensitive), returned lower-case. */
  public String choice(String key, String defaultValue, String... choices) throws CompileException {
    String v = string(key, defaultValue);
    for (String c : choices) {
      if (c.equalsIgnoreCase(v)) {
        return c;
      }
    }
    throw error(key, "must be one of " + Arrays.toString(choices) + ", not '" + v + "'");
  }

  public Number number(String key, Number defaultValue) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (!(v instanceof Number)) {
      throw error(key, "must be a number");
    }
    return (Number) v;
  }

  public boolean bool(String key, boolean defaultValue) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (!(v instanceof Boolean)) {
      throw error(key, "must be true or false");
    }
    return (Boolean) v;
  }

  /** A list of strings, or null when absent. */
  public List<String> strings(String key) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof List)) {
      throw error(key, "must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) v) {
      if (!(o instanceof String)) {
        throw error(key, "must be an array of strings");
      }
      out.add((String) o);
    }
    return out;
  }

  /** A list of anything, or null when absent. */
  public List<?> list(String key) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof List)) {
      throw error(key, "must be an array");
    }
    return (List<?>) v;
  }

  /** An object with string values, or null when absent. */
  public Map<String, String> stringMap(String key) throws CompileException {
    Map<String, ?> map = map(key);
    if (map == null) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof String)) {
        throw error(key + "." + e.getKey(), "must be a string");
      }
      out.put(e.getKey(), (String) e.getValue());
    }
    return out;
  }

  /** An object with number values, or null when absent. */
  public Map<String, Number> numberMap(String key) throws CompileException {
    Map<String, ?> map = map(key);
    if (map == null) {
      return null;
    }
    Map<String, Number> out = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof Number)) {
        throw error(key + "." + e.getKey(), "must be a number");
      }
      out.put(e.getKey(), (Number) e.getValue());
    }
    return out;
  }

  /** An object, or null when absent. */
  @SuppressWarnings("unchecked")
  public Map<String, ?> map(String key) throws CompileException {
    Object v = values.get(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Map)) {
      throw error(key, "must be an object");
    }
    for (Object k : ((Map<?, ?>) v).keySet()) {
      if (!(k instanceof String)) {
        throw error(key, "must be an object with string keys");
      }
    }
    return (Map<String, ?>) v;
  }

  public CompileException error(String key, String message) {
    return CompileException.of("builtin", function + ": config." + key + " " + message);
  }

  public CompileException error(String message) {
    return CompileException.of("builtin", function + ": " + message);
  }
}
