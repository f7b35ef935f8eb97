package io.mysimbdp.node.functions;

import io.mysimbdp.functions.quality.QualityRuleSet;
import io.mysimbdp.functions.quality.QualityRuleSet.RuleStats;
import io.mysimbdp.functions.quality.QualityRuleSet.Verdict;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.node.functions.FunctionStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A tenant's quality rules as one node evaluates them: batch files and stream messages call {@link
 * #evaluate} on every record a function produced, then store it ({@code ACCEPT}), store {@link
 * Verdict#tag tagged} ({@code TAG}) or dead-letter it with {@link Verdict#reasons()} at stage
 * QUALITY ({@code DEAD_LETTER}). Counts are kept in memory and added to the tenant's {@code
 * quality_stats} by {@link #flush()} (periodically, and at the end of every file), and so is a
 * rule's disabling for repeated bound violations (on the rule's generation: defining the rule
 * again enables it).
 */
public final class QualityCheck {
  /** No rules: every record is accepted. */
  public static final QualityCheck NONE = new QualityCheck(null, null, null, List.of(), "");

  private static final Verdict ACCEPTED = new Verdict(List.of(), List.of());

  private final String tenantId;
  private final FunctionStore store;
  private final QualityRuleSet rules;
  /** Per rule (in the set's order): the id of its persisted counts, "name@generation". */
  private final List<String> statsIds;
  /** Identifies the rule definitions this check was built from (changes when any rule changes). */
  private final String fingerprint;
  /** Per rule: evaluated, passed, failed, errors already added to the store. */
  private final long[][] flushed;
  /** Per rule: whether its disabling (for repeated bound violations) is in the store. */
  private final boolean[] disabledRecorded;

  QualityCheck(String tenantId, FunctionStore store, QualityRuleSet rules, List<String> statsIds, String fingerprint) {
    this.tenantId = tenantId;
    this.store = store;
    this.rules = rules;
    this.statsIds = List.copyOf(statsIds);
    this.fingerprint = fingerprint;
    this.flushed = new long[statsIds.size()][4];
    this.disabledRecorded = new boolean[statsIds.size()];
  }

  public boolean isEmpty() {
    return rules == null || statsIds.isEmpty();
  }

  String fingerprint() {
    return fingerprint;
  }

  /** Every rule on the record; never throws (a rule that cannot be evaluated fails with the reason). */
  public Verdict evaluate(Map<String, Object> record, FunctionContext context) {
    return isEmpty() ? ACCEPTED : rules.evaluate(record, context);
  }

  /** Adds the counts since the last flush to the store. */
  public CompletionStage<Void> flush() {
    if (isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<RuleStats> now = rules.snapshot();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    synchronized (flushed) {
      for (int i = 0; i < now.size(); i++) {
        RuleStats s = now.get(i);
        if (s.disabled() && !disabledRecorded[i]) {
          disabledRecorded[i] = true;
          int rule = i;
          org.slf4j.LoggerFactory.getLogger(QualityCheck.class).warn("tenant {}: quality rule {} disabled: {}", tenantId, s.rule(), s.disabledReason());
          writes.add(store.qualityRuleDisabled(tenantId, statsIds.get(i), s.rule(), s.disabledReason())
              .toCompletableFuture()
              .exceptionally(e -> {
                synchronized (flushed) {
                  disabledRecorded[rule] = false; // recorded at the next flush
                }
                throw new java.util.concurrent.CompletionException(e);
              }));
        }
        long[] current = {s.evaluated(), s.passed(), s.failed(), s.errors()};
        long[] delta = new long[4];
        boolean any = false;
        for (int k = 0; k < 4; k++) {
          delta[k] = current[k] - flushed[i][k];
          any |= delta[k] != 0;
        }
        if (!any) {
          continue;
        }
        System.arraycopy(current, 0, flushed[i], 0, 4);
        int rule = i;
        writes.add(store.addQualityCounts(tenantId, statsIds.get(i), s.rule(), delta[0], delta[1], delta[2], delta[3])
            .toCompletableFuture()
            .exceptionally(e -> {
              // Not added: count it again at the next flush.
              synchronized (flushed) {
                for (int k = 0; k < 4; k++) {
                  flushed[rule][k] -= delta[k];
                }
              }
              throw new java.util.concurrent.CompletionException(e);
            }));
      }
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }
}
