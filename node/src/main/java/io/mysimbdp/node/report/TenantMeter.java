package io.mysimbdp.node.report;

import io.mysimbdp.protocol.PerformanceReport;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * What one tenant's ingestion did on this node since its entity started here: records and bytes
 * in and out, errors, and the ingest latency. The pipelines (stream consumer, batch files) record
 * into it from their own threads; the tenant's entity takes an {@link Interval} of it every report
 * interval, and {@code /metrics} reads its running totals.
 */
public final class TenantMeter {
  /** Latencies above an hour are recorded as an hour. */
  private static final long MAX_LATENCY_MILLIS = 3_600_000L;
  private static final int MAX_COLLECTIONS_PER_INTERVAL = 64;
  /** Weight of the newest batch of deliveries in the records-per-message average. */
  private static final double DELIVERY_WEIGHT = 0.2;

  /** Where records came from. */
  public enum Source {
    STREAM,
    BATCH
  }

  private final String tenantId;
  private final LongAdder recordsIn = new LongAdder();
  private final LongAdder bytesIn = new LongAdder();
  private final LongAdder recordsOut = new LongAdder();
  private final LongAdder errors = new LongAdder();
  /** Messages were published for the tenant (on any node) since the reporter last looked. */
  private final java.util.concurrent.atomic.AtomicBoolean published = new java.util.concurrent.atomic.AtomicBoolean();
  private final LongAdder streamRecords = new LongAdder();
  private final LongAdder batchRecords = new LongAdder();
  /** Collections written to in the current interval (a report names them). */
  private final Set<String> collections = ConcurrentHashMap.newKeySet();
  // Plain auto-resizing histograms (values capped at MAX_LATENCY_MILLIS), made when a latency is
  // recorded: a tenant that stores nothing holds none, one that did holds two sized to its values.
  // A Recorder (two concurrent histograms of two count arrays each) per tenant, a copy per
  // interval and a recycled one held ~16 arrays a tenant: a third of a 10,000-tenant node's heap.
  /** Latencies of the current interval, or null while none was recorded. Guarded by {@code this}. */
  private Histogram latency;
  /** Every latency until the last interval, for /metrics quantiles, or null. Guarded by {@code this}. */
  private Histogram totalLatency;
  private final SecondBuckets storedPerSecond = new SecondBuckets(60);
  private volatile PerformanceReport lastReport;
  /** Records per AMQP message lately consumed (a batched envelope carries many); 0 until one is. */
  private volatile double recordsPerMessage;
  private long intervalStartMillis = System.currentTimeMillis();
  private Totals atLastInterval = Totals.ZERO;

  /** Latencies of an interval in which nothing was stored: shared, never written to. */
  private static final Histogram NO_LATENCIES = new Histogram(MAX_LATENCY_MILLIS, 2);

  /** A new meter, from zero: opened by the tenant's entity when it starts on a node. */
  public TenantMeter(String tenantId) {
    this.tenantId = tenantId;
  }

  public String tenantId() {
    return tenantId;
  }

  /** Records (stream messages, file rows) taken in, and their size on the wire or in the file. */
  public void recordIn(Source source, long records, long bytes) {
    recordsIn.add(records);
    bytesIn.add(bytes);
    (source == Source.STREAM ? streamRecords : batchRecords).add(records);
  }

  /**
   * {@code messages} AMQP messages consumed, carrying {@code records} records: the queue's length
   * in messages times their recent average is its length in records ({@link #queuedRecords}).
   */
  public synchronized void recordDelivered(int messages, long records) {
    if (messages <= 0) {
      return;
    }
    double perMessage = records / (double) messages;
    recordsPerMessage = recordsPerMessage == 0 ? perMessage : DELIVERY_WEIGHT * perMessage + (1 - DELIVERY_WEIGHT) * recordsPerMessage;
  }

  /**
   * Records waiting in a queue of {@code messages} AMQP messages, estimated from the records per
   * message lately consumed (one each before any was); -1 when the length is unknown (-1).
   */
  public long queuedRecords(long messages) {
    return queuedRecords(messages, recordsPerMessage);
  }

  /** Records per AMQP message lately consumed, or 0 before any was. */
  public double recordsPerMessage() {
    return recordsPerMessage;
  }

  /** {@link #queuedRecords(long)} with a {@link #recordsPerMessage} read elsewhere (0: unknown, one each). */
  public static long queuedRecords(long messages, double recordsPerMessage) {
    if (messages < 0) {
      return -1;
    }
    return Math.round(messages * (recordsPerMessage == 0 ? 1.0 : recordsPerMessage));
  }

  /** Records written to one of the tenant's collections. */
  public void recordStored(String collection, long records) {
    recordsOut.add(records);
    storedPerSecond.add(System.currentTimeMillis() / 1000, records);
    if (collections.size() < MAX_COLLECTIONS_PER_INTERVAL) {
      collections.add(collection);
    }
  }

  /** Records that failed for good (dead-lettered). */
  /** Messages were published for the tenant: its queue may have grown though nothing was consumed. */
  public void published() {
    published.set(true);
  }

  /** Whether messages were published since the last call (and forgets it). */
  public boolean takePublished() {
    return published.getAndSet(false);
  }

  public void recordErrors(long records) {
    errors.add(records);
  }

  /** {@code count} records took {@code millis} from arriving (sent, or read from the file) to being stored. */
  public synchronized void recordLatency(long millis, long count) {
    if (latency == null) {
      latency = new Histogram(2);
    }
    latency.recordValueWithCount(Math.max(0, Math.min(millis, MAX_LATENCY_MILLIS)), count);
  }

  /** Records stored per second over the last {@code seconds} whole seconds (at most 60). */
  public double throughputOver(int seconds) {
    return storedPerSecond.sumOfLast(System.currentTimeMillis() / 1000, seconds) / (double) seconds;
  }

  /** The last report made of this meter, or null. */
  public PerformanceReport lastReport() {
    return lastReport;
  }

  public void reported(PerformanceReport report) {
    this.lastReport = report;
  }

  /** Running totals since the meter started. */
  public Totals totals() {
    return new Totals(recordsIn.sum(), bytesIn.sum(), recordsOut.sum(), errors.sum(), streamRecords.sum(), batchRecords.sum());
  }

  /** Latency quantile (milliseconds) over everything recorded until the last interval, or -1. */
  public synchronized long totalLatencyAt(double percentile) {
    return totalLatency == null || totalLatency.getTotalCount() == 0 ? -1 : totalLatency.getValueAtPercentile(percentile);
  }

  /**
   * What happened since the last call (the first call: since the meter started). An interval in
   * which nothing happened costs no copy: a node takes one of every tenant's meters each interval.
   */
  public synchronized Interval takeInterval() {
    long now = System.currentTimeMillis();
    Totals current = totals();
    if (current.equals(atLastInterval) && collections.isEmpty()) {
      Interval quiet = new Interval(intervalStartMillis, now, Totals.ZERO, current, NO_LATENCIES, List.of());
      intervalStartMillis = now;
      return quiet;
    }
    // The interval's histogram is handed over whole: the next latency starts a new one.
    Histogram histogram = latency == null ? NO_LATENCIES : latency;
    latency = null;
    if (histogram != NO_LATENCIES) {
      if (totalLatency == null) {
        totalLatency = new Histogram(2);
      }
      totalLatency.add(histogram);
    }
    Totals totals = current;
    List<String> written = List.copyOf(new TreeSet<>(collections));
    collections.clear();
    Interval interval = new Interval(intervalStartMillis, now, totals.minus(atLastInterval), totals, histogram, written);
    intervalStartMillis = now;
    atLastInterval = totals;
    return interval;
  }

  /** A ring of per-second counts: the sliding window behind {@link #throughputOver}. */
  private static final class SecondBuckets {
    private final long[] seconds;
    private final long[] counts;

    SecondBuckets(int size) {
      this.seconds = new long[size];
      this.counts = new long[size];
    }

    synchronized void add(long second, long count) {
      int i = (int) (second % seconds.length);
      if (seconds[i] != second) {
        seconds[i] = second;
        counts[i] = 0;
      }
      counts[i] += count;
    }

    /** The counts of the {@code n} whole seconds before {@code now}. */
    synchronized long sumOfLast(long now, int n) {
      long sum = 0;
      for (long s = now - Math.min(n, seconds.length - 1); s < now; s++) {
        int i = (int) (s % seconds.length);
        if (seconds[i] == s) {
          sum += counts[i];
        }
      }
      return sum;
    }
  }

  /** Counts; in an {@link Interval} either since the meter started or within the interval. */
  public record Totals(long recordsIn, long bytesIn, long recordsOut, long errors, long streamRecords, long batchRecords) {
    static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0);

    Totals minus(Totals o) {
      return new Totals(
          recordsIn - o.recordsIn, bytesIn - o.bytesIn, recordsOut - o.recordsOut, errors - o.errors,
          streamRecords - o.streamRecords, batchRecords - o.batchRecords);
    }
  }

  /** One report interval: its counts, the totals at its end, and its latencies (milliseconds). */
  public record Interval(long fromMillis, long toMillis, Totals counts, Totals totals, Histogram latencyMillis, List<String> collections) {
    public double seconds() {
      return Math.max(1, toMillis - fromMillis) / 1000.0;
    }

    /** Records stored per second within the interval. */
    public double throughput() {
      return counts.recordsOut() / seconds();
    }

    /** A latency quantile (milliseconds) within the interval, or -1 when nothing was stored. */
    public long latencyAt(double percentile) {
      return latencyMillis.getTotalCount() == 0 ? -1 : latencyMillis.getValueAtPercentile(percentile);
    }

    /** Nothing was taken in, stored or failed within the interval. */
    public boolean quiet() {
      return counts.equals(Totals.ZERO);
    }

    public double meanLatency() {
      return latencyMillis.getTotalCount() == 0 ? 0 : latencyMillis.getMean();
    }
  }
}
