package io.mysimbdp.functions.spi;

/**
 * A function definition that cannot be built: a source that does not compile (with its position) or
 * a built-in's configuration that is invalid. The HTTP layer answers 422 with {@link #getMessage()}
 * or the parts.
 */
public class CompileException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String language;
  private final String detail;
  private final int offset;
  private final int line;
  private final int column;

  /**
   * @param language "jsonata", "cel" or "builtin"
   * @param detail what is wrong, without the position
   * @param offset 0-based character offset in the source, or -1
   * @param line 1-based line, or -1
   * @param column 1-based column, or -1
   */
  public CompileException(String language, String detail, int offset, int line, int column) {
    super(format(language, detail, line, column));
    this.language = language;
    this.detail = detail;
    this.offset = offset;
    this.line = line;
    this.column = column;
  }

  /** An error at a character offset of {@code source}; line and column are computed. */
  public static CompileException at(String language, String source, int offset, String detail) {
    if (offset < 0 || source == null) {
      return new CompileException(language, detail, -1, -1, -1);
    }
    int clamped = Math.min(offset, source.length());
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < clamped; i++) {
      if (source.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return new CompileException(language, detail, clamped, line, clamped - lineStart + 1);
  }

  /** An error without a position (e.g. an invalid built-in configuration). */
  public static CompileException of(String language, String detail) {
    return new CompileException(language, detail, -1, -1, -1);
  }

  public String language() {
    return language;
  }

  public String detail() {
    return detail;
  }

  /** 0-based character offset, or -1 when the error has no position. */
  public int offset() {
    return offset;
  }

  /** 1-based line, or -1. */
  public int line() {
    return line;
  }

  /** 1-based column, or -1. */
  public int column() {
    return column;
  }

  private static String format(String language, String detail, int line, int column) {
    return line > 0
        ? language + " error at line " + line + ", column " + column + ": " + detail
        : language + " error: " + detail;
  }
}
