package io.mysimbdp.node.batch.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** JSON lines: one JSON object per line; blank lines are skipped; each bad line stands alone. */
final class JsonLinesRecordReader extends LookaheadReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final InputStream in;
  private final int maxRecordBytes;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
  private long lineBytes;
  private long lineNumber;
  private long index;

  JsonLinesRecordReader(InputStream in, int maxRecordBytes) {
    this.in = new BufferedInputStream(in, 64 * 1024);
    this.maxRecordBytes = maxRecordBytes;
  }

  @Override
  protected ParsedRecord read() {
    try {
      while (true) {
        line.reset();
        lineBytes = 0;
        boolean tooLong = false;
        int b;
        boolean any = false;
        while ((b = in.read()) != -1 && b != '\n') {
          any = true;
          lineBytes++;
          if (line.size() < maxRecordBytes) {
            line.write(b);
          } else {
            tooLong = true;
          }
        }
        if (b == -1 && !any) {
          ended = true;
          return null;
        }
        lineNumber++;
        if (tooLong) {
          return new ParsedRecord.Bad(index++, lineNumber,
              "the line is longer than " + maxRecordBytes + " bytes (the record limit)", RecordReader.excerpt(text()), false);
        }
        String text = text();
        if (text.isBlank()) {
          continue;
        }
        return parse(text);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String text() {
    return line.toString(StandardCharsets.UTF_8);
  }

  private ParsedRecord parse(String text) {
    long at = index++;
    try {
      JsonNode node = MAPPER.readTree(text);
      if (!node.isObject()) {
        return new ParsedRecord.Bad(at, lineNumber, "the line is JSON but not an object (" + node.getNodeType().name().toLowerCase() + ")",
            RecordReader.excerpt(text), false);
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> fields = MAPPER.convertValue(node, Map.class);
      return new ParsedRecord.Good(at, lineNumber, fields);
    } catch (JsonProcessingException e) {
      return new ParsedRecord.Bad(at, lineNumber, "the line is not valid JSON: " + e.getOriginalMessage(), RecordReader.excerpt(text), false);
    }
  }

  @Override
  protected long recordBytes() {
    return lineBytes;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
