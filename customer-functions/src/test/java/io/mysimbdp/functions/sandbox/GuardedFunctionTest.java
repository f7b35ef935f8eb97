package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.sandbox.GuardedFunction.Outcome;
import io.mysimbdp.functions.sandbox.GuardedFunction.Policy;
import io.mysimbdp.functions.sandbox.GuardedFunction.State;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GuardedFunctionTest {
  private static final FunctionContext CONTEXT = new FunctionContext("t", "c", "s", 100);

  @Test
  void successesResetTheFailureCount() throws Exception {
    GuardedFunction g =
        new GuardedFunction(
            "flaky",
            (r, c) -> {
              if (r.containsKey("bad")) {
                throw new FunctionException("bad record");
              }
              return List.of(r);
            },
            new Policy(3, Duration.ofSeconds(1)));
    for (int i = 0; i < 10; i++) {
      assertThrows(FunctionException.class, () -> g.apply(Map.of("bad", 1), CONTEXT));
      assertThrows(FunctionException.class, () -> g.apply(Map.of("bad", 1), CONTEXT));
      assertEquals(List.of(Map.of("ok", 1)), g.apply(Map.of("ok", 1), CONTEXT));
    }
    GuardedFunction.Status s = g.status();
    assertEquals(State.ACTIVE, s.state());
    assertNull(s.reason());
    assertEquals(30, s.calls());
    assertEquals(20, s.failures());
    assertEquals(0, s.consecutiveFailures());
  }

  @Test
  void anythingAFunctionThrowsBecomesAFunctionException() {
    GuardedFunction g =
        new GuardedFunction(
            "buggy",
            (r, c) -> {
              throw new IllegalStateException("oops");
            },
            new Policy(2, Duration.ofSeconds(1)));
    FunctionException e = assertThrows(FunctionException.class, () -> g.apply(Map.of(), CONTEXT));
    assertEquals("function buggy failed: java.lang.IllegalStateException: oops", e.getMessage());
    GuardedFunction overflow =
        new GuardedFunction("deep", (r, c) -> deep(0), new Policy(2, Duration.ofSeconds(1)));
    LimitExceededException le =
        assertThrows(LimitExceededException.class, () -> overflow.apply(Map.of(), CONTEXT));
    assertEquals(LimitExceededException.Limit.DEPTH, le.limit());
    assertThrows(FunctionException.class, () -> g.apply(Map.of(), CONTEXT));
    assertEquals(State.DISABLED, g.status().state());
    assertTrue(g.status().reason().startsWith("2 consecutive failures, the last: function buggy failed"));
  }

  private static List<Map<String, Object>> deep(int n) {
    return deep(n + 1);
  }

  @Test
  void aBatchStopsWhenItsBudgetIsUsedUp() throws Exception {
    GuardedFunction g =
        new GuardedFunction(
            "slow",
            (r, c) -> {
              try {
                Thread.sleep(20);
              } catch (InterruptedException e) {
                throw new FunctionException("interrupted");
              }
              return List.of(Map.of("position", c.position()));
            },
            new Policy(10, Duration.ofMillis(100)));
    List<Map<String, Object>> records = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      records.add(Map.of("i", i));
    }
    long start = System.nanoTime();
    List<Outcome> outcomes = g.applyBatch(records, CONTEXT);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(50, outcomes.size());
    assertTrue(millis < 500, "took " + millis + " ms");
    assertEquals(Map.of("position", 100L), outcomes.get(0).records().get(0));
    assertEquals(Map.of("position", 101L), outcomes.get(1).records().get(0));
    Outcome last = outcomes.get(49);
    assertTrue(last.failed());
    assertTrue(last.error().getMessage().startsWith("batch timeout after 100 ms"), last.error().getMessage());
    assertEquals(State.ACTIVE, g.status().state());
  }
}
