package io.mysimbdp.node.batch.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.protocol.DataFormat;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every format's records are bounded in bytes: a CSV row, a JSON line or a JSON array element over
 * the limit is a bad record with its line, never held whole, and the records after it are read.
 */
class RecordBoundsTest {
  static final int LIMIT = 1024;

  static List<ParsedRecord> read(DataFormat format, String content) throws Exception {
    List<ParsedRecord> records = new ArrayList<>();
    try (RecordReader reader = RecordReader.open(format, new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), LIMIT)) {
      while (reader.hasNext()) {
        records.add(reader.next());
      }
    }
    return records;
  }

  static ParsedRecord.Good good(ParsedRecord r) {
    assertTrue(r instanceof ParsedRecord.Good, r::toString);
    return (ParsedRecord.Good) r;
  }

  static ParsedRecord.Bad bad(ParsedRecord r) {
    assertTrue(r instanceof ParsedRecord.Bad, r::toString);
    return (ParsedRecord.Bad) r;
  }

  @Test
  void aCsvRowOverTheLimitIsABadRecordAndTheNextRowsAreRead() throws Exception {
    String huge = "x".repeat(3 * LIMIT);
    List<ParsedRecord> records = read(DataFormat.CSV,
        "a,b\n1,\"two\nlines\"\n" + huge + "," + huge + "\n3,\"say \"\"hi\"\", ok\"\r\n\n4,5\n");
    assertEquals(4, records.size(), records::toString);
    assertEquals(Map.of("a", "1", "b", "two\nlines"), good(records.get(0)).fields());
    assertEquals(2, records.get(0).line());
    ParsedRecord.Bad tooLong = bad(records.get(1));
    assertTrue(tooLong.reason().contains("longer than " + LIMIT), tooLong::reason);
    assertEquals(4, tooLong.line());
    assertFalse(tooLong.fatal());
    assertTrue(tooLong.raw().length() <= 4096);
    assertEquals(Map.of("a", "3", "b", "say \"hi\", ok"), good(records.get(2)).fields());
    assertEquals(5, records.get(2).line());
    assertEquals(Map.of("a", "4", "b", "5"), good(records.get(3)).fields());
    assertEquals(7, records.get(3).line());
    assertEquals(3, records.get(3).index());
  }

  @Test
  void aCsvQuoteNeverClosedEndsTheFile() throws Exception {
    List<ParsedRecord> records = read(DataFormat.CSV, "a,b\n1,2\n3,\"open\n4,5\n");
    assertEquals(2, records.size());
    good(records.get(0));
    assertTrue(bad(records.get(1)).fatal());
    assertEquals(3, records.get(1).line());
  }

  @Test
  void aRaggedCsvRowIsStillABadRecord() throws Exception {
    List<ParsedRecord> records = read(DataFormat.CSV, "a,b,c\n1,2,3\n4,5\n6,7,8\n");
    assertEquals(3, records.size());
    assertTrue(bad(records.get(1)).reason().contains("2 fields"));
    assertEquals(3, records.get(1).line());
  }

  @Test
  void aJsonArrayElementOverTheLimitIsABadRecordAndTheNextElementsAreRead() throws Exception {
    String huge = "y".repeat(3 * LIMIT);
    List<ParsedRecord> records = read(DataFormat.JSON,
        "[\n {\"k\": 1, \"s\": \"a, ] } [ \\\" b\", \"n\": {\"m\": [1, 2]}},\n {\"big\": \"" + huge + "\"},\n 7,\n {\"k\": 3}\n]\n");
    assertEquals(4, records.size(), records::toString);
    ParsedRecord.Good first = good(records.get(0));
    assertEquals("a, ] } [ \" b", first.fields().get("s"));
    assertEquals(Map.of("m", List.of(1, 2)), first.fields().get("n"));
    assertEquals(2, first.line());
    ParsedRecord.Bad tooLong = bad(records.get(1));
    assertTrue(tooLong.reason().contains("longer than " + LIMIT), tooLong::reason);
    assertEquals(3, tooLong.line());
    assertFalse(tooLong.fatal());
    assertTrue(bad(records.get(2)).reason().contains("not an object"));
    assertEquals(Map.of("k", 3), good(records.get(3)).fields());
    assertEquals(5, records.get(3).line());
  }

  @Test
  void aJsonArrayCutOffEndsTheFileAfterTheRecordsBeforeIt() throws Exception {
    List<ParsedRecord> records = read(DataFormat.JSON, "[{\"k\":1},{\"k\":2},{\"k\":3,\"v\":\"unfinish");
    assertEquals(3, records.size());
    good(records.get(0));
    good(records.get(1));
    assertTrue(bad(records.get(2)).fatal());
    assertTrue(bad(records.get(2)).reason().contains("cannot be read"));
  }

  @Test
  void aSingleObjectAnEmptyArrayAndNeitherAreRead() throws Exception {
    assertEquals(Map.of("k", "v"), good(read(DataFormat.JSON, " {\"k\": \"v\"}\n").get(0)).fields());
    assertEquals(List.of(), read(DataFormat.JSON, "[ ]"));
    assertTrue(bad(read(DataFormat.JSON, "42").get(0)).fatal());
    assertTrue(bad(read(DataFormat.JSON, "{\"k\": \"v\"").get(0)).fatal());
  }

  @Test
  void aJsonLineOverTheLimitIsABadRecord() throws Exception {
    List<ParsedRecord> records = read(DataFormat.NDJSON, "{\"a\":1}\n{\"big\":\"" + "z".repeat(2 * LIMIT) + "\"}\n{\"a\":2}\n");
    assertEquals(3, records.size());
    assertTrue(bad(records.get(1)).reason().contains("longer than " + LIMIT));
    assertEquals(2, records.get(1).line());
    assertEquals(Map.of("a", 2), good(records.get(2)).fields());
  }
}
