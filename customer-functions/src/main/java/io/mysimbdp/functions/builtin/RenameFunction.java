package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renames, keeps and drops top-level fields; with {@code replaceDots} it makes every key free of
 * dots (MongoDB reads dots in field names as paths). Config:
 *
 * <pre>{@code
 * {"fields": {"old name": "new name", ...},   // explicit renames (win over replaceDots)
 *  "replaceDots": "_",                        // "a.b.c" -> "a_b_c" for every other key
 *  "keep": ["a", "b"],                        // only these fields (original names); default all
 *  "drop": ["c"]}                             // never these
 * }</pre>
 *
 * Field order is kept. Two fields that end up with the same name fail the record.
 */
public final class RenameFunction implements IngestionFunction {
  public static final String NAME = "rename";

  private final Map<String, String> renames;
  private final String replaceDots;
  private final Set<String> keep;
  private final Set<String> drop;

  public RenameFunction(
      Map<String, String> renames, String replaceDots, List<String> keep, List<String> drop) {
    this.renames = renames == null ? Map.of() : Map.copyOf(renames);
    this.replaceDots = replaceDots;
    this.keep = keep == null ? null : new LinkedHashSet<>(keep);
    this.drop = drop == null ? Set.of() : Set.copyOf(drop);
  }

  public static RenameFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("fields", "replaceDots", "keep", "drop");
    return new RenameFunction(
        config.stringMap("fields"),
        config.string("replaceDots", null),
        config.strings("keep"),
        config.strings("drop"));
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    Map<String, Object> out = new LinkedHashMap<>(Math.max(4, record.size() * 2));
    for (Map.Entry<String, Object> e : record.entrySet()) {
      String key = e.getKey();
      if ((keep != null && !keep.contains(key)) || drop.contains(key)) {
        continue;
      }
      String name = renames.get(key);
      if (name == null) {
        name = replaceDots != null && key.indexOf('.') >= 0 ? key.replace(".", replaceDots) : key;
      }
      if (out.containsKey(name)) {
        throw new FunctionException(
            "rename: field '" + key + "' becomes '" + name + "', which another field already has");
      }
      out.put(name, e.getValue());
    }
    return List.of(out);
  }
}
