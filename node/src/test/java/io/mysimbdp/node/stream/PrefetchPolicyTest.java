package io.mysimbdp.node.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** The consumer's prefetch from the records its messages carry: the defaults of stream.conf. */
class PrefetchPolicyTest {
  private static final Duration LONG_AGO = Duration.ofMinutes(5);

  /** prefetch-records 20000, min-prefetch 10, prefetch 1000, publish.batch-size 200, 30 s apart. */
  private final PrefetchPolicy policy = PrefetchPolicy.from(StreamSettings.from(ConfigFactory.load()));

  @Test
  void thePrefetchHoldsAboutPrefetchRecordsWithinItsBounds() {
    assertEquals(new PrefetchPolicy(20_000, 8L * 1024 * 1024, 10, 1000, 200, 16L * 1024 * 1024, Duration.ofSeconds(30)), policy, "the defaults");
    assertEquals(100, policy.prefetchFor(200), "HTTP envelopes of 200 records: 100 messages");
    assertEquals(1000, policy.prefetchFor(1), "one record a message: the upper bound, not 20,000");
    assertEquals(1000, policy.prefetchFor(0.5));
    assertEquals(303, policy.prefetchFor(66), "rounded down: never more than prefetch-records");
    assertEquals(10, policy.prefetchFor(5_000), "huge batches: the lower bound");
  }

  @Test
  void beforeAnythingWasMeasuredTheConsumerAssumesFullEnvelopes() {
    assertEquals(100, policy.prefetchFor(0), "20000 / publish.batch-size: safe whatever the tenant sends over HTTP");
    assertEquals(100, policy.prefetchFor(Double.NaN));
    assertEquals(OptionalInt.empty(), policy.revise(100, 0, LONG_AGO), "nothing measured, nothing changes");
  }

  @Test
  void aPrefetchHoldingFarTooManyRecordsIsLowered() {
    assertEquals(OptionalInt.of(100), policy.revise(1000, 200, LONG_AGO), "1000 envelopes = 200,000 records");
    assertEquals(OptionalInt.of(487), policy.revise(1000, 41, LONG_AGO), "41,000 held: over twice 20,000");
    assertEquals(OptionalInt.empty(), policy.revise(1000, 40, LONG_AGO), "40,000 held: within the band");
    assertEquals(OptionalInt.empty(), policy.revise(10, 5_000, LONG_AGO), "50,000 held, but already at the lower bound");
  }

  @Test
  void aPrefetchHoldingFarTooFewRecordsIsRaisedUpToTheBound() {
    assertEquals(OptionalInt.of(1000), policy.revise(100, 1, LONG_AGO), "a one-record tenant after the start guess");
    assertEquals(OptionalInt.of(400), policy.revise(100, 49.9, LONG_AGO), "4,990 held: under a quarter of 20,000");
    assertEquals(OptionalInt.empty(), policy.revise(100, 50, LONG_AGO), "5,000 held: within the band");
    assertEquals(OptionalInt.empty(), policy.revise(1000, 1, LONG_AGO), "1,000 held, but already at the upper bound");
  }

  @Test
  void aChangeComesAtMostOncePerMinInterval() {
    assertEquals(OptionalInt.empty(), policy.revise(1000, 200, Duration.ofSeconds(29)));
    assertEquals(OptionalInt.of(100), policy.revise(1000, 200, Duration.ofSeconds(30)));
    assertEquals(OptionalInt.of(100), policy.revise(1000, 200, PrefetchPolicy.NEVER_CHANGED), "the first change of a consumer");
  }

  @Test
  void whatAChangeChoosesStaysChosenForTheSameRecordsPerMessage() {
    for (double perMessage = 0.25; perMessage <= 10_000; perMessage *= 1.07) {
      for (int current : new int[] {10, 100, 1000}) {
        OptionalInt revised = policy.revise(current, perMessage, LONG_AGO);
        int chosen = revised.orElse(current);
        assertEquals(OptionalInt.empty(), policy.revise(chosen, perMessage, LONG_AGO), "flapping at " + perMessage + " from " + current);
        assertTrue(chosen >= 10 && chosen <= 1000, "bounds: " + chosen);
        double held = chosen * perMessage;
        assertTrue(held <= 2 * 20_000 || chosen == 10, "too many held at " + perMessage + ": " + held);
        assertTrue(held >= 20_000 / 4.0 || chosen == 1000, "too few held at " + perMessage + ": " + held);
      }
    }
  }

  /** #13 item 3: 1,000 single-record 8 MB messages must not be 8 GB in one consumer. */
  @Test
  void bigMessagesGetAPrefetchBoundedInBytesAtOnce() {
    long mb8 = 8L * 1024 * 1024;
    assertEquals(1, policy.prefetchFor(1, mb8), "8 MB messages: one at a time (8 MiB prefetch-bytes), below min-prefetch");
    assertEquals(1000, policy.prefetchFor(1, 1024), "1 KB messages: bytes do not bind");
    assertEquals(64, policy.prefetchFor(1, 128 * 1024), "128 KB messages: 64 make 8 MiB");
    assertTrue(policy.holdsTooManyBytes(1000, mb8));
    assertEquals(OptionalInt.of(1), policy.revise(1000, 1, mb8, Duration.ZERO), "lowered for bytes at once, whatever the interval");
    assertEquals(OptionalInt.empty(), policy.revise(1, 1, mb8, LONG_AGO), "and not raised again by records while the bytes bind");
    assertEquals(OptionalInt.empty(), policy.revise(64, 1, 128 * 1024, LONG_AGO));
  }

  /** A 512 MB node must survive a new tenant whose first messages are 8 MB: nothing measured, the largest assumed. */
  @Test
  void beforeItsBytesWereMeasuredAConsumerTakesOneMessageThenGrows() {
    assertEquals(1, policy.prefetchFor(0, 0), "16 MiB messages assumed: one at a time");
    assertEquals(OptionalInt.empty(), policy.revise(1, 1, 0, LONG_AGO), "records measured, bytes not yet: wait");
    assertEquals(OptionalInt.of(1000), policy.revise(1, 1, 200, PrefetchPolicy.NEVER_CHANGED), "small messages measured: up at once");
    assertEquals(OptionalInt.of(100), policy.revise(1, 200, 20_000, PrefetchPolicy.NEVER_CHANGED), "HTTP envelopes: by records");
  }

  @Test
  void boundsOutOfOrderAreAConfigurationError() {
    var config =
        ConfigFactory.parseString("mysimbdp.stream.consume { prefetch = 5, min-prefetch = 10 }").withFallback(ConfigFactory.load());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StreamSettings.from(config));
    assertTrue(e.getMessage().contains("min-prefetch 10"), e.getMessage());
  }
}
