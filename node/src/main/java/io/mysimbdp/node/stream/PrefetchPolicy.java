package io.mysimbdp.node.stream;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * How many AMQP messages a tenant's consumer takes ahead (its prefetch, {@code basic.qos}): as many
 * as carry about {@code prefetchRecords} records, within {@code [minPrefetch, maxPrefetch]}. An HTTP
 * request's records travel up to {@code publish.batch-size} to a message, a tenant publishing straight
 * to the broker usually sends one, so a prefetch in messages alone holds anywhere from a few hundred
 * to hundreds of thousands of records per tenant.
 *
 * <p>The broker fixes the prefetch when a consumer starts, so a new prefetch means draining the
 * consumer and starting another: {@link #revise} asks for one only when the current prefetch holds
 * more than {@value #TOO_MUCH}× the records wanted (memory) or, below the upper bound, less than
 * {@value #TOO_LITTLE} of them (throughput), and not twice within {@code minInterval}.
 *
 * @param assumedRecordsPerMessage what a message is taken to carry before any was measured: the most
 *     an HTTP request puts into one, so a consumer that starts without knowing holds no more than
 *     {@code prefetchRecords} (a tenant sending one record a message is slower until it was measured)
 * @param assumedBytesPerMessage what a message is taken to weigh before any was measured: the largest
 *     the broker takes ({@code mysimbdp.amqp.max-message-bytes}), so a consumer that starts without
 *     knowing holds no more than about {@code prefetchBytes} (a prefetch of 1 with the defaults, until
 *     its first batch was stored and measured)
 */
record PrefetchPolicy(
    int prefetchRecords, long prefetchBytes, int minPrefetch, int maxPrefetch, int assumedRecordsPerMessage, long assumedBytesPerMessage,
    Duration minInterval) {
  /** Above this many times {@code prefetchRecords} held, the prefetch is lowered. */
  static final double TOO_MUCH = 2.0;
  /** Below this share of {@code prefetchRecords} held (and under the bound), the prefetch is raised. */
  static final double TOO_LITTLE = 0.25;
  /** For {@link #revise}: the consumer's prefetch has not changed since it started. */
  static final Duration NEVER_CHANGED = Duration.ofSeconds(Long.MAX_VALUE);

  PrefetchPolicy {
    if (prefetchRecords < 1 || prefetchBytes < 1 || assumedBytesPerMessage < 1 || minPrefetch < 1 || maxPrefetch < minPrefetch || assumedRecordsPerMessage < 1) {
      throw new IllegalArgumentException(
          "prefetch settings out of range: prefetch-records " + prefetchRecords + ", min-prefetch " + minPrefetch + ", prefetch "
              + maxPrefetch + ", batch-size " + assumedRecordsPerMessage);
    }
  }

  static PrefetchPolicy from(StreamSettings settings) {
    return new PrefetchPolicy(
        settings.prefetchRecords(), settings.prefetchBytes(), settings.minPrefetch(), settings.prefetch(), settings.publishBatchSize(),
        settings.maxMessageBytes(), settings.prefetchMinInterval());
  }

  /**
   * The prefetch for messages carrying {@code recordsPerMessage} records each (0 or less: not
   * measured, {@link #assumedRecordsPerMessage} each) and {@code bytesPerMessage} bytes (0 or less:
   * not measured, {@link #assumedBytesPerMessage} each). Bytes win over {@code minPrefetch}: a
   * tenant of 8 MB messages gets a prefetch of 1 rather than 10 of them held.
   */
  int prefetchFor(double recordsPerMessage, double bytesPerMessage) {
    double perMessage = bytesPerMessage > 0 ? bytesPerMessage : assumedBytesPerMessage;
    int byBytes = (int) Math.max(1, Math.min(maxPrefetch, Math.floor(prefetchBytes / perMessage)));
    return Math.min(prefetchFor(recordsPerMessage), byBytes);
  }

  /** The prefetch by records alone (see {@link #prefetchFor(double, double)}). */
  int prefetchFor(double recordsPerMessage) {
    double perMessage = recordsPerMessage > 0 ? recordsPerMessage : assumedRecordsPerMessage;
    double wanted = Math.floor(prefetchRecords / perMessage);
    return (int) Math.max(minPrefetch, Math.min(maxPrefetch, wanted));
  }

  /** {@link #revise(int, double, double, Duration)} by records alone (messages of no weight). */
  OptionalInt revise(int current, double recordsPerMessage, Duration sinceLastChange) {
    return revise(current, recordsPerMessage, Double.MIN_VALUE, sinceLastChange);
  }

  /** Whether a consumer with {@code current} holds too many bytes: its prefetch is lowered at once. */
  boolean holdsTooManyBytes(int current, double bytesPerMessage) {
    return bytesPerMessage > 0 && current * bytesPerMessage > TOO_MUCH * prefetchBytes
        && Math.floor(prefetchBytes / bytesPerMessage) < current;
  }

  /**
   * The prefetch a consumer running with {@code current} should start again with, given the records
   * and bytes per message lately measured (0 or less: none yet, no change) and the time since its
   * prefetch last changed ({@link #NEVER_CHANGED} if it did not); empty when it should keep what it
   * has. Too many bytes held lowers it at once; by records it changes at most once per
   * {@code minInterval}.
   */
  OptionalInt revise(int current, double recordsPerMessage, double bytesPerMessage, Duration sinceLastChange) {
    int wanted = prefetchFor(recordsPerMessage, bytesPerMessage);
    if (bytesPerMessage > 0 && current * bytesPerMessage > TOO_MUCH * prefetchBytes && wanted < current) {
      return OptionalInt.of(wanted);
    }
    if (!(recordsPerMessage > 0) || !(bytesPerMessage > 0) || sinceLastChange.compareTo(minInterval) < 0) {
      return OptionalInt.empty();
    }
    double held = current * recordsPerMessage;
    boolean tooMuch = held > TOO_MUCH * prefetchRecords && wanted < current;
    boolean tooLittle = held < TOO_LITTLE * prefetchRecords && wanted > current
        && (!(bytesPerMessage > 0) || current * bytesPerMessage < TOO_LITTLE * prefetchBytes);
    return tooMuch || tooLittle ? OptionalInt.of(wanted) : OptionalInt.empty();
  }
}
