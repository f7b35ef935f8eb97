package io.mysimbdp.functions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.builtin.AliceFunction;
import io.mysimbdp.functions.builtin.BobFunction;
import io.mysimbdp.functions.sandbox.JsonataFunction;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Alice and Bob as built-in Java and as uploaded JSONata give identical records on all 9,999 rows.
 * "Identical" is {@link JsonDiff}: same keys, same strings, same number class and value (both
 * sides produce canonical numbers: Long when integral, else Double; so a 7.27 parsed as BigDecimal
 * on one side and double on the other, or 7 vs 7.0, would be a difference).
 */
class AliceBobEquivalenceTest {
  private static final FunctionContext CONTEXT =
      new FunctionContext("tenant", "water-quality", "water-quality-10k.csv", 0);

  private static List<Map<String, Object>> rows;
  private static IngestionFunction aliceJava;
  private static IngestionFunction aliceJsonata;
  private static IngestionFunction bobJava;
  private static IngestionFunction bobJsonata;

  @BeforeAll
  static void setUp() throws Exception {
    rows = WaterQualityData.rows();
    // generous time: the comparison is about output, and the first records warm up the JIT
    SandboxLimits limits = SandboxLimits.DEFAULT.withTimeout(java.time.Duration.ofSeconds(5));
    aliceJava = AliceFunction.withDefaults();
    aliceJsonata =
        JsonataFunction.compile(WaterQualityData.resource("examples/alice.jsonata"), limits);
    bobJava = BobFunction.withDefaults();
    bobJsonata = JsonataFunction.compile(WaterQualityData.resource("examples/bob.jsonata"), limits);
  }

  @Test
  void theDataSetIsWhatTheTestsAssume() {
    assertEquals(WaterQualityData.ROWS, rows.size());
    assertEquals(17, rows.get(0).size());
  }

  @Test
  void aliceJavaAndJsonataAreIdenticalOnEveryRow() throws Exception {
    int compared = compareAll(aliceJava, aliceJsonata);
    assertEquals(WaterQualityData.ROWS, compared);
  }

  @Test
  void bobJavaAndJsonataAreIdenticalOnEveryRow() throws Exception {
    int compared = compareAll(bobJava, bobJsonata);
    assertEquals(WaterQualityData.ROWS, compared);
  }

  /** Compares both functions record by record; returns the number of input rows compared. */
  private static int compareAll(IngestionFunction java, IngestionFunction sandboxed)
      throws FunctionException {
    int compared = 0;
    for (int i = 0; i < rows.size(); i++) {
      Map<String, Object> row = rows.get(i);
      FunctionContext ctx = new FunctionContext("tenant", "water-quality", "csv", i);
      List<Map<String, Object>> expected = java.apply(row, ctx);
      List<Map<String, Object>> actual = sandboxed.apply(row, ctx);
      String diff = JsonDiff.diff(expected, actual);
      assertNull(diff, () -> "row " + ctx.position() + " (" + row.get("@id") + "): " + diff);
      compared++;
    }
    return compared;
  }

  /** Alice's output shape, checked on the first row (values from the CSV by hand). */
  @Test
  void aliceOutputShape() throws Exception {
    Map<String, Object> out = aliceJava.apply(rows.get(0), CONTEXT).get(0);
    Map<String, Object> sample = map(out, "sample");
    Map<String, Object> point = map(sample, "samplingPoint");
    assertEquals(
        "http://environment.data.gov.uk/water-quality/data/measurement/AN-1924106-0135",
        out.get("@id"));
    assertEquals(
        "http://environment.data.gov.uk/water-quality/id/sampling-point/AN-011396", point.get("@id"));
    assertEquals("BUCKINGHAM GOLF CLUB TINGEWICK RD.", point.get("label"));
    assertEquals(467020L, point.get("easting"));
    assertEquals(233400L, point.get("northing"));
    assertEquals("2019-01-24T12:58:00.000Z", sample.get("sampleDateTime"));
    assertEquals(Boolean.TRUE, sample.get("isComplianceSample"));
    assertEquals("FINAL SEWAGE EFFLUENT", map(sample, "sampledMaterialType").get("label"));
    assertEquals("mg/l", map(map(out, "determinand"), "unit").get("label"));
    assertEquals("0135", map(out, "determinand").get("notation"));
    assertEquals(7.27d, out.get("result"));
    // empty columns are dropped, with the objects that only they would fill
    assertTrue(!out.containsKey("resultQualifier") && !out.containsKey("codedResultInterpretation"));
    for (String key : out.keySet()) {
      assertTrue(!key.contains("."), "no dotted key left: " + key);
    }
  }

  /** Independent of both implementations: counts from the raw CSV with plain Java. */
  @Test
  void bobEmitsOneRecordPerComplianceSampleAndOneAlertPerExceedance() throws Exception {
    Map<String, Number> thresholds = BobFunction.DEFAULT_THRESHOLDS;
    int compliance = 0;
    int exceedances = 0;
    for (Map<String, Object> row : rows) {
      if (!"true".equals(row.get("sample.isComplianceSample"))) {
        continue;
      }
      compliance++;
      Number limit = thresholds.get((String) row.get("determinand.label"));
      if (limit != null
          && new BigDecimal((String) row.get("result")).compareTo(new BigDecimal(limit.toString())) > 0
          && !"<".equals(row.get("resultQualifier.notation"))) {
        exceedances++;
      }
    }
    assertEquals(1361, compliance);
    assertEquals(75, exceedances);

    for (IngestionFunction bob : List.of(bobJava, bobJsonata)) {
      int measurements = 0;
      int alerts = 0;
      Set<Object> measurementIds = new java.util.HashSet<>();
      List<Map<String, Object>> alertRecords = new ArrayList<>();
      for (Map<String, Object> row : rows) {
        for (Map<String, Object> r : bob.apply(row, CONTEXT)) {
          if ("measurement".equals(r.get("type"))) {
            measurements++;
            measurementIds.add(r.get("@id"));
            assertEquals(Boolean.TRUE, r.get("sample_isComplianceSample"));
            assertInstanceOf(Number.class, r.get("result"));
          } else {
            assertEquals("alert", r.get("type"));
            alerts++;
            alertRecords.add(r);
          }
        }
      }
      assertEquals(compliance, measurements);
      assertEquals(exceedances, alerts);
      for (Map<String, Object> alert : alertRecords) {
        assertTrue(measurementIds.contains(alert.get("measurement")), "alert refers to a measurement");
        assertTrue(
            ((Number) alert.get("result")).doubleValue()
                > ((Number) alert.get("threshold")).doubleValue());
      }
    }
  }

  @Test
  void bobThresholdsAreConfigurableBothWays() throws Exception {
    Map<String, Object> config = Map.of("thresholds", Map.of("BOD ATU", 1000));
    IngestionFunction java = FunctionFactory.standard().builtin("bob", config);
    IngestionFunction jsonata =
        FunctionFactory.standard()
            .compile("jsonata", WaterQualityData.resource("examples/bob.jsonata"), config);
    Map<String, Object> row = rows.get(2); // a BOD ATU compliance row
    assertEquals("BOD ATU", row.get("determinand.label"));
    Map<String, Object> over = new LinkedHashMap<>(row);
    over.put("result", "1000.5");
    over.put("resultQualifier.notation", "");
    assertEquals(2, java.apply(over, CONTEXT).size());
    assertNull(JsonDiff.diff(java.apply(over, CONTEXT), jsonata.apply(over, CONTEXT)));
    over.put("result", "999");
    assertEquals(1, java.apply(over, CONTEXT).size());
    assertNull(JsonDiff.diff(java.apply(over, CONTEXT), jsonata.apply(over, CONTEXT)));
  }

  /** The comparison can fail: it sees a number type change, a string for a number, a lost key. */
  @Test
  void theComparisonDetectsRealDifferences() throws Exception {
    Map<String, Object> a = aliceJava.apply(rows.get(0), CONTEXT).get(0);
    Map<String, Object> b = aliceJsonata.apply(rows.get(0), CONTEXT).get(0);
    assertNull(JsonDiff.diff(a, b));

    Map<String, Object> asString = new LinkedHashMap<>(b);
    asString.put("result", "7.27");
    assertNotNull(JsonDiff.diff(a, asString));

    Map<String, Object> asDecimal = new LinkedHashMap<>(b);
    asDecimal.put("result", new BigDecimal("7.27"));
    assertNotNull(JsonDiff.diff(a, asDecimal));

    Map<String, Object> otherValue = new LinkedHashMap<>(b);
    otherValue.put("result", 7.270000001d);
    assertNotNull(JsonDiff.diff(a, otherValue));

    Map<String, Object> integral = aliceJava.apply(withResult(rows.get(0), "12"), CONTEXT).get(0);
    Map<String, Object> asDouble = new LinkedHashMap<>(integral);
    asDouble.put("result", 12.0d);
    assertNotNull(JsonDiff.diff(integral, asDouble));
    assertEquals(12L, integral.get("result"));

    Map<String, Object> lostKey = new LinkedHashMap<>(b);
    lostKey.remove("determinand");
    assertNotNull(JsonDiff.diff(a, lostKey));
  }

  @Test
  void bothSidesFailOnTheSameBadRows() {
    Map<String, Object> bad = withResult(rows.get(0), "not a number");
    for (IngestionFunction f : List.of(aliceJava, aliceJsonata, bobJava, bobJsonata)) {
      org.junit.jupiter.api.Assertions.assertThrows(
          FunctionException.class, () -> f.apply(bad, CONTEXT), f.toString());
    }
  }

  private static Map<String, Object> withResult(Map<String, Object> row, String result) {
    Map<String, Object> copy = new LinkedHashMap<>(row);
    copy.put("result", result);
    return copy;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertInstanceOf(Map.class, v, key);
    return (Map<String, Object>) v;
  }
}
