package io.mysimbdp.node.batch.parse;

import java.util.Map;

/**
 * One record read from a file, or why it could not be read.
 *
 * <p>{@code index} is the record's 0-based position among the file's records (the header row and
 * blank lines are not records); {@code line} is the 1-based line it starts on.
 */
public sealed interface ParsedRecord {
  long index();

  long line();

  record Good(long index, long line, Map<String, Object> fields) implements ParsedRecord {}

  /**
   * A record that could not be parsed. {@code fatal} means the rest of the file cannot be read
   * either (a JSON array cut off, an unclosed quote): the reader ends after it.
   */
  record Bad(long index, long line, String reason, String raw, boolean fatal) implements ParsedRecord {}
}
