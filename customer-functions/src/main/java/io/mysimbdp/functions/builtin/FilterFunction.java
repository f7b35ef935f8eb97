package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.quality.CelText;
import io.mysimbdp.functions.sandbox.CelPredicate;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Keeps the records a CEL predicate accepts, drops the others. Config, either a CEL predicate or a
 * shorthand that compiles to one:
 *
 * <pre>{@code
 * {"cel": "record['sample.isComplianceSample'] == 'true'"}
 * {"field": "sample.isComplianceSample", "equals": "true"}
 * {"field": "determinand.unit.label", "in": ["mg/l", "ug/l"]}
 * {"field": "resultQualifier.notation", "exists": true}
 * {"onError": "fail" | "drop" | "keep"}   // predicate cannot be evaluated (default fail)
 * }</pre>
 */
public final class FilterFunction implements IngestionFunction {
  public static final String NAME = "filter";

  public enum OnError {
    FAIL,
    DROP,
    KEEP
  }

  private final CelPredicate predicate;
  private final OnError onError;

  public FilterFunction(CelPredicate predicate, OnError onError) {
    this.predicate = predicate;
    this.onError = onError;
  }

  public static FilterFunction fromConfig(Config config, SandboxLimits limits)
      throws CompileException {
    config.allowOnly("cel", "field", "path", "equals", "in", "exists", "onError");
    OnError onError =
        OnError.valueOf(config.choice("onError", "fail", "fail", "drop", "keep").toUpperCase(java.util.Locale.ROOT));
    String cel = config.string("cel", null);
    if (cel == null) {
      cel = shorthand(config);
    } else if (config.has("field") || config.has("path")) {
      throw config.error("give either cel or field/path, not both");
    }
    return new FilterFunction(CelPredicate.compile(cel, limits), onError);
  }

  private static String shorthand(Config config) throws CompileException {
    List<String> path =
        config.has("path") ? config.strings("path") : field(config.string("field", null), config);
    String access = CelText.field(path);
    int given = (config.has("equals") ? 1 : 0) + (config.has("in") ? 1 : 0) + (config.has("exists") ? 1 : 0);
    if (given != 1) {
      throw config.error("needs exactly one of equals, in, exists (or a cel predicate)");
    }
    try {
      if (config.has("equals")) {
        return access + " == " + CelText.literal(config.values().get("equals"));
      }
      if (config.has("in")) {
        List<String> literals = new ArrayList<>();
        for (Object v : config.list("in")) {
          literals.add(CelText.literal(v));
        }
        return access + " in [" + String.join(", ", literals) + "]";
      }
    } catch (IllegalArgumentException e) {
      throw config.error(e.getMessage());
    }
    String exists = CelText.present(path) + " && " + access + " != null";
    return config.bool("exists", true) ? exists : "!(" + exists + ")";
  }

  private static List<String> field(String field, Config config) throws CompileException {
    if (field == null) {
      throw config.error("needs cel, field or path");
    }
    return List.of(field);
  }

  public CelPredicate predicate() {
    return predicate;
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    CelPredicate.Outcome outcome = predicate.evaluate(record, context);
    switch (outcome.status()) {
      case PASS:
        return List.of(record);
      case FAIL:
        return List.of();
      default:
        if (onError == OnError.DROP) {
          return List.of();
        }
        if (onError == OnError.KEEP) {
          return List.of(record);
        }
        throw new FunctionException("filter: " + outcome.reason());
    }
  }
}
