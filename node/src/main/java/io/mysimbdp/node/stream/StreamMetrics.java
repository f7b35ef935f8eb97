package io.mysimbdp.node.stream;

import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.ConcurrentHistogram;

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
   * Milliseconds, up to one hour, 2 significant digits; made on the first latency (~32 KB: a
   * tenant whose stream never consumed here, of thousands on the node, holds none).
   */
  private volatile ConcurrentHistogram latencyMillis;
  volatile String lastError;

  void recordLatency(long millis) {
    ConcurrentHistogram h = latencyMillis;
    if (h == null) {
      synchronized (this) {
        h = latencyMillis;
        if (h == null) {
          h = new ConcurrentHistogram(3_600_000L, 2);
          latencyMillis = h;
        }
      }
    }
    h.recordValue(Math.max(0, Math.min(millis, 3_600_000L)));
  }

  Long percentile(double p) {
    ConcurrentHistogram h = latencyMillis;
    return h == null || h.getTotalCount() == 0 ? null : h.getValueAtPercentile(p);
  }
}
