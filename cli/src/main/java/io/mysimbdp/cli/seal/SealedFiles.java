package io.mysimbdp.cli.seal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Seals the chosen fields of a whole file, streaming (constant memory whatever the file's size):
 * CSV (header row, RFC 4180, as the platform parses it), NDJSON (one object a line) and JSON (an
 * array of objects, or one object). Everything else in the file is kept as it is.
 */
public final class SealedFiles {
  private static final CsvMapper CSV = CsvMapper.builder()
      .enable(CsvParser.Feature.WRAP_AS_ARRAY)
      .enable(CsvParser.Feature.SKIP_EMPTY_LINES)
      .build();
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  /** What sealing a file did: records read and values sealed per field. */
  public record Outcome(long records, Map<String, Long> sealed) {
    /** The chosen fields no record had. */
    public List<String> unmatched(SealSpec spec) {
      return spec.fields().keySet().stream().filter(f -> sealed.getOrDefault(f, 0L) == 0).toList();
    }
  }

  private SealedFiles() {}

  /** Writes {@code in} with its chosen fields sealed to {@code out} ({@code sealer} null: rewritten only, the cost baseline). */
  public static Outcome seal(Path in, Path out, DataFormat format, RecordSealer sealer) throws IOException {
    return switch (format) {
      case CSV -> sealCsv(in, out, sealer);
      case NDJSON -> sealNdjson(in, out, sealer);
      case JSON -> sealJson(in, out, sealer);
    };
  }

  private static Outcome sealCsv(Path in, Path out, RecordSealer sealer) throws IOException {
    Map<String, Long> counts = new LinkedHashMap<>();
    long records = 0;
    try (InputStream input = Files.newInputStream(in);
        MappingIterator<String[]> rows = CSV.readerFor(String[].class).readValues(input);
        Writer writer = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      if (!rows.hasNextValue()) {
        return new Outcome(0, counts);
      }
      String[] header = rows.nextValue();
      List<String> names = Arrays.stream(header).map(String::strip).toList();
      Mode[] modes = sealer == null ? new Mode[names.size()] : sealer.columns(names);
      writeCsvRow(writer, header);
      while (rows.hasNextValue()) {
        String[] row = rows.nextValue();
        for (int i = 0; i < row.length && i < modes.length; i++) {
          if (modes[i] != null) {
            row[i] = sealer.sealCell(row[i], modes[i]);
            counts.merge(names.get(i), 1L, Long::sum);
          }
        }
        writeCsvRow(writer, row);
        records++;
      }
    }
    return new Outcome(records, counts);
  }

  /** RFC 4180: a cell with a comma, quote or line break, or with outer spaces, is quoted. */
  static void writeCsvRow(Writer writer, String[] row) throws IOException {
    for (int i = 0; i < row.length; i++) {
      if (i > 0) {
        writer.write(',');
      }
      String cell = row[i] == null ? "" : row[i];
      boolean quote = cell.isEmpty() ? false : cell.indexOf(',') >= 0 || cell.indexOf('"') >= 0 || cell.indexOf('\n') >= 0
          || cell.indexOf('\r') >= 0 || cell.charAt(0) == ' ' || cell.charAt(cell.length() - 1) == ' ';
      if (quote) {
        writer.write('"');
        writer.write(cell.replace("\"", "\"\""));
        writer.write('"');
      } else {
        writer.write(cell);
      }
    }
    writer.write("\r\n");
  }

  private static Outcome sealNdjson(Path in, Path out, RecordSealer sealer) throws IOException {
    Map<String, Long> counts = new LinkedHashMap<>();
    long records = 0;
    try (BufferedReader reader = Files.newBufferedReader(in, StandardCharsets.UTF_8);
        BufferedWriter writer = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      String line;
      long lineNumber = 0;
      while ((line = reader.readLine()) != null) {
        lineNumber++;
        if (line.isBlank()) {
          writer.write(line);
          writer.newLine();
          continue;
        }
        Map<String, Object> record;
        try {
          record = JSON.readValue(line, JSON.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
          throw new IOException(in.getFileName() + " line " + lineNumber + " is not a JSON object: " + e.getOriginalMessage());
        }
        writer.write(JSON.writeValueAsString(sealRecord(record, sealer, counts)));
        writer.newLine();
        records++;
      }
    }
    return new Outcome(records, counts);
  }

  private static Outcome sealJson(Path in, Path out, RecordSealer sealer) throws IOException {
    Map<String, Long> counts = new LinkedHashMap<>();
    long records = 0;
    try (JsonParser parser = JSON.createParser(in.toFile());
        OutputStream output = Files.newOutputStream(out);
        JsonGenerator generator = JSON.createGenerator(output)) {
      JsonToken first = parser.nextToken();
      if (first == JsonToken.START_OBJECT) {
        JSON.writerFor(Map.class).without(com.fasterxml.jackson.databind.SerializationFeature.CLOSE_CLOSEABLE).writeValue(generator, sealRecord(readObject(parser), sealer, counts));
        return new Outcome(1, counts);
      }
      if (first != JsonToken.START_ARRAY) {
        throw new IOException(in.getFileName() + " is not a JSON array of objects or a JSON object");
      }
      generator.writeStartArray();
      JsonToken token;
      while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
        if (token != JsonToken.START_OBJECT) {
          throw new IOException(in.getFileName() + ": item " + records + " of the array is not an object");
        }
        JSON.writerFor(Map.class).without(com.fasterxml.jackson.databind.SerializationFeature.CLOSE_CLOSEABLE).writeValue(generator, sealRecord(readObject(parser), sealer, counts));
        records++;
      }
      generator.writeEndArray();
    }
    return new Outcome(records, counts);
  }

  private static Map<String, Object> readObject(JsonParser parser) throws IOException {
    return JSON.readValue(parser, JSON.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
  }

  private static Map<String, Object> sealRecord(Map<String, Object> record, RecordSealer sealer, Map<String, Long> counts) {
    if (sealer == null) {
      return record;
    }
    for (String name : sealer.present(record)) {
      counts.merge(name, 1L, Long::sum);
    }
    return sealer.seal(record);
  }
}
