package io.mysimbdp.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Durations as people write them: {@code 250ms}, {@code 1s}, {@code 2m}, or ISO-8601 {@code PT1S}. */
public final class Durations {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

  private Durations() {}

  public static Duration parse(String text) {
    String value = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(value);
    if (m.matches()) {
      double amount = Double.parseDouble(m.group(1));
      double millis =
          switch (m.group(2)) {
            case "ms" -> amount;
            case "s" -> amount * 1_000;
            case "m" -> amount * 60_000;
            default -> amount * 3_600_000;
          };
      return Duration.ofMillis(Math.round(millis));
    }
    try {
      return Duration.parse(value.toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration; write e.g. 500ms, 1s or 2m");
    }
  }

  /** {@code 1.2 s}, {@code 340 ms}, {@code 2m05s}. */
  public static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1_000) {
      return millis + " ms";
    }
    if (millis < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
    long seconds = millis / 1000;
    return seconds / 60 + "m" + String.format(Locale.ROOT, "%02d", seconds % 60) + "s";
  }

  /** picocli converter for duration options. */
  public static final class Converter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        Duration duration = parse(value);
        if (duration.isNegative() || duration.isZero()) {
          throw new TypeConversionException("'" + value + "' must be more than 0");
        }
        return duration;
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
