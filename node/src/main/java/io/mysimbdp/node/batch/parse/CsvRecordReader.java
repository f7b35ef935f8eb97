package io.mysimbdp.node.batch.parse;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CSV with a header row (RFC 4180: comma-separated, a field in double quotes may hold commas, line
 * breaks and doubled quotes). Every value is kept as the text it is; typing values is the ingestion
 * function's job. A row with more or fewer fields than the header is a bad record.
 *
 * <p>Rows are cut from the bytes first (a line break outside quotes ends a row), each bounded by the
 * record limit, then split by Jackson's CSV parser: a longer row is a bad record (its first bytes kept) and reading goes on with the
 * next one, so one huge row never holds more than the limit in memory. An unclosed quote runs to the
 * end of the file: the reader ends with a fatal bad record.
 */
final class CsvRecordReader extends LookaheadReader {
  /** Splits one row already cut from the bytes (Jackson's RFC 4180 CSV parser, values as text). */
  private static final ObjectReader ROW =
      CsvMapper.builder().enable(CsvParser.Feature.WRAP_AS_ARRAY).build().readerFor(String[].class);
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
    try (MappingIterator<String[]> values = ROW.readValues(text)) {
      return values.hasNext() ? values.next() : new String[] {""};
    } catch (IOException e) {
      // Quotes are balanced in a row cut by scanRow, so Jackson reads it; anything else is a bug here.
      throw new UncheckedIOException("a CSV row could not be split: " + e.getMessage(), e);
    }
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
