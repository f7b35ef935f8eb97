package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.Records;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Converts top-level fields to typed values; CSV gives every column as a string. Config:
 *
 * <pre>{@code
 * {"fields": {"result": "number", "sample.isComplianceSample": "boolean",
 *             "sample.sampleDateTime": "timestamp", "easting": "integer"},
 *  "emptyStrings": "keep" | "drop" | "null",   // "" in any field (default keep)
 *  "onError": "fail" | "null" | "keep" | "drop", // a value that does not convert (default fail)
 *  "zone": "UTC"}                               // zone of timestamps without an offset
 * }</pre>
 *
 * Types:
 *
 * <ul>
 *   <li>{@code number}: a decimal number → canonical number (Long when integral, else Double; see
 *       {@link Records#canonicalNumber});
 *   <li>{@code integer}: an integral number → Long;
 *   <li>{@code boolean}: "true"/"false" in any case → Boolean;
 *   <li>{@code timestamp}: ISO-8601 date-time with or without offset (without: in {@code zone}), a
 *       date (midnight in {@code zone}), or epoch milliseconds → the canonical timestamp string, UTC
 *       with milliseconds: {@code 2019-01-24T12:58:00.000Z} (sortable as text, what JavaScript's
 *       {@code toISOString()} and JSONata's {@code $fromMillis()} print);
 *   <li>{@code string}: numbers and booleans → their text.
 * </ul>
 *
 * Fields not named pass unchanged; field order is kept; absent fields stay absent.
 */
public final class CoerceFunction implements IngestionFunction {
  public static final String NAME = "coerce";

  /** The canonical timestamp format: UTC, milliseconds, 'Z'. */
  public static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  public enum Type {
    STRING,
    NUMBER,
    INTEGER,
    BOOLEAN,
    TIMESTAMP
  }

  public enum Empty {
    KEEP,
    DROP,
    NULL
  }

  public enum OnError {
    FAIL,
    NULL,
    KEEP,
    DROP
  }

  private final Map<String, Type> fields;
  private final Empty empty;
  private final OnError onError;
  private final ZoneId zone;

  public CoerceFunction(Map<String, Type> fields, Empty empty, OnError onError, ZoneId zone) {
    this.fields = Map.copyOf(fields);
    this.empty = empty;
    this.onError = onError;
    this.zone = zone;
  }

  public static CoerceFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("fields", "emptyStrings", "onError", "zone");
    Map<String, String> names = config.stringMap("fields");
    Map<String, Type> fields = new LinkedHashMap<>();
    if (names != null) {
      for (Map.Entry<String, String> e : names.entrySet()) {
        try {
          fields.put(e.getKey(), Type.valueOf(e.getValue().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException ex) {
          throw config.error(
              "fields." + e.getKey(),
              "unknown type '" + e.getValue() + "' (string, number, integer, boolean, timestamp)");
        }
      }
    }
    Empty empty =
        Empty.valueOf(
            config.choice("emptyStrings", "keep", "keep", "drop", "null").toUpperCase(Locale.ROOT));
    OnError onError =
        OnError.valueOf(
            config.choice("onError", "fail", "fail", "null", "keep", "drop").toUpperCase(Locale.ROOT));
    ZoneId zone;
    try {
      zone = ZoneId.of(config.string("zone", "UTC"));
    } catch (DateTimeException e) {
      throw config.error("zone", "is not a time zone: " + e.getMessage());
    }
    return new CoerceFunction(fields, empty, onError, zone);
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    return List.of(coerce(record));
  }

  /** The converted record (a new map; the input is not modified). */
  public Map<String, Object> coerce(Map<String, Object> record) throws FunctionException {
    Map<String, Object> out = new LinkedHashMap<>(Math.max(4, record.size() * 2));
    for (Map.Entry<String, Object> e : record.entrySet()) {
      String key = e.getKey();
      Object value = e.getValue();
      if ("".equals(value) && empty != Empty.KEEP) {
        if (empty == Empty.NULL) {
          out.put(key, null);
        }
        continue;
      }
      Type type = fields.get(key);
      if (type == null || value == null) {
        out.put(key, value);
        continue;
      }
      Object converted;
      try {
        converted = convert(type, value, zone);
      } catch (IllegalArgumentException | ArithmeticException | DateTimeException ex) {
        switch (onError) {
          case NULL:
            out.put(key, null);
            continue;
          case KEEP:
            out.put(key, value);
            continue;
          case DROP:
            continue;
          default:
            throw new FunctionException(
                "coerce: field '" + key + "': " + ex.getMessage());
        }
      }
      out.put(key, converted);
    }
    return out;
  }

  /** Converts one value (see the class comment); throws IllegalArgumentException if it cannot. */
  public static Object convert(Type type, Object value, ZoneId zone) {
    switch (type) {
      case STRING:
        if (value instanceof String) {
          return value;
        }
        if (value instanceof Number) {
          return Records.canonicalNumber((Number) value).toString();
        }
        if (value instanceof Boolean) {
          return value.toString();
        }
        throw new IllegalArgumentException(Records.describeType(value) + " is not a string");
      case NUMBER:
        return number(value);
      case INTEGER:
        {
          Number n = number(value);
          if (!(n instanceof Long)) {
            throw new IllegalArgumentException(quote(value) + " is not an integer");
          }
          return n;
        }
      case BOOLEAN:
        if (value instanceof Boolean) {
          return value;
        }
        if (value instanceof String) {
          String s = ((String) value).trim();
          if (s.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
          }
          if (s.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
          }
        }
        throw new IllegalArgumentException(quote(value) + " is not a boolean");
      case TIMESTAMP:
        return TIMESTAMP.format(instant(value, zone));
      default:
        throw new IllegalStateException(type.toString());
    }
  }

  private static Number number(Object value) {
    if (value instanceof Number) {
      return Records.canonicalNumber((Number) value);
    }
    if (value instanceof String) {
      String s = ((String) value).trim();
      try {
        return Records.canonicalNumber(new BigDecimal(s));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(quote(value) + " is not a number");
      }
    }
    throw new IllegalArgumentException(Records.describeType(value) + " is not a number");
  }

  /** A timestamp value as an instant: ISO-8601 with/without offset, a date, or epoch millis. */
  public static Instant instant(Object value, ZoneId zone) {
    if (value instanceof Number) {
      Number n = Records.canonicalNumber((Number) value);
      if (!(n instanceof Long)) {
        throw new IllegalArgumentException(quote(value) + " is not whole epoch milliseconds");
      }
      return Instant.ofEpochMilli(n.longValue());
    }
    if (!(value instanceof String)) {
      throw new IllegalArgumentException(Records.describeType(value) + " is not a timestamp");
    }
    String s = ((String) value).trim();
    try {
      if (s.length() > 10) {
        char last = s.charAt(s.length() - 1);
        boolean hasOffset =
            last == 'Z'
                || last == 'z'
                || s.lastIndexOf('+') > 10
                || s.lastIndexOf('-') > 10;
        if (hasOffset) {
          return OffsetDateTime.parse(s.replace('z', 'Z')).toInstant();
        }
        return LocalDateTime.parse(s).atZone(zone).toInstant();
      }
      return LocalDate.parse(s).atStartOfDay(zone).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(quote(value) + " is not an ISO-8601 timestamp");
    }
  }

  private static String quote(Object value) {
    String s = String.valueOf(value);
    return "'" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "'";
  }
}
