package io.mysimbdp.cli.seal;

import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which fields to seal and how: {@code col1,col2:det,col3:rand} (randomized unless {@code :det}).
 * A name is a CSV column or a JSON field; in JSON a dotted name that is not a field of its own is a
 * path into nested objects ({@code sample.site} → {@code {"sample":{"site":...}}}).
 */
public record SealSpec(Map<String, Mode> fields) {
  public SealSpec {
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("no field to seal");
    }
    fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  public static SealSpec parse(String text) {
    Map<String, Mode> fields = new LinkedHashMap<>();
    for (String part : text.split(",", -1)) {
      String name = part.trim();
      Mode mode = Mode.RANDOMIZED;
      int colon = name.lastIndexOf(':');
      if (colon >= 0) {
        String suffix = name.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
        mode = switch (suffix) {
          case "det", "deterministic" -> Mode.DETERMINISTIC;
          case "rand", "randomized" -> Mode.RANDOMIZED;
          default -> throw new IllegalArgumentException("unknown sealing mode '" + suffix + "' for '" + name.substring(0, colon)
              + "' (det or rand)");
        };
        name = name.substring(0, colon).trim();
      }
      if (name.isEmpty()) {
        throw new IllegalArgumentException("an empty field name in '" + text + "'");
      }
      if (fields.put(name, mode) != null) {
        throw new IllegalArgumentException("field '" + name + "' is named twice");
      }
    }
    return new SealSpec(fields);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    fields.forEach((name, mode) -> b.append(b.length() == 0 ? "" : ", ").append(name)
        .append(mode == Mode.DETERMINISTIC ? " (deterministic)" : " (randomized)"));
    return b.toString();
  }
}
