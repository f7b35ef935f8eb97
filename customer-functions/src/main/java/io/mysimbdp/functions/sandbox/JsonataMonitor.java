package io.mysimbdp.functions.sandbox;

import com.dashjoin.jsonata.SandboxBridge;
import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * The bounds of one JSONata evaluation of one record, checked on entry to and exit from every AST
 * node: depth on every entry; time and allocated bytes every 16th entry; the size of every
 * intermediate value on exit. Not thread-safe: one per evaluation, on the evaluating thread.
 *
 * <p>Time is the evaluating thread's CPU time ({@link SandboxLimits#timeout()}), so a record is
 * not charged for the time its thread waited for a core or for a collection caused by other work
 * (a loaded machine, another tenant). A wall-clock ceiling ({@link SandboxLimits#wallClockTimeout()})
 * stops a record that is both late and heavy (it has used a tenth of its CPU budget: on a machine
 * so loaded that its thread gets little CPU, a hostile loop is still stopped on time); a late but
 * light record is being starved, not starving anyone, and is stopped only by a hard ceiling of ten
 * times the wall-clock one. Reading the thread's CPU time is a system call (~0.6 µs), so it is
 * read at the start and then only once the wall clock says the CPU budget could have been used up:
 * once for a fast record.
 */
final class JsonataMonitor implements SandboxBridge.Monitor {
  private static final com.sun.management.ThreadMXBean THREADS = threadBean();
  private static final boolean CPU_TIME = cpuTimeAvailable();
  private static final int CLOCK_EVERY = 16;
  /** The hard wall-clock ceiling, as a multiple of the wall-clock timeout. */
  static final int HARD_CEILING_FACTOR = 10;

  private final SandboxLimits limits;
  private final long startNanos;
  private final long wallDeadlineNanos;
  private final long hardDeadlineNanos;
  private long wallCheckAtNanos;
  private final long startCpu;
  /** Before this (System.nanoTime) the CPU budget cannot be used up: CPU time grows no faster than the clock. */
  private long cpuCheckAtNanos;
  private final long startAllocated;
  private int depth;
  private int ticks;
  private Object lastMeasured;
  private long lastSize;
  private long produced;
  private Object input;
  private LimitViolation violation;

  JsonataMonitor(SandboxLimits limits) {
    this.limits = limits;
    this.startNanos = System.nanoTime();
    this.cpuCheckAtNanos = startNanos + limits.timeout().toNanos();
    this.wallDeadlineNanos = startNanos + limits.wallClockTimeout().toNanos();
    this.hardDeadlineNanos = startNanos + HARD_CEILING_FACTOR * limits.wallClockTimeout().toNanos();
    this.wallCheckAtNanos = wallDeadlineNanos;
    this.startCpu = CPU_TIME ? THREADS.getCurrentThreadCpuTime() : -1;
    this.startAllocated = limits.maxAllocatedBytes() > 0 && THREADS != null ? allocatedBytes() : -1;
  }

  /** The record being evaluated: yielding it costs nothing and is not charged. */
  void input(Object record) {
    this.input = record;
  }

  /** Whether this JVM can count a thread's allocated bytes (HotSpot can). */
  static boolean allocationTrackingAvailable() {
    return THREADS != null;
  }

  @Override
  public void enter() {
    if (violation != null) {
      throw violation;
    }
    if (++depth > limits.maxDepth()) {
      throw violate(Limit.DEPTH, "recursion depth > " + limits.maxDepth());
    }
    if (++ticks % CLOCK_EVERY == 0) {
      checkClockAndMemory();
    }
  }

  @Override
  public void exit(Object result) {
    depth--;
    if (violation != null) {
      throw violation;
    }
    checkValue(result);
  }

  /** The violation that stopped the evaluation, if any. */
  LimitViolation violation() {
    return violation;
  }

  /** Checks time and memory now (after the evaluation, and before costly built-ins). */
  void checkClockAndMemory() {
    if (violation != null) {
      throw violation;
    }
    long now = System.nanoTime();
    if (now - cpuCheckAtNanos > 0) {
      long budget = limits.timeout().toNanos();
      long used = startCpu >= 0 ? THREADS.getCurrentThreadCpuTime() - startCpu : now - startNanos;
      if (used >= budget) {
        throw violate(Limit.TIMEOUT, "timeout after " + limits.timeout().toMillis() + " ms");
      }
      cpuCheckAtNanos = now + (budget - used);
    }
    if (now - wallCheckAtNanos > 0) {
      long cpu = startCpu >= 0 ? THREADS.getCurrentThreadCpuTime() - startCpu : -1;
      boolean heavy = cpu < 0 || cpu >= limits.timeout().toNanos() / 10;
      if (heavy || now - hardDeadlineNanos > 0) {
        long ceiling = heavy ? limits.wallClockTimeout().toMillis() : HARD_CEILING_FACTOR * limits.wallClockTimeout().toMillis();
        throw violate(
            Limit.TIMEOUT,
            "timeout after " + ceiling + " ms of wall clock (the record's CPU time "
                + (cpu >= 0 ? cpu / 1_000_000 + " ms" : "unknown") + ", the machine may be overloaded)");
      }
      wallCheckAtNanos = now + Math.max(1_000_000, limits.wallClockTimeout().toNanos() / 10);
    }
    if (startAllocated >= 0) {
      long allocated = allocatedBytes() - startAllocated;
      if (allocated > limits.maxAllocatedBytes()) {
        throw violate(
            Limit.MEMORY,
            "memory limit: allocated "
                + mib(allocated)
                + " MiB, more than "
                + mib(limits.maxAllocatedBytes())
                + " MiB");
      }
    }
  }

  int limitsMaxString() {
    return limits.maxStringLength();
  }

  int limitsMaxCollection() {
    return limits.maxCollectionSize();
  }

  long limitsMaxValue() {
    return limits.maxValueSize();
  }

  long elapsedNanos() {
    return System.nanoTime() - startNanos;
  }

  LimitViolation violate(Limit limit, String message) {
    if (violation == null) {
      violation = new LimitViolation(limit, message);
    }
    return violation;
  }

  /** Rejects a string, array or object above the size bounds. */
  void checkValue(Object value) {
    if (value instanceof String) {
      int length = ((String) value).length();
      if (length > limits.maxStringLength()) {
        throw violate(Limit.MEMORY, stringTooLong(length));
      }
    } else if ((value instanceof List || value instanceof Map) && value != input) {
      if (value != lastMeasured) {
        lastSize = measure(value);
        lastMeasured = value;
      }
      produced += lastSize;
      if (produced > limits.maxProducedSize()) {
        throw violate(
            Limit.MEMORY,
            "memory limit: intermediate values larger than "
                + limits.maxProducedSize()
                + " size units in total");
      }
    }
  }

  String stringTooLong(long length) {
    return "memory limit: string of " + length + " characters, more than " + limits.maxStringLength();
  }

  /**
   * The size of a value in units (one per node, one per 16 characters), walking it iteratively;
   * throws as soon as it is over {@link SandboxLimits#maxValueSize()} or a collection is over
   * {@link SandboxLimits#maxCollectionSize()}. Lazy ranges count their size without being expanded.
   */
  long measure(Object root) {
    long budget = limits.maxValueSize();
    long size = 0;
    ArrayDeque<Object> pending = new ArrayDeque<>();
    pending.push(root);
    while (!pending.isEmpty()) {
      Object v = pending.pop();
      size += 1;
      if (v instanceof String) {
        size += ((String) v).length() >> 4;
      } else if (v instanceof Map) {
        Map<?, ?> map = (Map<?, ?>) v;
        checkCollection(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) {
          Object key = e.getKey();
          size += 1 + (key instanceof String ? ((String) key).length() >> 4 : 0);
          if (e.getValue() != null) {
            pending.push(e.getValue());
          }
        }
      } else if (v instanceof List) {
        List<?> list = (List<?>) v;
        checkCollection(list.size());
        if (SandboxBridge.isLazyRange(list)) {
          size += list.size();
        } else {
          for (Object o : list) {
            if (o != null) {
              pending.push(o);
            }
          }
        }
      }
      if (size > budget) {
        throw violate(Limit.MEMORY, valueTooLarge());
      }
    }
    return size;
  }

  String valueTooLarge() {
    return "memory limit: value larger than " + limits.maxValueSize() + " size units";
  }

  private void checkCollection(int size) {
    if (size > limits.maxCollectionSize()) {
      throw violate(
          Limit.MEMORY,
          "memory limit: array or object of " + size + " elements, more than "
              + limits.maxCollectionSize());
    }
  }

  private static long mib(long bytes) {
    return bytes >> 20;
  }

  private static long allocatedBytes() {
    return THREADS == null ? 0 : THREADS.getCurrentThreadAllocatedBytes();
  }

  private static boolean cpuTimeAvailable() {
    try {
      if (THREADS != null && THREADS.isCurrentThreadCpuTimeSupported()) {
        if (!THREADS.isThreadCpuTimeEnabled()) {
          THREADS.setThreadCpuTimeEnabled(true);
        }
        return THREADS.getCurrentThreadCpuTime() >= 0;
      }
    } catch (RuntimeException e) {
      // no CPU time: the per-record bound falls back to the wall clock
    }
    return false;
  }

  private static com.sun.management.ThreadMXBean threadBean() {
    try {
      java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
      if (bean instanceof com.sun.management.ThreadMXBean) {
        com.sun.management.ThreadMXBean sun = (com.sun.management.ThreadMXBean) bean;
        if (sun.isThreadAllocatedMemorySupported()) {
          if (!sun.isThreadAllocatedMemoryEnabled()) {
            sun.setThreadAllocatedMemoryEnabled(true);
          }
          return sun;
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // not HotSpot: the allocation bound is off, the size bounds still hold
    }
    return null;
  }
}
