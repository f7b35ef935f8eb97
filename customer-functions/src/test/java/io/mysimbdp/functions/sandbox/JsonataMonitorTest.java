package io.mysimbdp.functions.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The per-record clock: CPU time of the evaluating thread, so time spent waiting (for a core, for
 * another tenant's garbage collection) is not charged; and a wall-clock ceiling for a record that
 * keeps waiting.
 */
class JsonataMonitorTest {

  @Test
  void waitingIsNotChargedButComputingIs() throws Exception {
    JsonataMonitor monitor = new JsonataMonitor(
        SandboxLimits.DEFAULT.withTimeout(Duration.ofMillis(50)).withWallClockTimeout(Duration.ofSeconds(30)));
    Thread.sleep(200); // four times the CPU budget of wall clock, almost no CPU
    monitor.checkClockAndMemory();
    LimitViolation stop = assertThrows(LimitViolation.class, () -> {
      long x = 0;
      while (true) {
        for (int i = 0; i < 10_000; i++) {
          x += i ^ x;
        }
        if (x == 42) {
          System.out.println(x);
        }
        monitor.checkClockAndMemory();
      }
    });
    assertEquals(Limit.TIMEOUT, stop.toFunctionException().limit());
    assertEquals("timeout after 50 ms", stop.getMessage());
  }

  /** Late and heavy (a tenth of the CPU budget used): stopped at the wall-clock ceiling. */
  @Test
  void aLateHeavyRecordIsStoppedByTheWallClock() throws Exception {
    JsonataMonitor monitor = new JsonataMonitor(
        SandboxLimits.DEFAULT.withTimeout(Duration.ofMillis(50)).withWallClockTimeout(Duration.ofMillis(100)));
    burnCpu(Duration.ofMillis(6));
    monitor.checkClockAndMemory();
    Thread.sleep(150);
    LimitViolation stop = assertThrows(LimitViolation.class, monitor::checkClockAndMemory);
    assertTrue(stop.getMessage().startsWith("timeout after 100 ms of wall clock (the record's CPU time "), stop.getMessage());
  }

  /** Late but light: starved, not starving anyone; only the hard ceiling (10x) stops it. */
  @Test
  void aLateLightRecordIsStoppedOnlyByTheHardCeiling() throws Exception {
    JsonataMonitor monitor = new JsonataMonitor(
        SandboxLimits.DEFAULT.withTimeout(Duration.ofMillis(50)).withWallClockTimeout(Duration.ofMillis(100)));
    Thread.sleep(150);
    monitor.checkClockAndMemory();
    Thread.sleep(900);
    LimitViolation stop = assertThrows(LimitViolation.class, monitor::checkClockAndMemory);
    assertTrue(stop.getMessage().startsWith("timeout after 1000 ms of wall clock (the record's CPU time "), stop.getMessage());
  }

  private static void burnCpu(Duration cpu) {
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long start = threads.getCurrentThreadCpuTime();
    long x = 0;
    while (threads.getCurrentThreadCpuTime() - start < cpu.toNanos()) {
      for (int i = 0; i < 1_000; i++) {
        x += i ^ x;
      }
    }
    if (x == 42) {
      System.out.println(x);
    }
  }

  @Test
  void theWallClockCeilingIsNeverBelowTheCpuBound() {
    SandboxLimits limits = SandboxLimits.DEFAULT.withTimeout(Duration.ofSeconds(2));
    assertEquals(Duration.ofSeconds(2), limits.wallClockTimeout());
    assertEquals(Duration.ofMillis(500), SandboxLimits.DEFAULT.wallClockTimeout());
    assertThrows(IllegalArgumentException.class, () -> SandboxLimits.DEFAULT.withWallClockTimeout(Duration.ofMillis(50)));
  }
}
