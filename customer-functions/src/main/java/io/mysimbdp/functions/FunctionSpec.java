package io.mysimbdp.functions;

import io.mysimbdp.functions.builtin.Config;
import io.mysimbdp.functions.spi.CompileException;
import java.util.Map;
import java.util.Objects;

/**
 * What a category's function is, as the platform stores it: a built-in by name with its config, or
 * an uploaded source in JSONata (a transform) or CEL (a filter predicate).
 *
 * <p>As JSON (see {@link #fromMap}): {@code {"builtin": "coerce", "config": {...}}}, {@code
 * {"jsonata": "<source>", "config": {...}}} or {@code {"cel": "<predicate>"}}.
 */
public record FunctionSpec(Kind kind, String name, String source, Map<String, ?> config) {

  public enum Kind {
    BUILTIN,
    JSONATA,
    CEL
  }

  public FunctionSpec {
    Objects.requireNonNull(kind, "kind");
    config = config == null ? Map.of() : config;
    if (kind == Kind.BUILTIN) {
      Objects.requireNonNull(name, "name");
    } else {
      Objects.requireNonNull(source, "source");
    }
  }

  public static FunctionSpec builtin(String name, Map<String, ?> config) {
    return new FunctionSpec(Kind.BUILTIN, name, null, config);
  }

  public static FunctionSpec jsonata(String source) {
    return new FunctionSpec(Kind.JSONATA, null, source, Map.of());
  }

  public static FunctionSpec jsonata(String source, Map<String, ?> config) {
    return new FunctionSpec(Kind.JSONATA, null, source, config);
  }

  public static FunctionSpec cel(String source) {
    return new FunctionSpec(Kind.CEL, null, source, Map.of());
  }

  /** Reads the JSON form; exactly one of "builtin", "jsonata", "cel", plus optional "config". */
  public static FunctionSpec fromMap(Map<String, ?> json) throws CompileException {
    Config c = Config.of("function", json);
    c.allowOnly("builtin", "jsonata", "cel", "config");
    int kinds = (c.has("builtin") ? 1 : 0) + (c.has("jsonata") ? 1 : 0) + (c.has("cel") ? 1 : 0);
    if (kinds != 1) {
      throw c.error("needs exactly one of builtin, jsonata, cel");
    }
    Map<String, ?> config = c.map("config");
    if (c.has("builtin")) {
      return builtin(c.requiredString("builtin"), config);
    }
    if (c.has("jsonata")) {
      return jsonata(c.requiredString("jsonata"), config);
    }
    if (config != null && !config.isEmpty()) {
      throw c.error("config", "is not used by a cel filter");
    }
    return cel(c.requiredString("cel"));
  }
}
