package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.sandbox.CelPredicate.Outcome;
import io.mysimbdp.functions.sandbox.CelPredicate.Status;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CelPredicateTest {
  private static final SandboxLimits LIMITS = SandboxLimits.DEFAULT;

  private static Map<String, Object> record() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("result", "7.27");
    r.put("value", 7.27d);
    r.put("count", 3L);
    r.put("flag", true);
    r.put("nothing", null);
    r.put("sample.isComplianceSample", "true");
    r.put("sample", Map.of("samplingPoint", Map.of("label", "RIVER")));
    return r;
  }

  private static Outcome eval(String source) throws CompileException {
    return CelPredicate.compile(source, LIMITS).evaluate(record());
  }

  @Test
  void predicatesOverFlatAndNestedRecords() throws Exception {
    assertEquals(Status.PASS, eval("double(record.result) > 7.0").status());
    assertEquals(Status.PASS, eval("record['sample.isComplianceSample'] == 'true'").status());
    assertEquals(Status.PASS, eval("record.sample.samplingPoint.label == 'RIVER'").status());
    assertEquals(Status.PASS, eval("record.value > 7 && record.count < 3.5").status());
    assertEquals(Status.PASS, eval("record.nothing == null && record.flag").status());
    assertEquals(Status.FAIL, eval("record.count in [1, 2]").status());
    assertEquals(Status.PASS, eval("has(record.count) && !has(record.other)").status());
    assertEquals(
        Status.PASS,
        CelPredicate.compile("context.tenant == 'alice'", LIMITS)
            .evaluate(record(), new FunctionContext("alice", "c", "s", 0))
            .status());
  }

  @Test
  void aMissingFieldIsAFailureWithAReasonNotAnException() throws Exception {
    Outcome o = eval("double(record.temperature) < 30.0");
    assertEquals(new Outcome(Status.ERROR, "missing field temperature"), o);
    o = eval("record['sample.purpose.label'] == 'X'");
    assertEquals("missing field sample.purpose.label", o.reason());
    o = eval("record.sample.samplingPoint.notation == 'X'");
    assertEquals("missing field sample.samplingPoint.notation", o.reason());
  }

  @Test
  void typeErrorsAndNonBooleanResultsAreErrors() throws Exception {
    Outcome o = eval("record.result > 3");
    assertEquals(Status.ERROR, o.status());
    assertTrue(o.reason().contains("No matching overload"), o.reason());
    assertEquals(Status.ERROR, eval("double(record.sample) > 1.0").status());
    o = eval("record.result");
    assertEquals(new Outcome(Status.ERROR, "the predicate returned a string, not a boolean"), o);
  }

  @Test
  void compileErrorsCarryLineAndColumn() {
    CompileException e =
        assertThrows(CompileException.class, () -> CelPredicate.compile("record.a > 1 &&\n  ", LIMITS));
    assertEquals("cel", e.language());
    assertEquals(2, e.line());
    assertEquals(3, e.column());
    e = assertThrows(CompileException.class, () -> CelPredicate.compile("unknownVar == 1", LIMITS));
    assertEquals(1, e.line());
    assertEquals(1, e.column());
    assertTrue(e.detail().contains("undeclared reference to 'unknownVar'"), e.detail());
    e = assertThrows(CompileException.class, () -> CelPredicate.compile("1 + 2", LIMITS));
    assertTrue(e.getMessage().startsWith("cel error"), e.getMessage());
  }

  /** CEL cannot loop or recurse; its macros share one iteration budget per evaluation. */
  @Test
  void nestedComprehensionsRunOutOfIterations() throws Exception {
    List<Long> big = new ArrayList<>();
    for (long i = 0; i < 1_000; i++) {
      big.add(i);
    }
    Map<String, Object> r = new HashMap<>(Map.of("list", big));
    // the iteration budget alone: 10,000 iterations of CEL's interpreter may reach the allocation
    // (~17 MiB) or, not yet compiled by the JIT, the CPU bound first
    CelPredicate p =
        CelPredicate.compile(
            "record.list.all(x, record.list.all(y, x + y >= 0))",
            LIMITS.withMaxAllocatedBytes(0).withTimeout(java.time.Duration.ofSeconds(5)));
    Outcome o = Stopped.within(() -> p.evaluate(r));
    assertEquals(new Outcome(Status.ERROR, "iteration limit: more than 10000 iterations"), o);
  }

  /** matches() runs RE2: a pattern that backtracks exponentially in java.util.regex is linear. */
  @Test
  void regularExpressionsAreLinearTime() throws Exception {
    Map<String, Object> r = new HashMap<>(Map.of("s", "a".repeat(50_000) + "!"));
    CelPredicate p = CelPredicate.compile("record.s.matches('^(a+)+$')", LIMITS);
    Outcome o = Stopped.within(() -> p.evaluate(r));
    assertEquals(Status.FAIL, o.status(), o::toString);
  }

  /** No host access: only the standard library exists; unknown functions do not compile. */
  @Test
  void thereIsNothingToCallOutside() {
    for (String attempt :
        List.of(
            "readFile('/etc/passwd') == ''",
            "java.lang.Runtime.getRuntime() == null",
            "record.getClass() == null",
            "thread(1) == 1")) {
      assertThrows(CompileException.class, () -> CelPredicate.compile(attempt, LIMITS), attempt);
    }
  }

  @Test
  void recordsWithOtherJavaNumbersAndNullsAreConverted() throws Exception {
    Map<String, Object> r = new HashMap<>();
    r.put("i", 3);
    r.put("d", new java.math.BigDecimal("2.5"));
    r.put("n", null);
    CelPredicate p = CelPredicate.compile("record.i == 3 && record.d == 2.5 && record.n == null", LIMITS);
    assertEquals(Status.PASS, p.evaluate(r).status());
  }
}
