package io.mysimbdp.functions.sandbox;

import java.time.Duration;

/**
 * The bounds an uploaded function runs under. One instance per tenant (or platform-wide); every
 * bound is checked while the function runs, not after.
 *
 * @param timeout CPU time one record's evaluation may use on its thread (default 100 ms; the wall
 *     clock where the JVM cannot measure a thread's CPU time)
 * @param wallClockTimeout wall-clock time one record may take, waiting for a core included (default
 *     500 ms; never less than {@code timeout}): the CPU bound does not charge a record for a loaded
 *     machine, this one still stops it within a known time
 * @param maxDepth JSONata evaluation depth, nested expression and function calls (default 200)
 * @param maxAllocatedBytes bytes one record's evaluation may allocate on its thread, measured with
 *     {@code ThreadMXBean.getThreadAllocatedBytes} (default 16 MiB, over 100 times what Alice's
 *     function allocates per record; 0 turns the check off)
 * @param maxStringLength longest string any intermediate or output value may be (default 1M chars)
 * @param maxValueSize largest value (intermediate or output) in size units: one per JSON node plus
 *     one per 16 characters of strings and keys (default 1,000,000, about 16 MB of text)
 * @param maxCollectionSize most elements of one array or entries of one object (default 100,000)
 * @param maxProducedSize the total size (same units) of all arrays and objects one evaluation may
 *     produce as intermediate results, counting a value again each time an expression yields it
 *     (default 4,000,000); this bounds what a path can flatten from many references to one big
 *     value, which costs nothing until the library copies it
 * @param maxOutputRecords most records one input record may turn into (default 1,000)
 * @param maxSourceLength longest accepted source text, JSONata or CEL (default 64 KiB)
 * @param celMaxIterations most iterations of all CEL comprehension macros in one evaluation
 *     (default 10,000)
 */
public record SandboxLimits(
    Duration timeout,
    Duration wallClockTimeout,
    int maxDepth,
    long maxAllocatedBytes,
    int maxStringLength,
    long maxValueSize,
    int maxCollectionSize,
    long maxProducedSize,
    int maxOutputRecords,
    int maxSourceLength,
    int celMaxIterations) {

  public static final SandboxLimits DEFAULT =
      new SandboxLimits(
          Duration.ofMillis(100), Duration.ofMillis(500), 200, 16L << 20, 1_000_000, 1_000_000, 100_000, 4_000_000, 1_000,
          64 << 10, 10_000);

  public SandboxLimits {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive");
    }
    if (wallClockTimeout == null || wallClockTimeout.compareTo(timeout) < 0) {
      throw new IllegalArgumentException("wallClockTimeout must be at least the timeout");
    }
    if (maxDepth < 10) {
      throw new IllegalArgumentException("maxDepth must be at least 10");
    }
    if (maxAllocatedBytes < 0
        || maxStringLength < 1
        || maxValueSize < 1
        || maxCollectionSize < 1
        || maxProducedSize < 1
        || maxOutputRecords < 1
        || maxSourceLength < 1
        || celMaxIterations < 1) {
      throw new IllegalArgumentException("limits must be positive");
    }
  }

  /** The CPU bound; the wall-clock ceiling is raised to it if lower. */
  public SandboxLimits withTimeout(Duration value) {
    return new SandboxLimits(value, value.compareTo(wallClockTimeout) > 0 ? value : wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withWallClockTimeout(Duration value) {
    return new SandboxLimits(timeout, value, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxDepth(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, value, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxAllocatedBytes(long value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, value, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxStringLength(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, value, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxValueSize(long value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, value, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxCollectionSize(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, value, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxProducedSize(long value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, value, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxOutputRecords(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, value, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxSourceLength(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, value, celMaxIterations);
  }

  public SandboxLimits withCelMaxIterations(int value) {
    return new SandboxLimits(timeout, wallClockTimeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, value);
  }
}
