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

  /** Longest single record (a line or a JSON value) read before it is refused. */
  int MAX_RECORD_BYTES = 32 * 1024 * 1024;

  static RecordReader open(DataFormat format, InputStream in) {
    return switch (format) {
      case CSV -> new CsvRecordReader(in);
      case NDJSON -> new JsonLinesRecordReader(in);
      case JSON -> new JsonArrayRecordReader(in);
    };
  }

  static String excerpt(String raw) {
    return raw == null || raw.length() <= 4096 ? raw : raw.substring(0, 4096);
  }
}
