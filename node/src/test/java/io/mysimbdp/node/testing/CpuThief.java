package io.mysimbdp.node.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes one process slow from outside, as if something else took its CPU: a duty cycle of SIGSTOP
 * and SIGCONT sent to its PID (by default stopped 160 ms of every 200 ms, so it runs at about a
 * fifth of its speed). How a test "steals CPU" from one node without touching the node's code.
 *
 * <p>Each pause stays far below the cluster's failure detector margin
 * ({@code akka.cluster.failure-detector.acceptable-heartbeat-pause} = 3 s, heartbeats every 1 s):
 * the slowed node stays reachable and keeps its tenants, it is only slow. A pause of
 * {@link #MAX_PAUSE} or more is refused.
 *
 * <p>{@link #close()} always leaves the process running (SIGCONT), and so does a shutdown hook if
 * the test JVM exits first.
 *
 * <pre>{@code
 * try (CpuThief thief = CpuThief.start(cluster.node(2).pid())) {            // 80% of each 200 ms
 *   ...
 * }
 * try (CpuThief thief = CpuThief.start(pid, 0.5, Duration.ofMillis(100))) { // 50 ms of each 100 ms
 *   ...
 * }
 * }</pre>
 */
public final class CpuThief implements AutoCloseable {
  public static final double DEFAULT_STOPPED_FRACTION = 0.8;
  public static final Duration DEFAULT_PERIOD = Duration.ofMillis(200);
  /** A third of the failure detector's acceptable heartbeat pause (3 s). */
  public static final Duration MAX_PAUSE = Duration.ofSeconds(1);

  private final long pid;
  private final long stoppedNanos;
  private final long runningNanos;
  private final Thread thread;
  private final Thread resumeOnExit;
  private final AtomicLong cycles = new AtomicLong();
  private final AtomicLong stoppedTotalNanos = new AtomicLong();
  private final long startedAt = System.nanoTime();
  private volatile boolean stopping;

  private CpuThief(long pid, long stoppedNanos, long runningNanos) {
    this.pid = pid;
    this.stoppedNanos = stoppedNanos;
    this.runningNanos = runningNanos;
    this.thread = new Thread(this::run, "cpu-thief-" + pid);
    this.thread.setDaemon(true);
    this.resumeOnExit = new Thread(this::resume, "cpu-thief-resume-" + pid);
  }

  /** Stopped {@value #DEFAULT_STOPPED_FRACTION} of every {@link #DEFAULT_PERIOD}. */
  public static CpuThief start(long pid) {
    return start(pid, DEFAULT_STOPPED_FRACTION, DEFAULT_PERIOD);
  }

  /** Stopped {@code stoppedFraction} (0 < f < 1) of every {@code period}. */
  public static CpuThief start(long pid, double stoppedFraction, Duration period) {
    if (!(stoppedFraction > 0 && stoppedFraction < 1)) {
      throw new IllegalArgumentException("stoppedFraction must be between 0 and 1 (exclusive), was " + stoppedFraction);
    }
    long periodNanos = period.toNanos();
    long stopped = (long) (periodNanos * stoppedFraction);
    if (stopped >= MAX_PAUSE.toNanos()) {
      throw new IllegalArgumentException("a pause of " + Duration.ofNanos(stopped) + " would let the failure detector mark the node unreachable; keep it under " + MAX_PAUSE);
    }
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      throw new IllegalArgumentException("no process " + pid);
    }
    CpuThief thief = new CpuThief(pid, stopped, periodNanos - stopped);
    Runtime.getRuntime().addShutdownHook(thief.resumeOnExit);
    thief.thread.start();
    return thief;
  }

  private void run() {
    try {
      while (!stopping && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        long t0 = System.nanoTime();
        signal("STOP");
        try {
          TimeUnit.NANOSECONDS.sleep(stoppedNanos);
        } finally {
          signal("CONT");
          stoppedTotalNanos.addAndGet(System.nanoTime() - t0);
        }
        cycles.incrementAndGet();
        TimeUnit.NANOSECONDS.sleep(runningNanos);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the process is gone: nothing left to slow down
    } finally {
      resume();
    }
  }

  private void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
    kill.getInputStream().readAllBytes();
    if (!kill.waitFor(10, TimeUnit.SECONDS)) {
      kill.destroyForcibly();
    }
  }

  private void resume() {
    try {
      signal("CONT");
    } catch (IOException e) {
      // gone
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public long pid() {
    return pid;
  }

  /** Completed stop/continue cycles so far. */
  public long cycles() {
    return cycles.get();
  }

  /** The share of wall time the process spent stopped since the start (SIGSTOP to SIGCONT). */
  public double stoppedShare() {
    long elapsed = System.nanoTime() - startedAt;
    return elapsed <= 0 ? 0 : (double) stoppedTotalNanos.get() / elapsed;
  }

  /** Ends the duty cycle and leaves the process running (SIGCONT). */
  @Override
  public void close() {
    stopping = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(15));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    resume();
    try {
      Runtime.getRuntime().removeShutdownHook(resumeOnExit);
    } catch (IllegalStateException e) {
      // the JVM is exiting: the hook runs anyway
    }
  }
}
