package io.mysimbdp.node.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * A token bucket per key (a tenant) on this node: {@code burst} calls at once, refilled at
 * {@code perMinute} calls a minute. Never waits: a call over the limit is refused at once with the
 * time until it would be allowed.
 *
 * <p>A bucket is kept as one number, the instant it is full again (the "generic cell rate
 * algorithm" form of a token bucket); a call takes a token by moving that instant one refill
 * interval later, and is refused if that would leave the bucket more than empty. Each key is
 * updated atomically ({@link ConcurrentHashMap#compute}), so concurrent routes never lose or
 * double-spend a token. A bucket that is full again behaves exactly as a missing one, so such
 * entries are dropped whenever the map grows past {@code maxKeys}; only if it is still too big
 * (more than {@code maxKeys} keys all called within the last {@code burst} refill intervals) are
 * the fullest buckets dropped too, which can only let those keys through earlier, never refuse.
 */
public final class RateLimiter {
  /** {@code perMinute} tokens a minute, at most {@code burst} saved up; at most {@code maxKeys} buckets kept. */
  public record Settings(double perMinute, int burst, int maxKeys) {
    public Settings {
      if (!(perMinute > 0) || burst < 1 || maxKeys < 1) {
        throw new IllegalArgumentException("a rate limit needs per-minute > 0, burst >= 1 and max-tenants >= 1: " + perMinute
            + ", " + burst + ", " + maxKeys);
      }
    }

    /** {@code per-minute}, {@code burst}, {@code max-tenants}. */
    public static Settings fromConfig(Config config) {
      return new Settings(config.getDouble("per-minute"), config.getInt("burst"), config.getInt("max-tenants"));
    }
  }

  /** Whether a call may go ahead; if not, how long until one would. */
  public record Decision(boolean allowed, Duration retryAfter) {
    static final Decision ALLOWED = new Decision(true, Duration.ZERO);

    /** Whole seconds to wait (Retry-After), at least 1. */
    public long retryAfterSeconds() {
      return Math.max(1, (retryAfter.toNanos() + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1));
    }
  }

  private final Settings settings;
  private final LongSupplier nanoClock;
  /** Nanoseconds per token. */
  private final long interval;
  /** How far the full-again instant may lie ahead: the whole bucket. */
  private final long capacity;
  /** Key → the {@link #nanoClock} instant its bucket is full again. */
  private final ConcurrentHashMap<String, Long> fullAt = new ConcurrentHashMap<>();
  private final AtomicBoolean evicting = new AtomicBoolean();

  public RateLimiter(Settings settings) {
    this(settings, System::nanoTime);
  }

  /** With a clock of one's own (tests). */
  public RateLimiter(Settings settings, LongSupplier nanoClock) {
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.interval = Math.max(1, (long) (TimeUnit.MINUTES.toNanos(1) / settings.perMinute()));
    try {
      this.capacity = Math.multiplyExact(interval, (long) settings.burst());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("a rate limit whose bucket takes centuries to fill: " + settings, e);
    }
  }

  public Settings settings() {
    return settings;
  }

  /** Takes a token of {@code key}'s bucket if there is one. */
  public Decision tryAcquire(String key) {
    long now = nanoClock.getAsLong();
    long[] wait = {0};
    fullAt.compute(key, (k, full) -> {
      long base = full == null || full - now < 0 ? now : full;
      long next = base + interval;
      if (next - now > capacity) {
        wait[0] = next - now - capacity;
        return full;
      }
      return next;
    });
    if (fullAt.size() > settings.maxKeys()) {
      evict(now);
    }
    return wait[0] == 0 ? Decision.ALLOWED : new Decision(false, Duration.ofNanos(wait[0]));
  }

  /** Buckets kept (tests, metrics). */
  public int size() {
    return fullAt.size();
  }

  /** Drops the full buckets; if that is not enough, the fullest down to 90 % of the bound. One thread at a time; others go on. */
  private void evict(long now) {
    if (!evicting.compareAndSet(false, true)) {
      return;
    }
    try {
      // removeIf on a ConcurrentHashMap's entries removes an entry only if it still has the value tested
      fullAt.entrySet().removeIf(e -> e.getValue() - now <= 0);
      int target = settings.maxKeys() - settings.maxKeys() / 10;
      if (fullAt.size() > settings.maxKeys()) {
        List<Map.Entry<String, Long>> entries = new ArrayList<>(fullAt.entrySet());
        entries.sort((a, b) -> Long.compare(a.getValue() - now, b.getValue() - now));
        for (int i = 0; i < entries.size() && fullAt.size() > target; i++) {
          fullAt.remove(entries.get(i).getKey(), entries.get(i).getValue());
        }
      }
    } finally {
      evicting.set(false);
    }
  }
}
