package io.mysimbdp.node.batch.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CSV with a header row (RFC 4180 quoting, through Jackson's CSV parser). Every value is kept as
 * the text it is; typing values is the ingestion function's job. A row with more or fewer fields
 * than the header is a bad record.
 */
final class CsvRecordReader extends LookaheadReader {
  private static final CsvMapper MAPPER = CsvMapper.builder()
      .enable(CsvParser.Feature.WRAP_AS_ARRAY)
      .enable(CsvParser.Feature.SKIP_EMPTY_LINES)
      .build();

  private final MappingIterator<String[]> rows;
  private final String[] header;
  private long index;

  CsvRecordReader(InputStream in) {
    try {
      this.rows = MAPPER.readerFor(String[].class).readValues(in);
      this.header = rows.hasNextValue() ? headerOf(rows.nextValue()) : new String[0];
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

  @Override
  protected ParsedRecord read() {
    long line = rows.getCurrentLocation() == null ? -1 : rows.getCurrentLocation().getLineNr();
    try {
      if (!rows.hasNextValue()) {
        ended = true;
        return null;
      }
      line = rows.getCurrentLocation().getLineNr();
      String[] row = rows.nextValue();
      long at = index++;
      if (row.length != header.length) {
        return new ParsedRecord.Bad(at, line,
            "the row has " + row.length + " fields; the header has " + header.length,
            RecordReader.excerpt(String.join(",", row)), false);
      }
      Map<String, Object> fields = new LinkedHashMap<>(header.length * 2);
      for (int i = 0; i < header.length; i++) {
        fields.put(header[i], row[i]);
      }
      return new ParsedRecord.Good(at, line, fields);
    } catch (JsonProcessingException e) {
      ended = true;
      return new ParsedRecord.Bad(index++, line, "the CSV cannot be read from here on: " + e.getOriginalMessage(), null, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      ended = true;
      Throwable cause = e.getCause() instanceof JsonProcessingException j ? j : e;
      return new ParsedRecord.Bad(index++, line, "the CSV cannot be read from here on: " + cause.getMessage(), null, true);
    }
  }

  @Override
  public void close() throws IOException {
    rows.close();
  }
}
