package io.mysimbdp.functions;

import io.mysimbdp.functions.sealed.SealedValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Helpers for records as plain Java values (String, Number, Boolean, null, List, Map).
 *
 * <p><b>Canonical numbers.</b> JSON has one number type; Java has many. Every number a function of
 * this module produces is canonical: a {@code Long} when the value is integral (and, for values
 * that came as floating point, within ±2^53 where a double is exact), a {@code Double} otherwise.
 * So "7.27" becomes {@code 7.27d}, "0" and 0.0 become {@code 0L}. Built-in Java functions and
 * sandboxed JSONata therefore produce equal Java values for equal JSON, and MongoDB stores int64 or
 * double accordingly (its comparisons are numeric across both).
 */
public final class Records {
  private static final double EXACT_DOUBLE_LIMIT = 9_007_199_254_740_992d; // 2^53

  private Records() {}

  /** The canonical form of a number (see the class comment); NaN and infinities are rejected. */
  public static Number canonicalNumber(Number n) {
    if (n instanceof Long) {
      return n;
    }
    if (n instanceof Integer || n instanceof Short || n instanceof Byte) {
      return n.longValue();
    }
    if (n instanceof BigInteger) {
      BigInteger b = (BigInteger) n;
      return b.bitLength() < 64 ? (Number) b.longValue() : canonicalDouble(b.doubleValue());
    }
    if (n instanceof BigDecimal) {
      BigDecimal b = ((BigDecimal) n).stripTrailingZeros();
      if (b.scale() <= 0 && b.precision() - b.scale() < 19) {
        return b.longValueExact();
      }
      return canonicalDouble(b.doubleValue());
    }
    return canonicalDouble(n.doubleValue());
  }

  private static Number canonicalDouble(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("not a JSON number: " + d);
    }
    if (d == Math.rint(d) && Math.abs(d) <= EXACT_DOUBLE_LIMIT) {
      return (long) d;
    }
    return d;
  }

  /**
   * A deep, mutable copy of a JSON-like value (LinkedHashMap, ArrayList), numbers canonical.
   *
   * @throws IllegalArgumentException for a value that is not JSON (e.g. a java.time type)
   */
  public static Object deepCopy(Object value) {
    if (value == null || value instanceof String || value instanceof Boolean || value instanceof SealedValue) {
      return value; // immutable
    }
    if (value instanceof Number) {
      return canonicalNumber((Number) value);
    }
    if (value instanceof Map) {
      Map<?, ?> map = (Map<?, ?>) value;
      Map<String, Object> copy = new LinkedHashMap<>(Math.max(4, map.size() * 2));
      for (Map.Entry<?, ?> e : map.entrySet()) {
        copy.put(String.valueOf(e.getKey()), deepCopy(e.getValue()));
      }
      return copy;
    }
    if (value instanceof List) {
      List<?> list = (List<?>) value;
      List<Object> copy = new ArrayList<>(list.size());
      for (Object o : list) {
        copy.add(deepCopy(o));
      }
      return copy;
    }
    throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
  }

  /** A deep copy of a record (see {@link #deepCopy}). */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> copyRecord(Map<String, ?> record) {
    return (Map<String, Object>) deepCopy(record);
  }

  /** "a string", "a number", ... for error messages. */
  public static String describeType(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof Number) {
      return "a number";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof Map) {
      return "an object";
    }
    if (value instanceof List) {
      return "an array";
    }
    if (value instanceof SealedValue) {
      return "a sealed value";
    }
    return "a " + value.getClass().getSimpleName();
  }
}
