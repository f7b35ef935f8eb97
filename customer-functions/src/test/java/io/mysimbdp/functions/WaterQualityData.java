package io.mysimbdp.functions;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The shared water-quality CSV as the platform hands it to functions: one map of strings a row. */
public final class WaterQualityData {
  public static final Path CSV = locate();
  public static final int ROWS = 9_999;

  private static List<Map<String, Object>> rows;

  private WaterQualityData() {}

  private static Path locate() {
    String configured = System.getProperty("mysimbdp.data");
    if (configured != null) {
      return Path.of(configured);
    }
    // The sample data the repository ships (examples/README.md), from the module or the root.
    for (Path p : List.of(Path.of("../examples/water-quality-10k.csv"), Path.of("examples/water-quality-10k.csv"))) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return Path.of("../examples/water-quality-10k.csv");
  }

  /** Every row, header names as keys, in column order; a fresh mutable copy per call. */
  public static synchronized List<Map<String, Object>> rows() {
    if (rows == null) {
      rows = Collections.unmodifiableList(read(CSV));
    }
    List<Map<String, Object>> copy = new ArrayList<>(rows.size());
    for (Map<String, Object> r : rows) {
      copy.add(new LinkedHashMap<>(r));
    }
    return copy;
  }

  static List<Map<String, Object>> read(Path csv) {
    CsvMapper mapper = new CsvMapper();
    mapper.enable(CsvParser.Feature.WRAP_AS_ARRAY);
    CsvSchema schema = CsvSchema.emptySchema().withHeader();
    List<Map<String, Object>> out = new ArrayList<>();
    try (InputStream in = Files.newInputStream(csv);
        MappingIterator<Map<String, String>> it =
            mapper.readerForMapOf(String.class).with(schema).readValues(in)) {
      while (it.hasNext()) {
        out.add(new LinkedHashMap<>(it.next()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + csv, e);
    }
    return out;
  }

  /** A resource of this module (e.g. "examples/alice.jsonata") as text. */
  public static String resource(String name) {
    try (InputStream in = WaterQualityData.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalArgumentException("no resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
