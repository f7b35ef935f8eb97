package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.Records;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Splits one record into several. Two modes:
 *
 * <pre>{@code
 * {"array": "items", "as": "item", "keep": ["id"]}
 *     // one record per element of the array field "items": the kept fields plus the element
 *     // under "as" (without "as", an object element's fields are merged in); missing, null or
 *     // empty array: no records
 * {"unpivot": ["temperature", "ph"], "nameField": "field", "valueField": "value", "keep": ["id"]}
 *     // one record per listed field present: {"id": .., "field": "ph", "value": 7.1}
 * }</pre>
 *
 * {@code keep} defaults to every field other than the split ones.
 */
public final class SplitFunction implements IngestionFunction {
  public static final String NAME = "split";

  private final String array;
  private final String as;
  private final List<String> unpivot;
  private final String nameField;
  private final String valueField;
  private final Set<String> keep;

  private SplitFunction(
      String array,
      String as,
      List<String> unpivot,
      String nameField,
      String valueField,
      List<String> keep) {
    this.array = array;
    this.as = as;
    this.unpivot = unpivot;
    this.nameField = nameField;
    this.valueField = valueField;
    this.keep = keep == null ? null : new LinkedHashSet<>(keep);
  }

  /** One record per element of the array in {@code field} (under {@code as}, or merged). */
  public static SplitFunction byArray(String field, String as, List<String> keep) {
    return new SplitFunction(field, as, null, null, null, keep);
  }

  /** One record per listed field: {@code {nameField: field, valueField: value}} plus kept fields. */
  public static SplitFunction unpivot(
      List<String> fields, String nameField, String valueField, List<String> keep) {
    return new SplitFunction(null, null, List.copyOf(fields), nameField, valueField, keep);
  }

  public static SplitFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("array", "as", "keep", "unpivot", "nameField", "valueField");
    List<String> keep = config.strings("keep");
    if (config.has("array") == config.has("unpivot")) {
      throw config.error("needs exactly one of array, unpivot");
    }
    if (config.has("array")) {
      return byArray(config.requiredString("array"), config.string("as", null), keep);
    }
    List<String> fields = config.strings("unpivot");
    if (fields.isEmpty()) {
      throw config.error("unpivot", "must not be empty");
    }
    return unpivot(
        fields, config.string("nameField", "field"), config.string("valueField", "value"), keep);
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    return array != null ? byArray(record) : byFields(record);
  }

  private List<Map<String, Object>> byArray(Map<String, Object> record) throws FunctionException {
    Object value = record.get(array);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List)) {
      throw new FunctionException(
          "split: field '" + array + "' is " + Records.describeType(value) + ", not an array");
    }
    List<?> elements = (List<?>) value;
    List<Map<String, Object>> out = new ArrayList<>(elements.size());
    int i = 0;
    for (Object element : elements) {
      Map<String, Object> r = kept(record, Set.of(array));
      if (as != null) {
        r.put(as, element);
      } else if (element instanceof Map) {
        for (Map.Entry<?, ?> e : ((Map<?, ?>) element).entrySet()) {
          r.put(String.valueOf(e.getKey()), e.getValue());
        }
      } else {
        throw new FunctionException(
            "split: element " + i + " of '" + array + "' is " + Records.describeType(element)
                + ", not an object (set \"as\" to keep such elements)");
      }
      out.add(r);
      i++;
    }
    return out;
  }

  private List<Map<String, Object>> byFields(Map<String, Object> record) {
    List<Map<String, Object>> out = new ArrayList<>(unpivot.size());
    Set<String> split = Set.copyOf(unpivot);
    for (String field : unpivot) {
      if (!record.containsKey(field)) {
        continue;
      }
      Map<String, Object> r = kept(record, split);
      r.put(nameField, field);
      r.put(valueField, record.get(field));
      out.add(r);
    }
    return out;
  }

  private Map<String, Object> kept(Map<String, Object> record, Set<String> split) {
    Map<String, Object> r = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : record.entrySet()) {
      String key = e.getKey();
      if (keep != null ? keep.contains(key) : !split.contains(key)) {
        r.put(key, e.getValue());
      }
    }
    return r;
  }
}
