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

  /**
   * The batch budget stops a slow batch: 50 records of at least 20 ms each cannot finish within
   * 1 s unless the batch stops them (so the wall-clock check below cannot pass without the budget,
   * and leaves 800 ms of slack for a loaded machine).
   */
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
            new Policy(10, Duration.ofMillis(200)));
    List<Map<String, Object>> records = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      records.add(Map.of("i", i));
    }
    long start = System.nanoTime();
    List<Outcome> outcomes = g.applyBatch(records, CONTEXT);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertEquals(50, outcomes.size());
    assertTrue(millis < 50 * 20, "took " + millis + " ms");
    int done = 0;
    while (done < outcomes.size() && !outcomes.get(done).failed()) {
      assertEquals(Map.of("position", 100L + done), outcomes.get(done).records().get(0));
      done++;
    }
    assertTrue(done >= 1 && done < 50, done + " records done");
    for (int i = done; i < 50; i++) {
      String message = outcomes.get(i).error().getMessage();
      assertTrue(message.startsWith("batch timeout after 200 ms: " + done + " of 50 records done"), message);
    }
    assertEquals(State.ACTIVE, g.status().state());
  }

  /**
   * A bound violation costs the node up to the bound, so three in a row disable (one after a reset
   * from such a disable); other failures take ten.
   */
  @Test
  void boundViolationsDisableSoonerThanOtherFailures() throws Exception {
    GuardedFunction hog = new GuardedFunction("hog", (r, c) -> {
      throw new LimitExceededException(LimitExceededException.Limit.TIMEOUT, "timeout after 100 ms");
    }, Policy.DEFAULT);
    for (int i = 0; i < 3; i++) {
      assertEquals(State.ACTIVE, hog.status().state());
      assertThrows(LimitExceededException.class, () -> hog.apply(Map.of(), CONTEXT));
    }
    assertEquals(State.DISABLED, hog.status().state());
    assertEquals("3 consecutive bound violations, the last: timeout after 100 ms", hog.status().reason());

    // re-enabled on probation: one more violation disables it again
    hog.reset();
    assertEquals(State.ACTIVE, hog.status().state());
    assertThrows(LimitExceededException.class, () -> hog.apply(Map.of(), CONTEXT));
    assertEquals(State.DISABLED, hog.status().state());
    assertTrue(hog.status().reason().startsWith("a bound violation right after a reset"), hog.status().reason());
    assertEquals(4, hog.status().calls());

    // a success ends the probation: three violations in a row again
    boolean[] fail = {true};
    GuardedFunction sometimes = new GuardedFunction("sometimes", (r, c) -> {
      if (fail[0]) {
        throw new LimitExceededException(LimitExceededException.Limit.MEMORY, "memory limit");
      }
      return List.of(r);
    }, Policy.DEFAULT);
    for (int i = 0; i < 3; i++) {
      assertThrows(LimitExceededException.class, () -> sometimes.apply(Map.of(), CONTEXT));
    }
    sometimes.reset();
    fail[0] = false;
    sometimes.apply(Map.of(), CONTEXT);
    fail[0] = true;
    for (int i = 0; i < 2; i++) {
      assertThrows(LimitExceededException.class, () -> sometimes.apply(Map.of(), CONTEXT));
      assertEquals(State.ACTIVE, sometimes.status().state());
    }
    assertThrows(LimitExceededException.class, () -> sometimes.apply(Map.of(), CONTEXT));
    assertEquals(State.DISABLED, sometimes.status().state());
    // an operator's disable is not a violation: a reset gives the full count
    GuardedFunction operated = new GuardedFunction("operated", (r, c) -> {
      throw new LimitExceededException(LimitExceededException.Limit.TIMEOUT, "timeout after 100 ms");
    }, Policy.DEFAULT);
    operated.disable("by an operator");
    operated.reset();
    assertThrows(LimitExceededException.class, () -> operated.apply(Map.of(), CONTEXT));
    assertEquals(State.ACTIVE, operated.status().state());

    // violations interleaved with ordinary failures: no three violations in a row, so ten failures
    int[] n = {0};
    GuardedFunction mixed = new GuardedFunction("mixed", (r, c) -> {
      if (n[0]++ % 2 == 0) {
        throw new LimitExceededException(LimitExceededException.Limit.MEMORY, "memory limit");
      }
      throw new FunctionException("bad record");
    }, Policy.DEFAULT);
    for (int i = 0; i < 9; i++) {
      assertThrows(FunctionException.class, () -> mixed.apply(Map.of(), CONTEXT));
    }
    assertEquals(State.ACTIVE, mixed.status().state());
    assertThrows(FunctionException.class, () -> mixed.apply(Map.of(), CONTEXT));
    assertEquals("10 consecutive failures, the last: bad record", mixed.status().reason());
  }

  /** Once disabled, a record costs a throw: the function is not called, the exception is made once. */
  @Test
  void aDisabledFunctionFailsAtOnceWithoutRunning() throws Exception {
    int[] runs = {0};
    GuardedFunction g = new GuardedFunction("off", (r, c) -> {
      runs[0]++;
      return List.of(r);
    }, Policy.DEFAULT);
    g.disable("by an operator");
    FunctionDisabledException first = assertThrows(FunctionDisabledException.class, () -> g.apply(Map.of(), CONTEXT));
    FunctionDisabledException second = assertThrows(FunctionDisabledException.class, () -> g.apply(Map.of(), CONTEXT));
    assertEquals("function off is disabled: by an operator", first.getMessage());
    assertTrue(first == second, "one exception per disable");
    assertEquals(0, first.getStackTrace().length);
    assertEquals(0, runs[0]);
    assertEquals(0, g.status().calls());
    g.reset();
    assertEquals(List.of(Map.of()), g.apply(Map.of(), CONTEXT));
    assertEquals(1, runs[0]);
  }
}
