package io.mysimbdp.functions.quality;

import io.mysimbdp.functions.quality.QualityRule.Action;
import io.mysimbdp.functions.sandbox.CelPredicate;
import io.mysimbdp.functions.sandbox.GuardedFunction;
import io.mysimbdp.functions.sandbox.SandboxLimits;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A tenant's quality rules, compiled once and evaluated per record from any number of threads.
 * Each rule keeps counts (LongAdder: cheap under contention); {@link #snapshot()} reports pass rates
 * against the rules' thresholds.
 *
 * <p>A rule that cannot be evaluated on a record, such as one reading a field the record lacks,
 * fails for that record with the reason ("missing field x") and is counted as failed (and in
 * {@code errors}); it never throws out of {@link #evaluate}.
 *
 * <p>A rule stopped by the sandbox's bounds ({@link CelPredicate.Outcome#boundViolated()}: CPU
 * time, memory, value sizes) {@link #MAX_CONSECUTIVE_VIOLATIONS} times in a row is disabled on
 * this set: it is no longer evaluated (it neither passes nor fails a record) and {@link
 * RuleStats#disabledReason()} says why. Defining the rule again (a new set) enables it again.
 */
public final class QualityRuleSet {

  /** One rule's failure on one record. */
  public record Failure(String rule, Action action, String reason) {}

  /** What to do with a record, most severe first. */
  public enum Decision {
    DEAD_LETTER,
    TAG,
    ACCEPT
  }

  /** The result of all rules on one record. */
  public record Verdict(List<String> passed, List<Failure> failures) {
    public boolean ok() {
      return failures.isEmpty();
    }

    /** DEAD_LETTER if a failed rule says so, else TAG if any rule failed, else ACCEPT. */
    public Decision decision() {
      Decision d = Decision.ACCEPT;
      for (Failure f : failures) {
        if (f.action() == Action.DEAD_LETTER) {
          return Decision.DEAD_LETTER;
        }
        d = Decision.TAG;
      }
      return d;
    }

    /** Names of the failed rules. */
    public List<String> failedRules() {
      List<String> names = new ArrayList<>(failures.size());
      for (Failure f : failures) {
        names.add(f.rule());
      }
      return names;
    }

    /**
     * The record to store for TAG: a copy with {@code "_quality": {"failed": [rule names],
     * "reasons": {rule: reason}}} added (the record itself when nothing failed).
     */
    public Map<String, Object> tag(Map<String, Object> record) {
      if (failures.isEmpty()) {
        return record;
      }
      Map<String, Object> reasons = new LinkedHashMap<>();
      for (Failure f : failures) {
        reasons.put(f.rule(), f.reason());
      }
      Map<String, Object> quality = new LinkedHashMap<>();
      quality.put("failed", failedRules());
      quality.put("reasons", reasons);
      Map<String, Object> tagged = new LinkedHashMap<>(record);
      tagged.put(TAG_FIELD, quality);
      return tagged;
    }

    /** One line for a dead-letter entry: "rule: reason; rule: reason". */
    public String reasons() {
      StringBuilder b = new StringBuilder();
      for (Failure f : failures) {
        if (b.length() > 0) {
          b.append("; ");
        }
        b.append(f.rule()).append(": ").append(f.reason());
      }
      return b.toString();
    }
  }

  /**
   * A rule's counts so far.
   *
   * @param passRate passed / evaluated (1.0 before any record)
   * @param acceptable passRate >= threshold
   */
  public record RuleStats(
      String rule,
      Action action,
      double threshold,
      long evaluated,
      long passed,
      long failed,
      long errors,
      double passRate,
      boolean acceptable,
      String disabledReason) {
    public boolean disabled() {
      return disabledReason != null;
    }
  }

  /** Bound violations in a row that disable a rule (as {@link GuardedFunction.Policy#DEFAULT} a function). */
  public static final int MAX_CONSECUTIVE_VIOLATIONS = GuardedFunction.Policy.DEFAULT.maxConsecutiveViolations();

  /** The field {@link Verdict#tag} adds. */
  public static final String TAG_FIELD = "_quality";

  private static final class Compiled {
    final QualityRule rule;
    final CelPredicate predicate;
    final LongAdder passed = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder errors = new LongAdder();
    final AtomicInteger consecutiveViolations = new AtomicInteger();
    volatile String disabledReason;

    Compiled(QualityRule rule, CelPredicate predicate) {
      this.rule = rule;
      this.predicate = predicate;
    }
  }

  private final List<Compiled> rules;

  private QualityRuleSet(List<Compiled> rules) {
    this.rules = rules;
  }

  /** Compiles every rule; the first that does not compile is reported with its name. */
  public static QualityRuleSet compile(List<QualityRule> rules, SandboxLimits limits)
      throws CompileException {
    List<Compiled> compiled = new ArrayList<>(rules.size());
    Set<String> names = new HashSet<>();
    for (QualityRule rule : rules) {
      if (!names.add(rule.name())) {
        throw CompileException.of("cel", "quality rule " + rule.name() + ": duplicate name");
      }
      try {
        compiled.add(new Compiled(rule, CelPredicate.compile(rule.cel(), limits)));
      } catch (CompileException e) {
        throw new CompileException(
            e.language(),
            "quality rule " + rule.name() + ": " + e.detail(),
            e.offset(),
            e.line(),
            e.column());
      }
    }
    return new QualityRuleSet(List.copyOf(compiled));
  }

  /** Rule sets from JSON definitions (see {@link QualityRule#fromMap}). */
  public static QualityRuleSet fromMaps(List<? extends Map<String, ?>> definitions, SandboxLimits limits)
      throws CompileException {
    List<QualityRule> rules = new ArrayList<>();
    for (Map<String, ?> d : definitions) {
      rules.add(QualityRule.fromMap(d));
    }
    return compile(rules, limits);
  }

  public List<QualityRule> rules() {
    List<QualityRule> out = new ArrayList<>(rules.size());
    for (Compiled c : rules) {
      out.add(c.rule);
    }
    return out;
  }

  public Verdict evaluate(Map<String, Object> record) {
    return evaluate(record, null);
  }

  /** Runs every rule on the record and counts the results. Never throws. */
  public Verdict evaluate(Map<String, Object> record, FunctionContext context) {
    List<String> passed = new ArrayList<>(rules.size());
    List<Failure> failures = new ArrayList<>(2);
    for (Compiled c : rules) {
      if (c.disabledReason != null) {
        continue;
      }
      CelPredicate.Outcome outcome = c.predicate.evaluate(record, context);
      if (!outcome.boundViolated()) {
        c.consecutiveViolations.set(0);
      } else if (c.consecutiveViolations.incrementAndGet() >= MAX_CONSECUTIVE_VIOLATIONS && c.disabledReason == null) {
        c.disabledReason = MAX_CONSECUTIVE_VIOLATIONS + " consecutive bound violations, the last: " + outcome.reason();
      }
      switch (outcome.status()) {
        case PASS:
          c.passed.increment();
          passed.add(c.rule.name());
          break;
        case FAIL:
          c.failed.increment();
          failures.add(new Failure(c.rule.name(), c.rule.action(), c.rule.failureText()));
          break;
        default:
          c.failed.increment();
          c.errors.increment();
          failures.add(new Failure(c.rule.name(), c.rule.action(), errorReason(c.rule, outcome)));
      }
    }
    return new Verdict(passed, failures);
  }

  private static String errorReason(QualityRule rule, CelPredicate.Outcome outcome) {
    // a required rule that cannot even be evaluated is missing its field
    return rule.failureText().startsWith("missing field ") ? rule.failureText() : outcome.reason();
  }

  /** Counts so far, one entry per rule in definition order. */
  public List<RuleStats> snapshot() {
    List<RuleStats> out = new ArrayList<>(rules.size());
    for (Compiled c : rules) {
      long passed = c.passed.sum();
      long failed = c.failed.sum();
      long evaluated = passed + failed;
      double rate = evaluated == 0 ? 1.0 : (double) passed / evaluated;
      out.add(
          new RuleStats(
              c.rule.name(),
              c.rule.action(),
              c.rule.threshold(),
              evaluated,
              passed,
              failed,
              c.errors.sum(),
              rate,
              rate >= c.rule.threshold(),
              c.disabledReason));
    }
    return out;
  }
}
