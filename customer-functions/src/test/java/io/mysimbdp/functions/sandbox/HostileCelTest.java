package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.quality.QualityRule;
import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.quality.QualityRuleSet.RuleStats;
import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import io.mysimbdp.functions.spi.FunctionContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CEL quality rules and filters that try to exhaust CPU or memory within the source limit: each
 * is stopped within one second of CPU ({@link Stopped}) as an ERROR outcome naming the bound, and
 * a rule that keeps hitting its bounds is disabled.
 */
class HostileCelTest {
  private static final FunctionContext CONTEXT = new FunctionContext("evil", "c", "s", 0);
  private static final SandboxLimits LIMITS = SandboxLimits.DEFAULT;
  private static final Set<Limit> TIME_OR_MEMORY = Set.of(Limit.TIMEOUT, Limit.MEMORY);

  @BeforeAll
  static void warmUp() throws Exception {
    // class loading and JIT of the library are not the rule's time
    CelPredicate p = CelPredicate.compile("[1, 2, 3].all(i, size(record.s + record.s) > i)", LIMITS);
    for (int i = 0; i < 200; i++) {
      p.evaluate(record(), CONTEXT);
    }
  }

  private static Map<String, Object> record() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("s", "x".repeat(1_000));
    r.put("l", IntStream.range(0, 1_000).mapToObj(i -> (long) i).collect(Collectors.toList()));
    r.put("n", 5L);
    return r;
  }

  /**
   * {@code leaves} copies of {@code leaf} added up as a balanced tree, {@code ((a + a) + (a + a))}:
   * the parser refuses a flat chain that deep, not this one (depth log2 of the leaves).
   */
  private static String sum(String leaf, int leaves) {
    if (leaves == 1) {
      return leaf;
    }
    return "(" + sum(leaf, leaves / 2) + "+" + sum(leaf, leaves - leaves / 2) + ")";
  }

  private static String range(int n) {
    return IntStream.range(0, n).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
  }

  private static CelPredicate.Outcome stopped(String source) throws Exception {
    assertTrue(source.length() <= LIMITS.maxSourceLength(), "fits the source limit: " + source.length());
    CelPredicate p = CelPredicate.compile(source, LIMITS);
    CelPredicate.Outcome o = Stopped.within(() -> p.evaluate(record(), CONTEXT));
    assertEquals(CelPredicate.Status.ERROR, o.status(), o::toString);
    assertTrue(o.boundViolated(), o::toString);
    assertTrue(TIME_OR_MEMORY.contains(o.limit()), o::toString);
    return o;
  }

  /** The example: 4,096 leaves of a 1,000-character field, concatenated in each of 100 iterations. */
  @Test
  void aStringConcatenationOfFieldsInsideAllIsStopped() throws Exception {
    CelPredicate.Outcome o = stopped(range(100) + ".all(i, size(" + sum("record.s", 4_096) + ") > i)");
    assertTrue(o.reason().contains("limit") || o.reason().contains("timeout"), o.reason());
  }

  /** Short literals: no value is large, the quadratic copying is what costs (time or allocation). */
  @Test
  void aStringConcatenationOfLiteralsInsideAllIsStopped() throws Exception {
    stopped(range(1_000) + ".all(i, size(" + sum("'" + "y".repeat(4) + "'", 4_096) + ") > i)");
  }

  @Test
  void aListConcatenationIsStopped() throws Exception {
    stopped(range(100) + ".all(i, size(" + sum("record.l", 4_096) + ") > i)");
  }

  @Test
  void aFilterThatHitsABoundFailsWithALimitExceededException() throws Exception {
    CelPredicate p = CelPredicate.compile(range(100) + ".all(i, size(" + sum("record.s", 4_096) + ") > i)", LIMITS);
    LimitExceededException e = Stopped.within(() -> assertThrows(LimitExceededException.class, () -> p.test(record(), CONTEXT)));
    assertTrue(TIME_OR_MEMORY.contains(e.limit()), e::toString);
  }

  @Test
  void aQualityRuleThatKeepsHittingItsBoundsIsDisabledTheOthersGoOn() throws Exception {
    List<QualityRule> rules = new ArrayList<>();
    rules.add(QualityRule.fromMap(Map.of("name", "bomb", "cel", range(100) + ".all(i, size(" + sum("record.s", 4_096) + ") > i)")));
    rules.add(QualityRule.fromMap(Map.of("name", "small", "cel", "record.n < 10")));
    QualityRuleSet set = QualityRuleSet.compile(rules, LIMITS);
    for (int i = 0; i < QualityRuleSet.MAX_CONSECUTIVE_VIOLATIONS; i++) {
      QualityRuleSet.Verdict v = Stopped.within(() -> set.evaluate(record(), CONTEXT));
      assertEquals(List.of("bomb"), v.failedRules(), v::toString);
    }
    RuleStats bomb = set.snapshot().get(0);
    assertTrue(bomb.disabled(), bomb::toString);
    assertTrue(bomb.disabledReason().startsWith(QualityRuleSet.MAX_CONSECUTIVE_VIOLATIONS + " consecutive bound violations"), bomb::toString);
    // disabled: not evaluated any more, the other rule still is
    QualityRuleSet.Verdict after = set.evaluate(record(), CONTEXT);
    assertTrue(after.ok(), after::toString);
    assertEquals(List.of("small"), after.passed());
    assertEquals(QualityRuleSet.MAX_CONSECUTIVE_VIOLATIONS, set.snapshot().get(0).evaluated());
    assertNull(set.snapshot().get(1).disabledReason());
    // defined again (a new set, as replacing the rule makes): enabled
    assertNull(QualityRuleSet.compile(rules, LIMITS).snapshot().get(0).disabledReason());
  }
}
