package io.mysimbdp.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token bucket on a clock of the test's own: exact counts, no sleeping. */
class RateLimiterTest {
  static final long SECOND = 1_000_000_000L;

  final AtomicLong clock = new AtomicLong(123 * SECOND);

  RateLimiter limiter(double perMinute, int burst, int maxKeys) {
    return new RateLimiter(new RateLimiter.Settings(perMinute, burst, maxKeys), clock::get);
  }

  @Test
  void theBurstGoesThroughThenTheCallsWaitForTheRefill() {
    RateLimiter limiter = limiter(30, 10, 100); // a token every 2 s
    for (int i = 0; i < 10; i++) {
      assertTrue(limiter.tryAcquire("a").allowed(), "call " + i + " of the burst");
    }
    RateLimiter.Decision refused = limiter.tryAcquire("a");
    assertFalse(refused.allowed());
    assertEquals(Duration.ofSeconds(2), refused.retryAfter());
    assertEquals(2, refused.retryAfterSeconds());

    clock.addAndGet(SECOND + SECOND / 2);
    RateLimiter.Decision stillRefused = limiter.tryAcquire("a");
    assertFalse(stillRefused.allowed(), "a refused call takes no token, and 1.5 s is not a whole token");
    assertEquals(Duration.ofMillis(500), stillRefused.retryAfter());
    assertEquals(1, stillRefused.retryAfterSeconds(), "Retry-After is rounded up to a whole second");

    clock.addAndGet(SECOND / 2);
    assertTrue(limiter.tryAcquire("a").allowed(), "one token after 2 s");
    assertFalse(limiter.tryAcquire("a").allowed(), "and only one");

    clock.addAndGet(60 * SECOND);
    for (int i = 0; i < 10; i++) {
      assertTrue(limiter.tryAcquire("a").allowed(), "full again after a quiet minute: call " + i);
    }
    assertFalse(limiter.tryAcquire("a").allowed(), "no more than the burst saved up");
  }

  @Test
  void eachKeyHasABucketOfItsOwn() {
    RateLimiter limiter = limiter(30, 2, 100);
    assertTrue(limiter.tryAcquire("a").allowed());
    assertTrue(limiter.tryAcquire("a").allowed());
    assertFalse(limiter.tryAcquire("a").allowed());
    assertTrue(limiter.tryAcquire("b").allowed(), "b is not limited by a's calls");
    assertTrue(limiter.tryAcquire("b").allowed());
    assertFalse(limiter.tryAcquire("b").allowed());
  }

  @Test
  void bucketsAreBoundedAndFullOnesAreDroppedWithoutChangingAnswers() {
    RateLimiter limiter = limiter(60, 2, 100); // a token a second
    limiter.tryAcquire("busy");
    limiter.tryAcquire("busy");
    for (int i = 0; i < 1_000; i++) {
      clock.addAndGet(SECOND / 1_000);
      assertTrue(limiter.tryAcquire("idle-" + i).allowed());
      assertTrue(limiter.size() <= 101, () -> "bounded: " + limiter.size());
    }
    // 1 s passed: busy has one token back, not two (its bucket was kept: not full)
    assertTrue(limiter.tryAcquire("busy").allowed());
    assertFalse(limiter.tryAcquire("busy").allowed(), "the eviction did not refill a bucket that was not full");

    // more keys than the bound all called within the same instant: the map stays bounded anyway
    for (int i = 0; i < 1_000; i++) {
      limiter.tryAcquire("burst-" + i);
      assertTrue(limiter.size() <= 101, () -> "bounded: " + limiter.size());
    }
  }

  @Test
  void concurrentCallsNeverSpendMoreThanTheBucket() throws Exception {
    RateLimiter limiter = limiter(1, 50, 100); // the clock stands still: exactly 50 calls may pass
    AtomicInteger allowed = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      Thread thread = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 1_000; i++) {
          if (limiter.tryAcquire("a").allowed()) {
            allowed.incrementAndGet();
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    start.countDown();
    for (Thread thread : threads) {
      thread.join();
    }
    assertEquals(50, allowed.get());
  }

  @Test
  void aLimitNeedsARateABurstAndRoom() {
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter.Settings(0, 10, 10));
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter.Settings(30, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter.Settings(30, 10, 0));
  }
}
