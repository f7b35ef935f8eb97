package io.mysimbdp.functions.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.FunctionSpec;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.FunctionRegistry;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BuiltinFunctionsTest {
  private static final FunctionContext CONTEXT = new FunctionContext("t", "c", "s", 0);
  private static final FunctionFactory FACTORY = FunctionFactory.standard();

  private static Map<String, Object> record(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static List<Map<String, Object>> run(String builtin, Map<String, ?> config, Map<String, Object> in)
      throws Exception {
    return FACTORY.builtin(builtin, config).apply(in, CONTEXT);
  }

  @Test
  void nestTurnsDottedNamesIntoObjects() throws Exception {
    Map<String, Object> in =
        record("id", 1L, "a.b", "x", "a.c.d", 2L, "a.c", "leaf", "e.f", "y");
    Map<String, Object> out = run("nest", Map.of(), in).get(0);
    assertEquals(
        record(
            "id", 1L,
            "a", record("b", "x", "c", record("d", 2L, "_value", "leaf")),
            "e", record("f", "y")),
        out);
    assertEquals(List.of("id", "a", "e"), List.copyOf(out.keySet()));
    assertEquals(5, in.size(), "the input is not modified");
    // the leaf key and separator are configurable; a value first, then its children
    Map<String, Object> out2 =
        run("nest", Map.of("separator", "/", "leafKey", "@id"), record("p", "uri", "p/label", "L")).get(0);
    assertEquals(record("p", record("@id", "uri", "label", "L")), out2);
  }

  @Test
  void renameMakesKeysMongoSafe() throws Exception {
    Map<String, Object> in = record("@id", "1", "a.b", "x", "c", "y", "d", "z");
    assertEquals(
        record("@id", "1", "a_b", "x", "see", "y"),
        run("rename", Map.of("replaceDots", "_", "fields", Map.of("c", "see"), "drop", List.of("d")), in).get(0));
    assertEquals(record("c", "y"), run("rename", Map.of("keep", List.of("c")), in).get(0));
    FunctionException e =
        assertThrows(
            FunctionException.class,
            () -> run("rename", Map.of("replaceDots", "_"), record("a.b", 1L, "a_b", 2L)));
    assertTrue(e.getMessage().contains("'a_b'"), e.getMessage());
  }

  @Test
  void coerceTypesValues() throws Exception {
    Map<String, ?> config =
        Map.of(
            "fields",
            Map.of(
                "n", "number", "i", "integer", "b", "boolean", "t", "timestamp", "local", "timestamp",
                "date", "timestamp", "ms", "timestamp", "s", "string"),
            "emptyStrings", "drop");
    Map<String, Object> out =
        run(
                "coerce",
                config,
                record(
                    "n", "7.27", "i", " 467020 ", "b", "TRUE", "t", "2019-01-24T12:58:00+01:00",
                    "local", "2019-01-24T12:58:00", "date", "2019-01-24", "ms", 0L, "s", 12.0,
                    "empty", "", "other", "kept"))
            .get(0);
    assertEquals(
        record(
            "n", 7.27d, "i", 467020L, "b", true, "t", "2019-01-24T11:58:00.000Z",
            "local", "2019-01-24T12:58:00.000Z", "date", "2019-01-24T00:00:00.000Z",
            "ms", "1970-01-01T00:00:00.000Z", "s", "12", "other", "kept"),
        out);
    // integral numbers are Long, whatever their spelling
    assertEquals(record("n", 10L), run("coerce", Map.of("fields", Map.of("n", "number")), record("n", "10.0")).get(0));
    assertEquals(record("n", 1000L), run("coerce", Map.of("fields", Map.of("n", "number")), record("n", "1e3")).get(0));
    // zone-less times in a configured zone (BST in July)
    assertEquals(
        "2019-07-01T11:00:00.000Z",
        run("coerce", Map.of("fields", Map.of("t", "timestamp"), "zone", "Europe/London"), record("t", "2019-07-01T12:00:00"))
            .get(0)
            .get("t"));
  }

  @Test
  void coerceErrorsFailOrAreHandledAsConfigured() throws Exception {
    Map<String, Object> bad = record("n", "abc", "x", 1L);
    FunctionException e =
        assertThrows(FunctionException.class, () -> run("coerce", Map.of("fields", Map.of("n", "number")), bad));
    assertEquals("coerce: field 'n': 'abc' is not a number", e.getMessage());
    assertEquals(
        record("n", null, "x", 1L),
        run("coerce", Map.of("fields", Map.of("n", "number"), "onError", "null"), bad).get(0));
    assertEquals(
        record("x", 1L), run("coerce", Map.of("fields", Map.of("n", "number"), "onError", "drop"), bad).get(0));
    assertEquals(bad, run("coerce", Map.of("fields", Map.of("n", "number"), "onError", "keep"), bad).get(0));
    assertThrows(
        FunctionException.class, () -> run("coerce", Map.of("fields", Map.of("n", "integer")), record("n", "1.5")));
    assertThrows(
        FunctionException.class, () -> run("coerce", Map.of("fields", Map.of("n", "boolean")), record("n", "yes")));
  }

  @Test
  void filterKeepsWhatThePredicateAccepts() throws Exception {
    Map<String, Object> yes = record("sample.isComplianceSample", "true", "u", "mg/l");
    Map<String, Object> no = record("sample.isComplianceSample", "false", "u", "%");
    for (Map<String, ?> config :
        List.of(
            Map.of("cel", "record['sample.isComplianceSample'] == 'true'"),
            Map.of("field", "sample.isComplianceSample", "equals", "true"),
            Map.of("field", "u", "in", List.of("mg/l", "ug/l")))) {
      assertEquals(List.of(yes), run("filter", config, yes), config.toString());
      assertEquals(List.of(), run("filter", config, no), config.toString());
    }
    assertEquals(List.of(yes), run("filter", Map.of("field", "u", "exists", true), yes));
    assertEquals(List.of(), run("filter", Map.of("field", "missing", "exists", true), yes));
    // a predicate that cannot be evaluated fails the record unless told otherwise
    FunctionException e =
        assertThrows(FunctionException.class, () -> run("filter", Map.of("cel", "record.missing == 1"), yes));
    assertEquals("filter: missing field missing", e.getMessage());
    assertEquals(List.of(), run("filter", Map.of("cel", "record.missing == 1", "onError", "drop"), yes));
    // an uploaded CEL source is a filter too
    assertEquals(List.of(), FACTORY.compile("cel", "record.u == 'kg'").apply(yes, CONTEXT));
  }

  @Test
  void splitMakesSeveralRecords() throws Exception {
    Map<String, Object> in = record("id", 1L, "items", List.of(record("a", 1L), record("a", 2L)));
    assertEquals(
        List.of(record("id", 1L, "a", 1L), record("id", 1L, "a", 2L)),
        run("split", Map.of("array", "items"), in));
    assertEquals(
        List.of(record("id", 1L, "item", record("a", 1L)), record("id", 1L, "item", record("a", 2L))),
        run("split", Map.of("array", "items", "as", "item"), in));
    assertEquals(List.of(), run("split", Map.of("array", "items"), record("id", 1L, "items", List.of())));
    assertEquals(
        List.of(
            record("site", "A", "field", "ph", "value", 7.1d),
            record("site", "A", "field", "temp", "value", 12L)),
        run(
            "split",
            Map.of("unpivot", List.of("ph", "temp", "absent")),
            record("site", "A", "ph", 7.1d, "temp", 12L)));
  }

  @Test
  void pipelinesComposeBuiltinsCelAndJsonata() throws Exception {
    IngestionFunction f =
        FACTORY.create(
            FunctionSpec.fromMap(
                Map.of(
                    "builtin", "pipeline",
                    "config",
                        Map.of(
                            "steps",
                            List.of(
                                Map.of("builtin", "coerce", "config", Map.of("fields", Map.of("r", "number"))),
                                Map.of("cel", "record.r > 1.0"),
                                Map.of("jsonata", "[{'r': r}, {'r': r * 2}]"),
                                Map.of("builtin", "rename", "config", Map.of("fields", Map.of("r", "value"))))))));
    assertEquals(List.of(record("value", 2.5d), record("value", 5L)), f.apply(record("r", "2.5"), CONTEXT));
    assertEquals(List.of(), f.apply(record("r", "0.5"), CONTEXT));
    FunctionException e = assertThrows(FunctionException.class, () -> f.apply(record("r", "x"), CONTEXT));
    assertEquals("step 1 (coerce): coerce: field 'r': 'x' is not a number", e.getMessage());
  }

  @Test
  void badDefinitionsAreCompileErrorsNamingTheProblem() {
    CompileException e =
        assertThrows(CompileException.class, () -> FACTORY.builtin("coerce", Map.of("feilds", Map.of())));
    assertTrue(e.getMessage().contains("config.feilds unknown key"), e.getMessage());
    e = assertThrows(CompileException.class, () -> FACTORY.builtin("coerce", Map.of("fields", Map.of("x", "dbl"))));
    assertTrue(e.getMessage().contains("unknown type 'dbl'"), e.getMessage());
    e = assertThrows(CompileException.class, () -> FACTORY.builtin("nope", Map.of()));
    assertTrue(e.getMessage().contains("unknown built-in function 'nope'"), e.getMessage());
    e =
        assertThrows(
            CompileException.class,
            () ->
                FACTORY.builtin(
                    "pipeline", Map.of("steps", List.of(Map.of("builtin", "identity"), Map.of("jsonata", "{'a': }")))));
    assertTrue(e.getMessage().startsWith("jsonata error at line 1, column"), e.getMessage());
    assertTrue(e.detail().startsWith("pipeline steps[1]: "), e.detail());
    e = assertThrows(CompileException.class, () -> FACTORY.compile("python", "import os"));
    assertTrue(e.getMessage().contains("unknown language"), e.getMessage());
    assertThrows(CompileException.class, () -> FunctionSpec.fromMap(Map.of("builtin", "x", "cel", "true")));
  }

  @Test
  void theRegistryKnowsTheBuiltInsByName() throws Exception {
    FunctionRegistry registry = FunctionRegistry.withBuiltins();
    assertTrue(registry.find("identity").isPresent());
    assertTrue(registry.find("alice").isPresent());
    assertTrue(registry.find("bob").isPresent());
    assertEquals(
        List.of("identity", "rename", "nest", "coerce", "filter", "split", "pipeline", "alice", "bob"),
        List.copyOf(FunctionFactory.builtinNames()));
  }
}
