package io.mysimbdp.node.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The thief stops and continues its process by PID, and always leaves it running. */
class CpuThiefTest {

  @Test
  void stopsTheProcessInTurnsAndLeavesItRunning() throws Exception {
    Process victim = new ProcessBuilder("sleep", "300").start();
    try {
      try (CpuThief thief = CpuThief.start(victim.pid(), 0.8, Duration.ofMillis(200))) {
        Instant deadline = Instant.now().plusSeconds(30);
        boolean seenStopped = false;
        boolean seenRunning = false;
        while (!(seenStopped && seenRunning) && Instant.now().isBefore(deadline)) {
          char state = state(victim.pid());
          seenStopped |= state == 'T';
          seenRunning |= state != 'T';
          Thread.sleep(7);
        }
        assertTrue(seenStopped && seenRunning, "stopped and running in turns");
        while (thief.cycles() < 3 && Instant.now().isBefore(deadline)) {
          Thread.sleep(50);
        }
        assertTrue(thief.cycles() >= 3, "cycles: " + thief.cycles());
        assertTrue(thief.stoppedShare() > 0, "share stopped: " + thief.stoppedShare());
      }
      assertNotEquals('T', state(victim.pid()), "running again once the thief is closed");
      assertTrue(victim.isAlive());
    } finally {
      victim.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusesPausesTheFailureDetectorWouldNotice() {
    assertThrows(IllegalArgumentException.class, () -> CpuThief.start(ProcessHandle.current().pid(), 0.9, Duration.ofSeconds(2)));
    assertThrows(IllegalArgumentException.class, () -> CpuThief.start(ProcessHandle.current().pid(), 1.0, Duration.ofMillis(200)));
  }

  @Test
  void closingAfterTheProcessEndedIsQuiet() throws Exception {
    Process victim = new ProcessBuilder("sleep", "300").start();
    CpuThief thief = CpuThief.start(victim.pid());
    victim.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    thief.close();
    assertEquals(false, victim.isAlive());
  }

  /** The process state letter from /proc/<pid>/stat (R, S, T, ...). */
  static char state(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2);
  }
}
