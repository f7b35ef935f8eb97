package io.mysimbdp.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Byte sizes as people write them: {@code 64MB}, {@code 16MiB}, {@code 512k}, {@code 1g}, {@code 1000}. */
public final class Sizes {
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(i?b?)");

  private Sizes() {}

  /**
   * Parses a size. Units are binary, as the platform's {@code maxFileSizeMegabytes} is: {@code k},
   * {@code KB} and {@code KiB} are all 1024 bytes; {@code M} 1024², {@code G} 1024³, {@code T} 1024⁴.
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches() || (m.group(2).isEmpty() && m.group(3).equals("i"))) {
      throw new IllegalArgumentException("'" + text + "' is not a size; write e.g. 64MB, 512KB or 1048576");
    }
    int power = " kmgt".indexOf(m.group(2).isEmpty() ? ' ' : m.group(2).charAt(0));
    double bytes = Double.parseDouble(m.group(1)) * Math.pow(1024, power);
    if (bytes >= Long.MAX_VALUE) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return (long) bytes;
  }

  /** {@code 1.5 MiB}, {@code 512 B}. */
  public static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String units = "KMGTPE";
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length() - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, value >= 100 ? "%.0f %siB" : "%.1f %siB", value, units.charAt(unit));
  }

  /** picocli converter for size options. */
  public static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        long size = parse(value);
        if (size <= 0) {
          throw new TypeConversionException("'" + value + "' must be more than 0 bytes");
        }
        return size;
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
