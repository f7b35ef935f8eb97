package io.mysimbdp.node.functions;

import io.mysimbdp.functions.builtin.CoerceFunction;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Typed CSV values for a category ({@code "types"} of {@code PUT categories/{category}}), applied to
 * every CSV record right after the reader and before the category's function. CSV cells are text;
 * without {@code types} (or with {@code "strings"}) they stay text, as always.
 *
 * <ul>
 *   <li>{@code "infer"}: each cell on its own: {@code true}/{@code false} (any case) → boolean; an
 *       integer without leading zeros → integer; a decimal or exponent number → number; an ISO-8601
 *       date or date-time → a date; anything else (empty cells, {@code "007"}, {@code "<0.5"}) stays
 *       text. Inference never fails a record.
 *   <li>{@code {"column": "number|integer|boolean|date|string"}}: the named columns must hold that
 *       type (an empty cell is null); a cell that does not sends its record to the dead letters at
 *       stage {@code type}, naming the column and the value. Columns not named stay text.
 * </ul>
 *
 * Numbers as {@link CoerceFunction} makes them (integral → 64-bit integer, else double); dates as
 * its canonical timestamp text, UTC with milliseconds ({@code 2019-01-24T12:58:00.000Z}, sortable;
 * a date-time without an offset is taken as UTC, a date as its midnight UTC).
 */
public final class CsvTypes {
  public static final CsvTypes STRINGS = new CsvTypes(false, Map.of());
  /** At most this many typed columns in an explicit schema. */
  public static final int MAX_COLUMNS = 1000;
  private static final int MAX_COLUMN_NAME = 256;

  private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9][0-9]{0,17})");
  private static final Pattern DECIMAL = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
  private static final Pattern ISO_DATE = Pattern.compile(
      "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|z|[+-][0-9]{2}:[0-9]{2})?)?");

  /** A cell that does not hold its column's type. */
  public static final class Mismatch extends Exception {
    private final String column;
    private final String value;

    Mismatch(String column, String value, String type) {
      super("column '" + column + "' must be " + type + ", not '" + abbreviate(value) + "'", null, false, false);
      this.column = column;
      this.value = value;
    }

    public String column() {
      return column;
    }

    public String value() {
      return value;
    }
  }

  /** A column type as the API names it, and the coercion behind it. */
  private enum ColumnType {
    STRING(CoerceFunction.Type.STRING),
    NUMBER(CoerceFunction.Type.NUMBER),
    INTEGER(CoerceFunction.Type.INTEGER),
    BOOLEAN(CoerceFunction.Type.BOOLEAN),
    DATE(CoerceFunction.Type.TIMESTAMP);

    final CoerceFunction.Type coerce;

    ColumnType(CoerceFunction.Type coerce) {
      this.coerce = coerce;
    }

    String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final boolean infer;
  private final Map<String, ColumnType> columns;

  private CsvTypes(boolean infer, Map<String, ColumnType> columns) {
    this.infer = infer;
    this.columns = columns;
  }

  /**
   * From the API's (or the store's) {@code types}: null or {@code "strings"}, {@code "infer"}, or an
   * object of column → type. An IllegalArgumentException names what is wrong.
   */
  public static CsvTypes fromSpec(Object spec) {
    if (spec == null || "strings".equals(spec)) {
      return STRINGS;
    }
    if ("infer".equals(spec)) {
      return new CsvTypes(true, Map.of());
    }
    if (!(spec instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("'types' must be \"infer\", \"strings\" or an object of column: type (number, integer, "
          + "boolean, date, string)");
    }
    if (map.isEmpty() || map.size() > MAX_COLUMNS) {
      throw new IllegalArgumentException("'types' must name 1 to " + MAX_COLUMNS + " columns");
    }
    Map<String, ColumnType> columns = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String column = String.valueOf(e.getKey());
      if (column.isBlank() || column.length() > MAX_COLUMN_NAME) {
        throw new IllegalArgumentException("a column name in 'types' must be 1 to " + MAX_COLUMN_NAME + " characters");
      }
      ColumnType type = null;
      for (ColumnType t : ColumnType.values()) {
        if (t.id().equals(e.getValue())) {
          type = t;
        }
      }
      if (type == null) {
        throw new IllegalArgumentException("column '" + abbreviate(column) + "': unknown type '" + abbreviate(String.valueOf(e.getValue()))
            + "' (number, integer, boolean, date, string)");
      }
      columns.put(column, type);
    }
    return new CsvTypes(false, Map.copyOf(columns));
  }

  /** As stored and answered: {@code "infer"}, the column → type object, or null for strings. */
  public Object spec() {
    if (infer) {
      return "infer";
    }
    if (columns.isEmpty()) {
      return null;
    }
    Map<String, String> out = new java.util.TreeMap<>();
    columns.forEach((column, type) -> out.put(column, type.id()));
    return out;
  }

  public boolean isStrings() {
    return !infer && columns.isEmpty();
  }

  /** The record's cells typed (a new map, in the same order); the fields as they are for strings. */
  public Map<String, Object> apply(Map<String, Object> fields) throws Mismatch {
    if (isStrings()) {
      return fields;
    }
    Map<String, Object> typed = new LinkedHashMap<>(fields.size() * 2);
    for (Map.Entry<String, Object> field : fields.entrySet()) {
      Object value = field.getValue();
      if (value instanceof String text) {
        value = infer ? inferred(text) : typed(field.getKey(), text);
      }
      typed.put(field.getKey(), value);
    }
    return typed;
  }

  private Object typed(String column, String text) throws Mismatch {
    ColumnType type = columns.get(column);
    if (type == null || type == ColumnType.STRING) {
      return text;
    }
    if (text.isBlank()) {
      return null;
    }
    try {
      return CoerceFunction.convert(type.coerce, text, ZoneOffset.UTC);
    } catch (RuntimeException e) {
      throw new Mismatch(column, text, (type == ColumnType.INTEGER ? "an " : "a ") + type.id());
    }
  }

  private static Object inferred(String text) {
    if (text.equalsIgnoreCase("true")) {
      return Boolean.TRUE;
    }
    if (text.equalsIgnoreCase("false")) {
      return Boolean.FALSE;
    }
    try {
      if (INTEGER.matcher(text).matches()) {
        return CoerceFunction.convert(CoerceFunction.Type.INTEGER, text, ZoneOffset.UTC);
      }
      if (DECIMAL.matcher(text).matches()) {
        return CoerceFunction.convert(CoerceFunction.Type.NUMBER, text, ZoneOffset.UTC);
      }
      if (ISO_DATE.matcher(text).matches()) {
        return CoerceFunction.convert(CoerceFunction.Type.TIMESTAMP, text, ZoneOffset.UTC);
      }
    } catch (RuntimeException e) {
      // Looked like a number or date but is not one (2021-02-30, 1e999): it stays text.
    }
    return text;
  }

  private static String abbreviate(String value) {
    return value.length() > 80 ? value.substring(0, 80) + "…" : value;
  }
}
