package io.mysimbdp.node.batch.parse;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * A JSON array of objects (each one record), or a single JSON object (one record), streamed with
 * Jackson's parser. An element that is not an object is a bad record; a document cut off or broken
 * in the middle ends the file with one fatal bad record after every record before it.
 */
final class JsonArrayRecordReader extends LookaheadReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final JsonParser parser;
  private long index;
  private boolean started;
  private boolean singleObject;

  JsonArrayRecordReader(InputStream in) {
    try {
      this.parser = MAPPER.getFactory().createParser(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected ParsedRecord read() {
    long line = parser.currentLocation().getLineNr();
    try {
      if (!started) {
        started = true;
        JsonToken first = parser.nextToken();
        if (first == JsonToken.START_OBJECT) {
          singleObject = true;
          return object(line);
        }
        if (first != JsonToken.START_ARRAY) {
          ended = true;
          return new ParsedRecord.Bad(index++, line, "the file is neither a JSON array nor a JSON object", null, true);
        }
      }
      if (singleObject) {
        ended = true;
        return null;
      }
      JsonToken token = parser.nextToken();
      line = parser.currentLocation().getLineNr();
      if (token == JsonToken.END_ARRAY) {
        ended = true;
        return null;
      }
      if (token == null) {
        ended = true;
        return new ParsedRecord.Bad(index++, line, "the JSON array ends early: the file is cut off after record " + index, null, true);
      }
      if (token != JsonToken.START_OBJECT) {
        String kind = token.isStructStart() ? "a nested array" : "a " + token.asString();
        parser.skipChildren();
        return new ParsedRecord.Bad(index++, line, "the array element is " + kind + ", not an object", null, false);
      }
      return object(line);
    } catch (JsonProcessingException e) {
      ended = true;
      return new ParsedRecord.Bad(index++, line,
          "the JSON cannot be read from here on (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + "): " + e.getOriginalMessage(),
          null, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ParsedRecord object(long line) throws IOException {
    @SuppressWarnings("unchecked")
    Map<String, Object> fields = MAPPER.readValue(parser, Map.class);
    return new ParsedRecord.Good(index++, line, fields);
  }

  @Override
  public void close() throws IOException {
    parser.close();
  }
}
