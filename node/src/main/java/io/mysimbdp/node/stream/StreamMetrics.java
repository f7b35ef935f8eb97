package io.mysimbdp.node.stream;

import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * What a tenant's consumer did since it started on this node: counters and the latency from a
 * message's {@code sentAt} to its record being stored. Written by the stream, read by the actor.
 */
final class StreamMetrics {
  final AtomicLong consumed = new AtomicLong();
  final AtomicLong stored = new AtomicLong();
  final AtomicLong duplicates = new AtomicLong();
  final AtomicLong failed = new AtomicLong();
  /**
   * Milliseconds (capped at an hour), 2 significant digits, made on the first latency and sized to
   * the values seen (~6 KB for seconds): a tenant whose stream never consumed here, of thousands on
   * the node, holds none. A concurrent histogram sized for an hour held two 17 KB arrays a tenant.
   * Guarded by {@code this}.
   */
  private Histogram latencyMillis;
  volatile String lastError;

  synchronized void recordLatency(long millis) {
    if (latencyMillis == null) {
      latencyMillis = new Histogram(2);
    }
    latencyMillis.recordValue(Math.max(0, Math.min(millis, 3_600_000L)));
  }

  synchronized Long percentile(double p) {
    return latencyMillis == null || latencyMillis.getTotalCount() == 0 ? null : latencyMillis.getValueAtPercentile(p);
  }
}
