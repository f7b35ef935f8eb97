package io.mysimbdp.node;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Threads of the node's own fixed pools: daemon (they never hold the JVM up), named for thread dumps. */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory of daemon threads named {@code prefix} then 1, 2, ... */
  public static ThreadFactory named(String prefix) {
    AtomicInteger number = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + number.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
