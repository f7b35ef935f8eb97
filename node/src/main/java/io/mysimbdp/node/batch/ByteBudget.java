package io.mysimbdp.node.batch;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The bytes of parsed records that every file ingesting on this node may hold at once
 * ({@code mysimbdp.batch.max-bytes-in-flight}): a parser takes a record's bytes before the record
 * goes on and they come back once its batch is written, so however large the records, the chunks
 * and batches in flight stay within the budget. Fair: a large record waiting for room is not
 * overtaken by small ones. A record larger than the whole budget takes all of it.
 */
final class ByteBudget {
  private static final long POLL_MILLIS = 100;
  private final int total;
  private final Semaphore free;

  ByteBudget(long total) {
    this.total = (int) Math.max(1, Math.min(Integer.MAX_VALUE, total));
    this.free = new Semaphore(this.total, true);
  }

  /**
   * Takes room for {@code bytes}, waiting for it (call only on a blocking-IO thread); answers what it
   * took, 0 when {@code cancelled} became true meanwhile.
   */
  int acquire(long bytes, BooleanSupplier cancelled) {
    int wanted = (int) Math.max(1, Math.min(total, bytes));
    try {
      while (!free.tryAcquire(wanted, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        if (cancelled.getAsBoolean()) {
          return 0;
        }
      }
      return wanted;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }

  void release(int bytes) {
    if (bytes > 0) {
      free.release(bytes);
    }
  }

  /** The room one file's run holds: given back batch by batch, and whatever is left when the run ends. */
  final class Held {
    private long held;
    private boolean closed;

    /** Takes room for a record of {@code bytes}; see {@link ByteBudget#acquire}. */
    int acquire(long bytes, BooleanSupplier cancelled) {
      int taken = ByteBudget.this.acquire(bytes, cancelled);
      synchronized (this) {
        if (!closed) {
          held += taken;
          return taken;
        }
      }
      release(taken);
      return 0;
    }

    /** Gives back room taken by this run (at most what it still holds). */
    void giveBack(int bytes) {
      int back;
      synchronized (this) {
        back = (int) Math.min(bytes, held);
        held -= back;
      }
      release(back);
    }

    /** The run ended: everything it still holds comes back, and it takes no more. */
    void close() {
      int back;
      synchronized (this) {
        closed = true;
        back = (int) held;
        held = 0;
      }
      release(back);
    }
  }

  Held forRun() {
    return new Held();
  }
}
