package io.mysimbdp.node.balance;

import io.mysimbdp.node.report.ReportStore;
import io.mysimbdp.protocol.BalancerDecision;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.slf4j.Logger;

/**
 * The balancer's decisions: the most recent kept in memory (for the overview and the dashboard),
 * every one stored (for the tenants' reports and {@code /platform/decisions}). A decision stored
 * again under its id (a move, then its completion) replaces the earlier one.
 */
final class DecisionLog {
  private final ReportStore store;
  private final int keep;
  private final Logger log;
  private final Deque<BalancerDecision> recent = new ArrayDeque<>();

  DecisionLog(ReportStore store, int keep, Logger log) {
    this.store = store;
    this.keep = keep;
    this.log = log;
  }

  /** Keeps and stores one decision. */
  void record(BalancerDecision decision) {
    remember(decision);
    store.saveDecision(decision).whenComplete((ok, failure) -> {
      if (failure != null) {
        log.warn("could not store the balancer decision about tenant {}: {}", decision.tenant(), failure.toString());
      }
    });
  }

  /** Keeps and stores the decisions of one location write (many tenants placed together), in one bulk write. */
  void recordAll(List<BalancerDecision> decisions) {
    if (decisions.isEmpty()) {
      return;
    }
    decisions.forEach(this::remember);
    store.saveDecisions(decisions).whenComplete((ok, failure) -> {
      if (failure != null) {
        log.warn("could not store {} balancer decision(s) (tenants {}...): {}", decisions.size(), decisions.get(0).tenant(), failure.toString());
      }
    });
  }

  /** Decisions read back from the store at start: behind the ones taken since, while there is room. */
  void loaded(List<BalancerDecision> decisions) {
    for (BalancerDecision d : decisions) {
      if (recent.stream().noneMatch(r -> r.id().equals(d.id())) && recent.size() < keep) {
        recent.addLast(d);
      }
    }
  }

  /** Newest first. */
  List<BalancerDecision> recent() {
    return List.copyOf(recent);
  }

  private void remember(BalancerDecision decision) {
    recent.removeIf(d -> d.id().equals(decision.id()));
    recent.addFirst(decision);
    while (recent.size() > keep) {
      recent.removeLast();
    }
  }
}
