package io.mysimbdp.functions.sandbox;

import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wraps a tenant function so that it never breaks its caller and is switched off when it keeps
 * failing. Every failure (a {@link FunctionException}, or any exception or stack overflow the
 * function lets escape, converted to one) fails only that record; after {@link
 * Policy#maxConsecutiveFailures()} failures in a row, or sooner after {@link
 * Policy#maxConsecutiveViolations()} bound violations in a row ({@link LimitExceededException}: time,
 * memory, depth, output — each of which cost the node up to the bound), the function is DISABLED
 * with the reason, and every later call fails at once (no evaluation, no stack trace) with a {@link
 * FunctionDisabledException} until {@link #reset()}. A success resets the counts. {@link
 * #applyBatch} adds a time budget per batch.
 *
 * <p>Thread-safe; the failure count is shared by all threads calling this instance.
 */
public final class GuardedFunction implements IngestionFunction {

  public enum State {
    ACTIVE,
    DISABLED
  }

  /**
   * @param maxConsecutiveFailures failures in a row that disable the function (default 10)
   * @param maxConsecutiveViolations bound violations in a row that disable it (default 3): a
   *     function that hits a bound costs the node up to that bound (100 ms of CPU, 16 MiB of
   *     garbage) per record, so it is stopped sooner than one that merely fails
   * @param batchBudget time one {@link #applyBatch} call may take (default 10 s)
   */
  public record Policy(int maxConsecutiveFailures, int maxConsecutiveViolations, Duration batchBudget) {
    public static final Policy DEFAULT = new Policy(10, 3, Duration.ofSeconds(10));

    public Policy {
      if (maxConsecutiveFailures < 1 || maxConsecutiveViolations < 1) {
        throw new IllegalArgumentException("maxConsecutiveFailures and maxConsecutiveViolations must be at least 1");
      }
      Objects.requireNonNull(batchBudget, "batchBudget");
    }

    /** Violations count like any failure. */
    public Policy(int maxConsecutiveFailures, Duration batchBudget) {
      this(maxConsecutiveFailures, maxConsecutiveFailures, batchBudget);
    }
  }

  /**
   * @param name the function's name (for messages)
   * @param state ACTIVE or DISABLED
   * @param reason why it is disabled (null when active)
   * @param since when the state last changed
   * @param consecutiveFailures failures since the last success
   * @param calls records attempted while active
   * @param failures records failed while active
   */
  public record Status(
      String name,
      State state,
      String reason,
      Instant since,
      int consecutiveFailures,
      long calls,
      long failures) {}

  /** One record's result in a batch: its output, or why it failed. */
  public record Outcome(List<Map<String, Object>> records, FunctionException error) {
    public boolean failed() {
      return error != null;
    }
  }

  private record Disabled(String reason, Instant since, FunctionDisabledException exception, boolean byViolations) {
    Disabled(String name, String reason, Instant since, boolean byViolations) {
      this(reason, since, new FunctionDisabledException("function " + name + " is disabled: " + reason), byViolations);
    }
  }

  private final String name;
  private final IngestionFunction delegate;
  private final Policy policy;
  private final Clock clock;
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private final AtomicInteger consecutiveViolations = new AtomicInteger();
  private final LongAdder calls = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final AtomicReference<Disabled> disabled = new AtomicReference<>();
  /** Reset after a disable for bound violations: the next violation disables again. */
  private volatile boolean probation;
  private volatile Instant activeSince;

  public GuardedFunction(String name, IngestionFunction delegate, Policy policy) {
    this(name, delegate, policy, Clock.systemUTC());
  }

  public GuardedFunction(String name, IngestionFunction delegate, Policy policy, Clock clock) {
    this.name = Objects.requireNonNull(name, "name");
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.activeSince = clock.instant();
  }

  public IngestionFunction delegate() {
    return delegate;
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    Disabled off = disabled.get();
    if (off != null) {
      throw off.exception();
    }
    calls.increment();
    List<Map<String, Object>> out;
    try {
      out = delegate.apply(record, context);
    } catch (FunctionException e) {
      failed(e);
      throw e;
    } catch (RuntimeException e) {
      FunctionException wrapped = new FunctionException("function " + name + " failed: " + e, e);
      failed(wrapped);
      throw wrapped;
    } catch (StackOverflowError e) {
      FunctionException wrapped =
          new LimitExceededException(Limit.DEPTH, "recursion depth exceeded the thread's stack");
      failed(wrapped);
      throw wrapped;
    }
    if (out == null) {
      FunctionException wrapped = new FunctionException("function " + name + " returned null");
      failed(wrapped);
      throw wrapped;
    }
    consecutiveFailures.set(0);
    consecutiveViolations.set(0);
    if (probation) {
      probation = false;
    }
    return out;
  }

  /**
   * Applies the function to consecutive records of one file or stream slice; {@code first} is the
   * context of the first record (positions count up from it). Records left when the batch budget is
   * used up fail with a timeout (and count as one failure), so a slow function cannot hold a
   * pipeline for longer than the budget.
   */
  public List<Outcome> applyBatch(List<Map<String, Object>> records, FunctionContext first) {
    long deadline = System.nanoTime() + policy.batchBudget().toNanos();
    List<Outcome> outcomes = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      FunctionContext context =
          new FunctionContext(
              first.tenant(), first.category(), first.source(), first.position() + i);
      if (System.nanoTime() - deadline > 0) {
        LimitExceededException timeout =
            new LimitExceededException(
                Limit.TIMEOUT,
                "batch timeout after "
                    + policy.batchBudget().toMillis()
                    + " ms: "
                    + i
                    + " of "
                    + records.size()
                    + " records done");
        failed(timeout);
        for (int j = i; j < records.size(); j++) {
          outcomes.add(new Outcome(List.of(), timeout));
        }
        break;
      }
      try {
        outcomes.add(new Outcome(apply(records.get(i), context), null));
      } catch (FunctionException e) {
        outcomes.add(new Outcome(List.of(), e));
      }
    }
    return outcomes;
  }

  private void failed(FunctionException e) {
    failures.increment();
    int n = consecutiveFailures.incrementAndGet();
    int v = 0;
    if (e instanceof LimitExceededException) {
      v = consecutiveViolations.incrementAndGet();
    } else {
      consecutiveViolations.set(0);
    }
    if (n >= policy.maxConsecutiveFailures()) {
      disable(n + " consecutive failures, the last: " + e.getMessage(), false);
    } else if (v > 0 && probation) {
      disable("a bound violation right after a reset (it was disabled for bound violations before), the last: "
          + e.getMessage(), true);
    } else if (v >= policy.maxConsecutiveViolations()) {
      disable(v + " consecutive bound violations, the last: " + e.getMessage(), true);
    }
  }

  /** Disables the function now (also used by operators); no effect if already disabled. */
  public void disable(String reason) {
    disable(reason, false);
  }

  private void disable(String reason, boolean byViolations) {
    disabled.compareAndSet(null, new Disabled(name, reason, clock.instant(), byViolations));
  }

  /**
   * Back to ACTIVE with clean failure counts (e.g. after the tenant fixed the function). A function
   * this guard disabled for bound violations comes back on probation: until its next success, one
   * violation disables it again, so re-enabling a hostile function over and over buys it one
   * bounded record per reset, not three.
   */
  public void reset() {
    Disabled off = disabled.get();
    consecutiveFailures.set(0);
    consecutiveViolations.set(0);
    probation = off != null && off.byViolations();
    activeSince = clock.instant();
    disabled.set(null);
  }

  public Status status() {
    Disabled off = disabled.get();
    return new Status(
        name,
        off == null ? State.ACTIVE : State.DISABLED,
        off == null ? null : off.reason(),
        off == null ? activeSince : off.since(),
        consecutiveFailures.get(),
        calls.sum(),
        failures.sum());
  }
}
