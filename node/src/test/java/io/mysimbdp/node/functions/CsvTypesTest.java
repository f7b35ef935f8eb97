package io.mysimbdp.node.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CsvTypesTest {
  private static Map<String, Object> row(String... pairs) {
    Map<String, Object> row = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      row.put(pairs[i], pairs[i + 1]);
    }
    return row;
  }

  @Test
  void stringsAreTheDefaultAndChangeNothing() throws Exception {
    Map<String, Object> fields = row("a", "1");
    assertSame(fields, CsvTypes.fromSpec(null).apply(fields));
    assertSame(fields, CsvTypes.fromSpec("strings").apply(fields));
    assertEquals(null, CsvTypes.fromSpec(null).spec());
  }

  @Test
  void inferenceTypesEachCellAndNeverFails() throws Exception {
    CsvTypes infer = CsvTypes.fromSpec("infer");
    Map<String, Object> typed = infer.apply(row("i", "-42", "d", "7.27", "e", "1e3", "b", "False", "t", "2019-01-24T12:58:00+01:00",
        "day", "2019-01-24", "zero", "007", "text", "<0.5", "empty", "", "bad", "2021-02-30", "big", "123456789012345678901234"));
    assertEquals(-42L, typed.get("i"));
    assertEquals(7.27, typed.get("d"));
    assertEquals(1000L, typed.get("e"));
    assertEquals(Boolean.FALSE, typed.get("b"));
    assertEquals("2019-01-24T11:58:00.000Z", typed.get("t"));
    assertEquals("2019-01-24T00:00:00.000Z", typed.get("day"));
    assertEquals("007", typed.get("zero"));
    assertEquals("<0.5", typed.get("text"));
    assertEquals("", typed.get("empty"));
    assertEquals("2021-02-30", typed.get("bad"));
    assertTrue(typed.get("big") instanceof Number, "a number too large for a long is still a number: " + typed.get("big"));
    assertEquals(List.of("i", "d", "e", "b", "t", "day", "zero", "text", "empty", "bad", "big"), List.copyOf(typed.keySet()));
  }

  @Test
  void explicitColumnsMustFitTheirType() throws Exception {
    CsvTypes types = CsvTypes.fromSpec(Map.of("n", "integer", "x", "number", "ok", "boolean", "at", "date", "s", "string"));
    Map<String, Object> typed = types.apply(row("n", "12", "x", "", "ok", "TRUE", "at", "2020-05-06", "s", "12", "other", "1"));
    assertEquals(12L, typed.get("n"));
    assertEquals(null, typed.get("x"));
    assertEquals(Boolean.TRUE, typed.get("ok"));
    assertEquals("2020-05-06T00:00:00.000Z", typed.get("at"));
    assertEquals("12", typed.get("s"));
    assertEquals("1", typed.get("other"));
    CsvTypes.Mismatch m = assertThrows(CsvTypes.Mismatch.class, () -> types.apply(row("n", "1.5")));
    assertEquals("n", m.column());
    assertEquals("column 'n' must be an integer, not '1.5'", m.getMessage());
    assertThrows(CsvTypes.Mismatch.class, () -> types.apply(row("ok", "yes")));
    assertThrows(CsvTypes.Mismatch.class, () -> types.apply(row("at", "yesterday")));
    assertEquals(Map.of("at", "date", "n", "integer", "ok", "boolean", "s", "string", "x", "number"), types.spec());
  }

  @Test
  void badSpecsAreNamed() {
    for (Object bad : List.of("everything", 5, Map.of(), Map.of("x", "decimal"), Map.of("", "number"), List.of("number"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CsvTypes.fromSpec(bad), bad::toString);
      assertTrue(e.getMessage().contains("types") || e.getMessage().contains("type"), e::getMessage);
    }
  }
}
