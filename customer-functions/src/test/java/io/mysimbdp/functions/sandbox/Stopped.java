package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import org.junit.jupiter.api.function.ThrowingSupplier;

/**
 * "Stopped within 1 s", asserted so that a loaded build machine does not fail it and a function
 * that is not stopped still does: the work runs on a thread of its own and its CPU time must stay
 * under the bound (an unbounded evaluation burns CPU, however loaded the machine), while a generous
 * wall-clock backstop fails an evaluation that hangs without burning CPU. On a JVM without thread
 * CPU time the wall clock is used.
 */
final class Stopped {
  /** The bound a hostile evaluation must stop within. */
  static final Duration WITHIN = Duration.ofSeconds(1);
  /** Only a hang reaches this; a slow machine does not. */
  static final Duration BACKSTOP = Duration.ofSeconds(10);
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private Stopped() {}

  /** Runs {@code work}, asserts it used less than {@link #WITHIN} of CPU (or of wall clock), answers its result. */
  static <T> T within(ThrowingSupplier<T> work) {
    long[] cpuNanos = new long[1];
    long wallStart = System.nanoTime();
    T result = assertTimeoutPreemptively(BACKSTOP, () -> {
      boolean cpu = THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();
      long start = cpu ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
      try {
        return work.get();
      } finally {
        cpuNanos[0] = (cpu ? THREADS.getCurrentThreadCpuTime() : System.nanoTime()) - start;
      }
    });
    long wallMillis = (System.nanoTime() - wallStart) / 1_000_000;
    long cpuMillis = cpuNanos[0] / 1_000_000;
    assertTrue(cpuMillis < WITHIN.toMillis(), "stopped after " + cpuMillis + " ms of CPU (" + wallMillis + " ms of wall clock)");
    return result;
  }
}
