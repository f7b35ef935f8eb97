package io.mysimbdp.node.batch.parse;

import io.mysimbdp.protocol.DataFormat;
import java.io.Closeable;
import java.io.InputStream;
import java.util.Iterator;

/**
 * Reads a file's records one at a time from a stream of bytes: CSV with a header row, JSON lines,
 * or a JSON array (or a single JSON object). It pulls bytes as it goes, so a file of any size is
 * read in bounded memory; a bad record becomes a {@link ParsedRecord.Bad} and reading goes on.
 */
public interface RecordReader extends Iterator<ParsedRecord>, Closeable {

  /**
   * Opens a reader of {@code format}. A record (a CSV row, a JSON line, a JSON array element) of
   * more than {@code maxRecordBytes} is a bad record, never held whole: memory per reader stays
   * within about that limit whatever the file holds.
   */
  static RecordReader open(DataFormat format, InputStream in, int maxRecordBytes) {
    return switch (format) {
      case CSV -> new CsvRecordReader(in, maxRecordBytes);
      case NDJSON -> new JsonLinesRecordReader(in, maxRecordBytes);
      case JSON -> new JsonArrayRecordReader(in, maxRecordBytes);
    };
  }

  /** The bytes of the file the record {@link #next} answered last took: what it weighs in memory, roughly. */
  long lastRecordBytes();

  static String excerpt(String raw) {
    return raw == null || raw.length() <= 4096 ? raw : raw.substring(0, 4096);
  }
}
