package io.mysimbdp.functions.quality;

import com.google.re2j.PatternSyntaxException;
import io.mysimbdp.functions.builtin.Config;
import io.mysimbdp.functions.spi.CompileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A named quality indicator: a CEL predicate over {@code record} that a good record satisfies, the
 * pass rate that is acceptable (0..1) and what happens to a record that fails it.
 *
 * <p>Shorthand kinds compile to CEL ({@link #cel()} shows the result): {@link #required},
 * {@link #range}, {@link #pattern}, {@link #allowed}. A field is a top-level key ({@code "result"},
 * also {@code "sample.isComplianceSample"}: keys are not split on dots) or a path into nested
 * objects ({@code ["sample", "samplingPoint", "label"]}).
 *
 * @param name unique within a rule set; used in tags and counts
 * @param cel the predicate
 * @param threshold acceptable pass rate, 0..1
 * @param action what a failing record gets
 * @param failureText how a false result is explained ("missing field x", "... outside [0, 100]")
 */
public record QualityRule(
    String name, String cel, double threshold, Action action, String failureText) {

  /** What happens to a record that fails the rule. */
  public enum Action {
    /** Stored, tagged with the names of the rules it failed. */
    TAG,
    /** Not stored; goes to the tenant's dead-letter store with the reasons. */
    DEAD_LETTER
  }

  public QualityRule {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cel, "cel");
    Objects.requireNonNull(action, "action");
    if (name.isBlank()) {
      throw new IllegalArgumentException("a rule needs a name");
    }
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new IllegalArgumentException("threshold must be between 0 and 1: " + threshold);
    }
    if (failureText == null) {
      failureText = "predicate is false";
    }
  }

  public static QualityRule cel(String name, String cel, double threshold, Action action) {
    return new QualityRule(name, cel, threshold, action, "predicate is false");
  }

  /** Present, not null and not the empty string. */
  public static QualityRule required(
      String name, List<String> field, double threshold, Action action) {
    String access = CelText.field(field);
    String cel =
        CelText.present(field) + " && " + access + " != null && " + access + " != \"\"";
    return new QualityRule(name, cel, threshold, action, "missing field " + display(field));
  }

  /** A number (or numeric string) within [min, max]; either bound may be null. */
  public static QualityRule range(
      String name, List<String> field, Number min, Number max, double threshold, Action action) {
    if (min == null && max == null) {
      throw new IllegalArgumentException("a range needs min or max");
    }
    String value = "double(" + CelText.field(field) + ")";
    List<String> parts = new ArrayList<>();
    if (min != null) {
      parts.add(value + " >= " + CelText.literal(min));
    }
    if (max != null) {
      parts.add(value + " <= " + CelText.literal(max));
    }
    return new QualityRule(
        name,
        String.join(" && ", parts),
        threshold,
        action,
        display(field) + " outside [" + (min == null ? "-inf" : min) + ", " + (max == null ? "inf" : max) + "]");
  }

  /** The value's text matches an RE2 regular expression (partial match: anchor with ^...$). */
  public static QualityRule pattern(
      String name, List<String> field, String regex, double threshold, Action action) {
    try {
      com.google.re2j.Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("invalid regular expression: " + e.getMessage());
    }
    return new QualityRule(
        name,
        "string(" + CelText.field(field) + ").matches(" + CelText.string(regex) + ")",
        threshold,
        action,
        display(field) + " does not match " + regex);
  }

  /** The value is one of {@code values} (JSON scalars; numbers compare numerically). */
  public static QualityRule allowed(
      String name, List<String> field, List<?> values, double threshold, Action action) {
    if (values == null || values.isEmpty()) {
      throw new IllegalArgumentException("allowed values must not be empty");
    }
    List<String> literals = new ArrayList<>();
    for (Object v : values) {
      literals.add(CelText.literal(v));
    }
    return new QualityRule(
        name,
        CelText.field(field) + " in [" + String.join(", ", literals) + "]",
        threshold,
        action,
        display(field) + " is not an allowed value");
  }

  /**
   * A rule from its JSON definition:
   *
   * <pre>{@code
   * {"name": "result-range", "kind": "range", "field": "result", "min": 0, "max": 1000,
   *  "threshold": 0.99, "action": "TAG"}
   * {"name": "x", "cel": "record.a > 1"}           // kind "cel" is the default
   * }</pre>
   *
   * kinds: cel (key "cel"), required, range (min, max), pattern (regex), allowed (values); the
   * field as "field" (a top-level key) or "path" (array of keys); threshold defaults to 1.0,
   * action to TAG.
   */
  public static QualityRule fromMap(Map<String, ?> definition) throws CompileException {
    String label = "quality rule " + definition.get("name");
    Config c = Config.of(label, definition);
    c.allowOnly(
        "name", "kind", "cel", "field", "path", "min", "max", "regex", "values", "threshold", "action");
    String name = c.requiredString("name");
    String kind = c.choice("kind", "cel", "cel", "required", "range", "pattern", "allowed");
    double threshold = c.number("threshold", 1.0).doubleValue();
    if (!(threshold >= 0 && threshold <= 1)) {
      throw c.error("threshold", "must be between 0 and 1");
    }
    Action action;
    try {
      action = Action.valueOf(c.string("action", "TAG").toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw c.error("action", "must be TAG or DEAD_LETTER");
    }
    if (kind.equals("cel")) {
      return cel(name, c.requiredString("cel"), threshold, action);
    }
    List<String> field;
    if (c.has("path")) {
      field = c.strings("path");
      if (field.isEmpty()) {
        throw c.error("path", "must not be empty");
      }
    } else {
      field = List.of(c.requiredString("field"));
    }
    try {
      switch (kind) {
        case "required":
          return required(name, field, threshold, action);
        case "range":
          return range(name, field, c.number("min", null), c.number("max", null), threshold, action);
        case "pattern":
          return pattern(name, field, c.requiredString("regex"), threshold, action);
        default:
          return allowed(name, field, c.list("values"), threshold, action);
      }
    } catch (IllegalArgumentException e) {
      throw c.error(e.getMessage());
    }
  }

  static String display(List<String> field) {
    return String.join(".", field);
  }
}
