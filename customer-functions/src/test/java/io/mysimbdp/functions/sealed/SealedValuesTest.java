package io.mysimbdp.functions.sealed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.FunctionFactory;
import io.mysimbdp.functions.quality.QualityRule;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.sandbox.CelPredicate;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import io.mysimbdp.protocol.SealedEnvelope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Sealed values inside the platform: admitted once, carried intact, never readable. */
class SealedValuesTest {
  private static final FunctionFactory FACTORY = FunctionFactory.standard();
  private static final FunctionContext CONTEXT = new FunctionContext("t1", "default", "f1", 0);
  /** Framed like a real envelope; the bytes after the header are arbitrary (no key here). */
  private static final SealedEnvelope SITE = SealedEnvelope.of(SealedEnvelope.Mode.DETERMINISTIC, "k1", new byte[24]);
  private static final SealedEnvelope PH = SealedEnvelope.of(SealedEnvelope.Mode.RANDOMIZED, "k1", new byte[40]);

  /** A CSV record: the text form; a JSON record would carry the JSON form (both tested in admit). */
  private static Map<String, Object> record() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("site", SITE.text());
    r.put("ph", Map.of("$sealed", PH.base64()));
    r.put("depth", 3L);
    return r;
  }

  private static List<Map<String, Object>> run(IngestionFunction f) throws FunctionException {
    return SealedFields.admitting(f).apply(record(), CONTEXT);
  }

  @Test
  void wireFormsBecomeSealedValuesAndTheInputIsNotModified() throws FunctionException {
    Map<String, Object> input = record();
    Map<String, Object> admitted = SealedFields.admit(input);
    assertEquals(SealedValue.of(SITE, "site"), admitted.get("site"));
    assertEquals("site", ((SealedValue) admitted.get("site")).field());
    assertEquals(SealedValue.of(PH, "ph"), admitted.get("ph"));
    assertEquals(SITE.text(), input.get("site"));
    Map<String, Object> plain = Map.of("a", "b", "n", 1L);
    assertSame(plain, SealedFields.admit(plain));
  }

  @Test
  void aMalformedSealedValueFailsTheRecordNamingTheField() {
    Map<String, Object> r = new LinkedHashMap<>(Map.of("nested", Map.of("secret", "$sealed:AAAA")));
    FunctionException e = assertThrows(FunctionException.class, () -> SealedFields.admit(r));
    assertTrue(e.getMessage().contains("'nested.secret'"), e.getMessage());
  }

  @Test
  void identityRenameAndCoerceOfOtherFieldsKeepThemIntact() throws Exception {
    Map<String, Object> out = run(FACTORY.builtin("identity", Map.of())).get(0);
    assertEquals(SealedValue.of(SITE, "site"), out.get("site"));
    out = run(FACTORY.builtin("rename", Map.of("fields", Map.of("site", "station")))).get(0);
    assertEquals(SealedValue.of(SITE, "site"), out.get("station"));
    out = run(FACTORY.builtin("coerce", Map.of("fields", Map.of("depth", "string")))).get(0);
    assertEquals("3", out.get("depth"));
    assertEquals(SealedValue.of(PH, "ph"), out.get("ph"));
  }

  @Test
  void coercingASealedFieldIsAnErrorNamingIt() throws Exception {
    IngestionFunction coerce = FACTORY.builtin("coerce", Map.of("fields", Map.of("ph", "number")));
    FunctionException e = assertThrows(FunctionException.class, () -> run(coerce));
    assertTrue(e.getMessage().contains("'ph'") && e.getMessage().contains("sealed"), e.getMessage());
  }

  @Test
  void jsonataMayReshapeCopyAndDropSealedValues() throws Exception {
    IngestionFunction f = FACTORY.compile("jsonata",
        "{'station': site, 'copy': site, 'readings': [ph], 'depthCm': depth * 100, 'n': $count([site, ph]),"
            + " 'has': $exists(ph), 'merged': $merge([{'p': ph}, {'d': depth}])}");
    Map<String, Object> out = run(f).get(0);
    assertEquals(SealedValue.of(SITE, "site"), out.get("station"));
    assertEquals(SealedValue.of(SITE, "site"), out.get("copy"));
    assertEquals(List.of(SealedValue.of(PH, "ph")), out.get("readings"));
    assertEquals(300L, out.get("depthCm"));
    assertEquals(2L, out.get("n"));
    assertEquals(true, out.get("has"));
    assertEquals(Map.of("p", SealedValue.of(PH, "ph"), "d", 3L), out.get("merged"));
    assertFalse(out.containsKey("site"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{'x': site = 'AB12'}", "{'x': 'AB12' = site}", "{'x': site != 'AB12'}", "{'x': ph + 1}", "{'x': ph > 7}",
      "{'x': site & '!'}", "{'x': $string(site)}", "{'x': $length(site)}", "{'x': $uppercase(site)}",
      "{'x': $number(ph)}", "{'x': site ? 1 : 2}", "{'x': site in ['a']}", "{'x': -ph}", "{'x': $contains(site, 'A')}",
      "{'x': [1,2][$$.site]}", "{'x': $string({'a': site})}", "{'x': $string($)}", "{'x': {'a': ph} = {'a': ph}}", "{'x': $sum([ph])}", "{'x': $boolean(site)}", "$map([site], function($v){ $v = 'a' })"
  })
  void jsonataReadingOrComparingASealedValueFailsNamingTheField(String source) throws Exception {
    IngestionFunction f = FACTORY.compile("jsonata", source);
    FunctionException e = assertThrows(FunctionException.class, () -> run(f), source);
    assertTrue(e.getMessage().contains("field '" + (source.contains("ph") ? "ph" : "site") + "' is sealed"), e.getMessage());
  }

  @Test
  void celPredicatesAndQualityRulesCannotReadSealedFields() throws Exception {
    CelPredicate onSealed = FACTORY.predicate("record.site == 'AB12'");
    CelPredicate.Outcome outcome = onSealed.evaluate(SealedFields.admit(record()), CONTEXT);
    assertEquals(CelPredicate.Status.ERROR, outcome.status());
    assertTrue(outcome.reason().contains("field 'site' is sealed"), outcome.reason());

    CelPredicate onOther = FACTORY.predicate("record.depth > 1 && has(record.ph)");
    assertTrue(onOther.evaluate(SealedFields.admit(record()), CONTEXT).passed());

    IngestionFunction filter = FACTORY.compile("cel", "record.ph > 7.0");
    FunctionException e = assertThrows(FunctionException.class, () -> run(filter));
    assertTrue(e.getMessage().contains("field 'ph' is sealed"), e.getMessage());

    QualityRuleSet rules = QualityRuleSet.compile(
        List.of(QualityRule.range("ph-range", List.of("ph"), 0.0, 14.0, 1.0, QualityRule.Action.DEAD_LETTER)),
        FACTORY.limits());
    QualityRuleSet.Verdict verdict = rules.evaluate(SealedFields.admit(record()), CONTEXT);
    assertEquals(QualityRuleSet.Decision.DEAD_LETTER, verdict.decision());
    assertTrue(verdict.reasons().contains("field 'ph' is sealed"), verdict.reasons());
  }
}
