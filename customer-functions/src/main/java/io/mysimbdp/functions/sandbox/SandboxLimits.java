package io.mysimbdp.functions.sandbox;

import java.time.Duration;

/**
 * The bounds an uploaded function runs under. One instance per tenant (or platform-wide); every
 * bound is checked while the function runs, not after.
 *
 * @param timeout wall-clock time one record may take on its thread (default 100 ms)
 * @param maxDepth JSONata evaluation depth, nested expression and function calls (default 200)
 * @param maxAllocatedBytes bytes one record's evaluation may allocate on its thread, measured with
 *     {@code ThreadMXBean.getThreadAllocatedBytes} (default 64 MiB; 0 turns the check off)
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
          Duration.ofMillis(100), 200, 64L << 20, 1_000_000, 1_000_000, 100_000, 4_000_000, 1_000,
          64 << 10, 10_000);

  public SandboxLimits {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive");
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

  public SandboxLimits withTimeout(Duration value) {
    return new SandboxLimits(value, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxDepth(int value) {
    return new SandboxLimits(timeout, value, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxAllocatedBytes(long value) {
    return new SandboxLimits(timeout, maxDepth, value, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxStringLength(int value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, value, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxValueSize(long value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, value, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxCollectionSize(int value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, value, maxProducedSize, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxProducedSize(long value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, value, maxOutputRecords, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxOutputRecords(int value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, value, maxSourceLength, celMaxIterations);
  }

  public SandboxLimits withMaxSourceLength(int value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, value, celMaxIterations);
  }

  public SandboxLimits withCelMaxIterations(int value) {
    return new SandboxLimits(timeout, maxDepth, maxAllocatedBytes, maxStringLength, maxValueSize, maxCollectionSize, maxProducedSize, maxOutputRecords, maxSourceLength, value);
  }
}
