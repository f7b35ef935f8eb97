package io.mysimbdp.functions.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.WaterQualityData;
import io.mysimbdp.functions.builtin.AliceFunction;
import io.mysimbdp.functions.quality.QualityRule.Action;
import io.mysimbdp.functions.quality.QualityRuleSet.Decision;
import io.mysimbdp.functions.quality.QualityRuleSet.RuleStats;
import io.mysimbdp.functions.quality.QualityRuleSet.Verdict;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Rule pass counts over the CSV equal counts computed independently with plain Java. */
class QualityRulesTest {
  private static final Set<String> UNITS = Set.of("mg/l", "ug/l", "cel", "phunits", "%");
  private static List<Map<String, Object>> rows;

  /** The rules as a tenant would send them (JSON), with the plain-Java truth for each. */
  private static final List<Map<String, Object>> DEFINITIONS =
      List.of(
          rule("result-numeric", "pattern", "field", "result", "regex", "^[0-9]+(\\.[0-9]+)?$"),
          rule("result-range", "range", "field", "result", "min", 0, "max", 100, "threshold", 0.95),
          rule("qualifier-present", "required", "field", "resultQualifier.notation", "threshold", 0.1),
          rule("unit-known", "allowed", "field", "determinand.unit.label", "values", List.copyOf(UNITS)),
          rule(
              "first-half-2019",
              "cel",
              "cel",
              "timestamp(record['sample.sampleDateTime'] + 'Z') < timestamp('2019-07-01T00:00:00Z')",
              "threshold",
              0.5),
          rule("temperature-below-30", "cel", "cel", "double(record.temperature) < 30.0", "action", "DEAD_LETTER"));

  private static final Map<String, Predicate<Map<String, Object>>> TRUTH =
      Map.of(
          "result-numeric",
          r -> Pattern.matches("[0-9]+(\\.[0-9]+)?", (String) r.get("result")),
          "result-range",
          r -> {
            double d = Double.parseDouble((String) r.get("result"));
            return d >= 0 && d <= 100;
          },
          "qualifier-present",
          r -> !((String) r.get("resultQualifier.notation")).isEmpty(),
          "unit-known",
          r -> UNITS.contains(r.get("determinand.unit.label")),
          "first-half-2019",
          r ->
              LocalDateTime.parse((String) r.get("sample.sampleDateTime"))
                  .isBefore(LocalDateTime.parse("2019-07-01T00:00:00")),
          "temperature-below-30",
          r -> false);

  private static Map<String, Object> rule(String name, String kind, Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("kind", kind);
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @BeforeAll
  static void load() {
    rows = WaterQualityData.rows();
  }

  @Test
  void passCountsMatchAnIndependentCount() throws Exception {
    QualityRuleSet rules = FunctionFactory.standard().qualityRules(DEFINITIONS);
    for (Map<String, Object> row : rows) {
      rules.evaluate(row);
    }
    List<RuleStats> stats = rules.snapshot();
    assertEquals(DEFINITIONS.size(), stats.size());
    for (RuleStats s : stats) {
      long expected = rows.stream().filter(TRUTH.get(s.rule())).count();
      assertEquals(rows.size(), s.evaluated(), s.rule());
      assertEquals(expected, s.passed(), s.rule());
      assertEquals(rows.size() - expected, s.failed(), s.rule());
      assertEquals((double) expected / rows.size(), s.passRate(), 1e-12, s.rule());
    }
    // the counts are not degenerate: these rules split the data
    Map<String, RuleStats> byName = new LinkedHashMap<>();
    stats.forEach(s -> byName.put(s.rule(), s));
    assertEquals(1417, byName.get("qualifier-present").passed());
    assertTrue(byName.get("result-range").failed() > 0 && byName.get("result-range").passed() > 0);
    assertTrue(byName.get("first-half-2019").failed() > 0 && byName.get("first-half-2019").passed() > 0);
    // acceptable = pass rate >= threshold
    assertTrue(byName.get("qualifier-present").acceptable()); // 14% >= 10%
    assertFalse(byName.get("temperature-below-30").acceptable());
    assertEquals(
        byName.get("result-range").passRate() >= 0.95, byName.get("result-range").acceptable());
  }

  @Test
  void aRuleOnAMissingFieldFailsEveryRecordWithThatReason() throws Exception {
    QualityRuleSet rules = FunctionFactory.standard().qualityRules(DEFINITIONS);
    Verdict v = rules.evaluate(rows.get(0));
    QualityRuleSet.Failure f =
        v.failures().stream().filter(x -> x.rule().equals("temperature-below-30")).findFirst().orElseThrow();
    assertEquals("missing field temperature", f.reason());
    assertEquals(Decision.DEAD_LETTER, v.decision());
    for (Map<String, Object> row : rows.subList(1, rows.size())) {
      rules.evaluate(row);
    }
    RuleStats s = rules.snapshot().get(5);
    assertEquals("temperature-below-30", s.rule());
    assertEquals(rows.size(), s.failed());
    assertEquals(rows.size(), s.errors());
  }

  @Test
  void requiredOnAnEmptyOrAbsentFieldSaysMissing() throws Exception {
    QualityRuleSet rules =
        QualityRuleSet.compile(
            List.of(
                QualityRule.required("q", List.of("resultQualifier.notation"), 1, Action.TAG),
                QualityRule.required("deep", List.of("sample", "samplingPoint", "label"), 1, Action.TAG)),
            SandboxLimits.DEFAULT);
    Verdict v = rules.evaluate(rows.get(0)); // qualifier "", no nested sample
    assertEquals(
        List.of(
            new QualityRuleSet.Failure("q", Action.TAG, "missing field resultQualifier.notation"),
            new QualityRuleSet.Failure("deep", Action.TAG, "missing field sample.samplingPoint.label")),
        v.failures());
    Map<String, Object> tagged = v.tag(rows.get(0));
    assertEquals(
        Map.of(
            "failed", List.of("q", "deep"),
            "reasons",
                Map.of(
                    "q", "missing field resultQualifier.notation",
                    "deep", "missing field sample.samplingPoint.label")),
        tagged.get(QualityRuleSet.TAG_FIELD));
    assertEquals(Decision.TAG, v.decision());
  }

  /** The same rules on Alice's nested, typed output give the same counts as on the raw CSV. */
  @Test
  void rulesOnNormalizedRecords() throws Exception {
    QualityRuleSet rules =
        QualityRuleSet.compile(
            List.of(
                QualityRule.range("result-range", List.of("result"), 0, 100, 1, Action.TAG),
                QualityRule.required(
                    "label", List.of("sample", "samplingPoint", "label"), 1, Action.TAG),
                QualityRule.cel(
                    "compliance-typed", "record.sample.isComplianceSample == true", 0, Action.TAG)),
            SandboxLimits.DEFAULT);
    AliceFunction alice = AliceFunction.withDefaults();
    FunctionContext ctx = new FunctionContext("alice", "wq", "csv", 0);
    for (Map<String, Object> row : rows) {
      rules.evaluate(alice.apply(row, ctx).get(0));
    }
    List<RuleStats> stats = rules.snapshot();
    assertEquals(rows.stream().filter(TRUTH.get("result-range")).count(), stats.get(0).passed());
    assertEquals(rows.size(), stats.get(1).passed());
    assertEquals(1361, stats.get(2).passed());
  }

  @Test
  void countsAreExactUnderConcurrency() throws Exception {
    QualityRuleSet rules = FunctionFactory.standard().qualityRules(DEFINITIONS);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(pool.submit(() -> rows.forEach(rules::evaluate)));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    for (RuleStats s : rules.snapshot()) {
      assertEquals(4L * rows.size(), s.evaluated(), s.rule());
      assertEquals(4L * rows.stream().filter(TRUTH.get(s.rule())).count(), s.passed(), s.rule());
    }
  }

  @Test
  void shorthandRulesCompileToReadableCel() {
    assertEquals(
        "double(record[\"result\"]) >= 0.0 && double(record[\"result\"]) <= 100.0",
        QualityRule.range("r", List.of("result"), 0, 100, 1, Action.TAG).cel());
    assertEquals(
        "record[\"x\\\"y\"] in [\"a\", 1.0, true]",
        QualityRule.allowed("a", List.of("x\"y"), List.of("a", 1, true), 1, Action.TAG).cel());
  }

  @Test
  void badDefinitionsAreCompileErrors() {
    assertThrows(
        CompileException.class,
        () -> FunctionFactory.standard().qualityRules(List.of(rule("x", "range", "field", "a"))));
    assertThrows(
        CompileException.class,
        () -> FunctionFactory.standard().qualityRules(List.of(rule("x", "pattern", "field", "a", "regex", "("))));
    CompileException e =
        assertThrows(
            CompileException.class,
            () -> FunctionFactory.standard().qualityRules(List.of(rule("x", "cel", "cel", "record.a >"))));
    assertTrue(e.getMessage().contains("quality rule x"), e.getMessage());
    assertEquals(1, e.line());
    assertThrows(
        CompileException.class,
        () -> FunctionFactory.standard().qualityRules(List.of(rule("x", "cel", "cel", "true", "threshold", 2))));
    assertThrows(
        CompileException.class,
        () ->
            FunctionFactory.standard()
                .qualityRules(List.of(rule("x", "cel", "cel", "true"), rule("x", "cel", "cel", "false"))));
  }
}
