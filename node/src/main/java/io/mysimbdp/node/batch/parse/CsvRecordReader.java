package io.mysimbdp.node.batch.parse;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CSV with a header row (RFC 4180: comma-separated, a field in double quotes may hold commas, line
 * breaks and doubled quotes). Every value is kept as the text it is; typing values is the ingestion
 * function's job. A row with more or fewer fields than the header is a bad record.
 *
 * <p>Rows are cut from the bytes first (a line break outside quotes ends a row), each bounded by the
 * record limit: a longer row is a bad record (its first bytes kept) and reading goes on with the
 * next one, so one huge row never holds more than the limit in memory. An unclosed quote runs to the
 * end of the file: the reader ends with a fatal bad record.
 */
final class CsvRecordReader extends LookaheadReader {
  private final InputStream in;
  private final int maxRecordBytes;
  private final BoundedRecord row;
  private final String[] header;
  /** Lines read so far: the next row starts on line {@code linesRead + 1}. */
  private long linesRead;
  private long index;
  private boolean endOfFile;
  private boolean unclosedQuote;

  CsvRecordReader(InputStream in, int maxRecordBytes) {
    this.in = in;
    this.maxRecordBytes = maxRecordBytes;
    this.row = new BoundedRecord(in, maxRecordBytes);
    try {
      String[] first = null;
      while (first == null && scanRow()) {
        if (row.tooLong()) {
          throw new UncheckedIOException(new IOException("the CSV header row is longer than " + maxRecordBytes + " bytes"));
        }
        first = row.isBlank() ? null : parse(row.text());
      }
      if (first != null && first.length > 0 && first[0].startsWith("\uFEFF")) {
        first[0] = first[0].substring(1); // a byte-order mark before the first name
      }
      this.header = first == null ? new String[0] : headerOf(first);
    } catch (IOException e) {
      throw new UncheckedIOException("the CSV header row could not be read: " + e.getMessage(), e);
    }
  }

  private static String[] headerOf(String[] row) {
    String[] names = row.clone();
    for (int i = 0; i < names.length; i++) {
      names[i] = names[i].strip();
      if (names[i].isEmpty()) {
        names[i] = "column" + (i + 1);
      }
    }
    return names;
  }

  /** Reads the next row's bytes (with its line break) into {@link #row}; false at the end of the file. */
  private boolean scanRow() throws IOException {
    row.reset();
    if (endOfFile) {
      return false;
    }
    boolean quoted = false;
    int b;
    while ((b = row.read()) != -1) {
      row.add(b);
      if (b == '"') {
        quoted = !quoted; // an escaped quote ("") toggles twice
      } else if (b == '\n') {
        linesRead++;
        if (!quoted) {
          return true;
        }
      }
    }
    endOfFile = true;
    unclosedQuote = quoted;
    if (row.size() > 0) {
      linesRead++;
      return true;
    }
    return false;
  }

  /** One row's values: {@code text} holds exactly one row (quotes balanced), with its line break. */
  static String[] parse(String text) {
    int end = text.length();
    if (end > 0 && text.charAt(end - 1) == '\n') {
      end--;
    }
    if (end > 0 && text.charAt(end - 1) == '\r') {
      end--;
    }
    List<String> values = new ArrayList<>();
    StringBuilder value = new StringBuilder();
    boolean quoted = false;
    boolean atStart = true;
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c != '"') {
          value.append(c);
        } else if (i + 1 < end && text.charAt(i + 1) == '"') {
          value.append('"');
          i++;
        } else {
          quoted = false;
        }
      } else if (c == ',') {
        values.add(value.toString());
        value.setLength(0);
        atStart = true;
      } else if (c == '"' && atStart) {
        quoted = true;
        atStart = false;
      } else {
        value.append(c);
        atStart = false;
      }
    }
    values.add(value.toString());
    return values.toArray(String[]::new);
  }

  @Override
  protected ParsedRecord read() {
    try {
      while (true) {
        long startLine = linesRead + 1;
        if (!scanRow()) {
          ended = true;
          return null;
        }
        long line = startLine;
        if (unclosedQuote) {
          ended = true;
          return new ParsedRecord.Bad(index++, line, "the CSV cannot be read from here on: a quoted value is never closed",
              RecordReader.excerpt(row.text()), true);
        }
        if (row.tooLong()) {
          return new ParsedRecord.Bad(index++, line, "the row is longer than " + maxRecordBytes + " bytes (the record limit)",
              RecordReader.excerpt(row.text()), false);
        }
        String text = row.text();
        if (text.isBlank()) {
          continue;
        }
        long at = index++;
        String[] values = parse(text);
        if (values.length != header.length) {
          return new ParsedRecord.Bad(at, line,
              "the row has " + values.length + " fields; the header has " + header.length,
              RecordReader.excerpt(String.join(",", values)), false);
        }
        Map<String, Object> fields = new LinkedHashMap<>(header.length * 2);
        for (int i = 0; i < header.length; i++) {
          fields.put(header[i], values[i]);
        }
        return new ParsedRecord.Good(at, line, fields);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected long recordBytes() {
    return row.size();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
