package io.mysimbdp.node.batch.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;

/**
 * A JSON array of objects (each one record), or a single JSON object (one record). Elements are cut
 * from the bytes first (a comma or the closing bracket outside strings and nested values ends one),
 * each bounded by the record limit, then parsed with Jackson: an element over the limit, not valid
 * JSON, or not an object is a bad record and the rest of the array goes on. A document cut off in
 * the middle ends the file with one fatal bad record after every record before it.
 */
final class JsonArrayRecordReader extends LookaheadReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final InputStream in;
  private final int maxRecordBytes;
  private final BoundedRecord element;
  private long index;
  private long line = 1;
  private boolean started;
  private boolean singleObject;
  private boolean arrayClosed;
  /** The single object (or the last element) ended inside a string or a nested value. */
  private boolean unbalanced;
  /** A byte read ahead and not consumed yet, or -2. */
  private int pending = -2;

  JsonArrayRecordReader(InputStream in, int maxRecordBytes) {
    this.in = in;
    this.maxRecordBytes = maxRecordBytes;
    this.element = new BoundedRecord(in, maxRecordBytes);
  }

  private int read1() throws IOException {
    int b;
    if (pending != -2) {
      b = pending;
      pending = -2;
    } else {
      b = element.read();
    }
    if (b == '\n') {
      line++;
    }
    return b;
  }

  private void unread(int b) {
    pending = b;
    if (b == '\n') {
      line--;
    }
  }

  /** The next byte that is not white space (nor a byte-order mark), unread; -1 at the end. */
  private int peekNonBlank() throws IOException {
    int b;
    do {
      b = read1();
    } while (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == 0xEF || b == 0xBB || b == 0xBF);
    if (b != -1) {
      unread(b);
    }
    return b;
  }

  @Override
  protected ParsedRecord read() {
    try {
      if (!started) {
        started = true;
        int first = peekNonBlank();
        if (first == '{') {
          singleObject = true;
        } else if (first == '[') {
          read1();
        } else {
          ended = true;
          return new ParsedRecord.Bad(index++, line, "the file is neither a JSON array nor a JSON object", null, true);
        }
      }
      if (arrayClosed) {
        ended = true;
        return null;
      }
      int next = peekNonBlank();
      long at = line;
      if (next == -1) {
        ended = true;
        return cutOff(at);
      }
      if (!singleObject && next == ']' && index == 0) {
        ended = true;
        return null;
      }
      int end = scanElement();
      if (end == -1 && !singleObject) {
        ended = true;
        return cutOff(at);
      }
      if (singleObject) {
        arrayClosed = true;
      } else if (end == ']') {
        arrayClosed = true;
      }
      return parse(at, end == -1 && singleObject && unbalanced);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads one element's bytes into {@link #element}, up to the comma or bracket that ends it
   * (consumed, answered) or the end of the file (-1; for a single object, its end).
   */
  private int scanElement() throws IOException {
    element.reset();
    int depth = 0;
    boolean inString = false;
    int b;
    while ((b = read1()) != -1) {
      if (inString) {
        element.add(b);
        if (b == '\\') {
          int escaped = read1();
          if (escaped == -1) {
            break;
          }
          element.add(escaped);
        } else if (b == '"') {
          inString = false;
        }
        continue;
      }
      if (depth == 0 && !singleObject && (b == ',' || b == ']')) {
        return b;
      }
      element.add(b);
      if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        depth--;
        if (depth == 0 && singleObject) {
          unbalanced = false;
          return -1;
        }
      }
    }
    unbalanced = depth != 0 || inString;
    return -1;
  }

  private ParsedRecord cutOff(long at) {
    return new ParsedRecord.Bad(index++, at, "the JSON cannot be read from here on: the file is cut off after record " + index,
        RecordReader.excerpt(element.text()), true);
  }

  private ParsedRecord parse(long at, boolean cutOff) {
    long i = index++;
    if (cutOff) {
      ended = true;
      return new ParsedRecord.Bad(i, at, "the JSON cannot be read from here on: the object is cut off", RecordReader.excerpt(element.text()), true);
    }
    if (element.tooLong()) {
      return new ParsedRecord.Bad(i, at, "the array element is longer than " + maxRecordBytes + " bytes (the record limit)",
          RecordReader.excerpt(element.text()), false);
    }
    if (element.isBlank()) {
      return new ParsedRecord.Bad(i, at, "the array element is empty", null, false);
    }
    try {
      Object value = MAPPER.readValue(element.toByteArray(), Object.class);
      if (!(value instanceof Map<?, ?>)) {
        String kind = value instanceof java.util.List<?> ? "a nested array"
            : value == null ? "a null" : "a " + value.getClass().getSimpleName().toLowerCase(Locale.ROOT);
        return new ParsedRecord.Bad(i, at, "the array element is " + kind + ", not an object", RecordReader.excerpt(element.text()), false);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = (Map<String, Object>) value;
      return new ParsedRecord.Good(i, at, fields);
    } catch (JsonProcessingException e) {
      return new ParsedRecord.Bad(i, at, "the array element is not valid JSON: " + e.getOriginalMessage(),
          RecordReader.excerpt(element.text()), false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected long recordBytes() {
    return element.size();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
