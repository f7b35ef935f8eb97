package io.mysimbdp.functions.quality;

import java.util.List;

/** Writes CEL source text for the shorthand rule kinds: field access and literals, escaped. */
public final class CelText {
  private CelText() {}

  /** {@code record['a']['b']} for the path [a, b]; keys are quoted, so dots are fine. */
  public static String field(List<String> path) {
    if (path == null || path.isEmpty()) {
      throw new IllegalArgumentException("a field path needs at least one key");
    }
    StringBuilder b = new StringBuilder("record");
    for (String key : path) {
      b.append('[').append(string(key)).append(']');
    }
    return b.toString();
  }

  /**
   * The object holding the key at {@code path.get(depth)}: {@code record}, or the field above it
   * wrapped in {@code dyn()} (cel-java 0.14 resolves {@code "k" in record["a"]["b"]} to the list
   * overload only and fails at run time; {@code dyn()} defers the choice to the value).
   */
  public static String container(List<String> path, int depth) {
    return depth == 0 ? "record" : "dyn(" + field(path.subList(0, depth)) + ")";
  }

  /** {@code "a" in record && "b" in dyn(record["a"])}: every key of the path is present. */
  public static String present(List<String> path) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < path.size(); i++) {
      if (i > 0) {
        b.append(" && ");
      }
      b.append(string(path.get(i))).append(" in ").append(container(path, i));
    }
    return b.toString();
  }

  /** A CEL literal for a JSON scalar (string, number, boolean, null). */
  public static String literal(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String) {
      return string((String) value);
    }
    if (value instanceof Boolean) {
      return value.toString();
    }
    if (value instanceof Number) {
      double d = ((Number) value).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new IllegalArgumentException("not a JSON number: " + value);
      }
      // always a double literal: the runtime compares int and double values numerically
      String text = Double.toString(d);
      return text.contains("E") ? String.format(java.util.Locale.ROOT, "%.17g", d) : text;
    }
    throw new IllegalArgumentException("not a JSON scalar: " + value.getClass().getSimpleName());
  }

  /** A double-quoted CEL string literal. */
  public static String string(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    return b.append('"').toString();
  }
}
